"""CloudWatch metric math, locally: one period's value of an expression over its inputs' values
for that period. The subset the catalogue's expressions use ("Metric math syntax and functions"
in the CloudWatch User Guide): numbers, input ids, + - * /, comparisons (true is 1, false 0),
IF(condition, then, else), and MAX/MIN of an array such as MAX([requests, 1]).

The text is parsed as a Python expression (the subset's syntax coincides) and walked node by
node; anything else is refused rather than guessed at."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

_ARITHMETIC: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARISONS: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class UnsupportedExpressionError(ValueError):
    """The expression uses metric math the local runtime does not evaluate."""


def evaluate_expression(expression: str, values: Mapping[str, float]) -> float | None:
    """The expression's value; None where CloudWatch returns no datapoint (a division by zero)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise UnsupportedExpressionError(f"{expression!r}: {error.msg}") from error
    try:
        return _value(tree.body, values)
    except ZeroDivisionError:
        return None


def _value(node: ast.expr, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise UnsupportedExpressionError(f"{node.id} is not an input of the expression")
        return values[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, values)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_value(node.left, values), _value(node.right, values))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARISONS:
        truth = _COMPARISONS[type(node.ops[0])](_value(node.left, values), _value(node.comparators[0], values))
        return 1.0 if truth else 0.0
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name, arguments = node.func.id, node.args
        if name == "IF" and len(arguments) == 3:
            # Only the branch taken is computed, so IF(requests > 0, errors / requests, 0) never divides by 0.
            chosen = arguments[1] if _value(arguments[0], values) != 0 else arguments[2]
            return _value(chosen, values)
        if name in ("MAX", "MIN") and len(arguments) == 1 and isinstance(arguments[0], ast.List):
            items = [_value(item, values) for item in arguments[0].elts]
            return max(items) if name == "MAX" else min(items)
    raise UnsupportedExpressionError(f"{ast.unparse(node)} is not metric math the local runtime evaluates")
