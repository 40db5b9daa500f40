"""skl2onnx's HistGradientBoosting converters, with two of their gaps filled for `modelwatch import`.

1. skl2onnx 1.20 (`common/tree_ensemble.py`, `add_tree_to_attribute_pairs_hist_gradient_boosting`)
   gives a leaf `missing = False`, a Python bool, in `nodes_missing_value_tracks_true`; recent
   protobuf refuses a bool in ONNX's repeated int field ("Field onnx.AttributeProto.ints: Expected
   an int, got a boolean"), so every HistGradientBoosting model fails to convert. The values are
   cast to int before the node is built.
2. skl2onnx converts a native categorical split (`categorical_features`) as a numeric one, and the
   graph answers wrongly (sklearn-onnx issues 1051 and 1101): ONNX's TreeEnsemble operators (ai.onnx.ml
   3) have no "value in set" test. Each such split becomes a chain of BRANCH_EQ nodes, as
   onnxmltools does for LightGBM's categorical splits, following scikit-learn's predictor.

The original converters still build everything else (base values, post-transform, classes); the
rewrite happens on the attributes they hand to the container.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TREE_OPERATORS = ("TreeEnsembleClassifier", "TreeEnsembleRegressor")
NODE_ATTRIBUTES = (
    "nodes_treeids",
    "nodes_nodeids",
    "nodes_featureids",
    "nodes_modes",
    "nodes_values",
    "nodes_truenodeids",
    "nodes_falsenodeids",
    "nodes_missing_value_tracks_true",
    "nodes_hitrates",
)


def custom_converters() -> dict[type, Any]:
    """`convert_sklearn`'s custom_conversion_functions: the fixed converters, for this call only."""
    from skl2onnx.common._registration import get_converter
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    converters: dict[type, Any] = {}
    for kind, alias in (
        (HistGradientBoostingClassifier, "SklearnHistGradientBoostingClassifier"),
        (HistGradientBoostingRegressor, "SklearnHistGradientBoostingRegressor"),
    ):
        original = get_converter(alias)

        def convert(scope: Any, operator: Any, container: Any, original: Any = original) -> None:
            original(scope, operator, _FixedTrees(container, operator.raw_operator))

        converters[kind] = convert
    return converters


class _FixedTrees:
    """The conversion container, rewriting the tree operator's attributes on their way in."""

    def __init__(self, container: Any, model: Any) -> None:
        self._container = container
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, op_type: str, inputs: Any, outputs: Any, **attributes: Any) -> Any:
        if op_type in TREE_OPERATORS:
            attributes = fixed_tree_attributes(self._model, attributes)
        return self._container.add_node(op_type, inputs, outputs, **attributes)


def fixed_tree_attributes(model: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    attributes = dict(attributes)
    attributes["nodes_missing_value_tracks_true"] = [int(v) for v in attributes["nodes_missing_value_tracks_true"]]
    categorical = getattr(model, "is_categorical_", None)
    if categorical is None or not np.any(categorical):
        return attributes
    return _with_categorical_splits(model, attributes)


def _members(bitset: np.ndarray) -> list[int]:
    """The values set in one of scikit-learn's 256-bit category bitsets (8 uint32 words)."""
    return [v for v in range(32 * len(bitset)) if (int(bitset[v // 32]) >> (v % 32)) & 1]


def _internal_columns(model: Any) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """(the input column of each column the trees split on, each categorical column's values by
    code). With categorical features, scikit-learn (1.4+) fits its trees behind an internal
    ColumnTransformer that puts the categorical columns first and codes their values 0..n-1
    (unseen values become NaN, the missing values' way)."""
    preprocessor = model._preprocessor
    width = preprocessor.n_features_in_
    source = np.zeros(width, dtype=np.int64)
    for name, _, columns in preprocessor.transformers_:
        if name in preprocessor.output_indices_:
            source[preprocessor.output_indices_[name]] = np.arange(width)[columns]
    encoded = range(width)[preprocessor.output_indices_["encoder"]]
    return source, dict(zip(encoded, preprocessor.named_transformers_["encoder"].categories_, strict=True))


def _with_categorical_splits(model: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    known_bitsets, feature_bitset = model._bin_mapper.make_known_categories_bitsets()
    source_column, categories = _internal_columns(model)
    # skl2onnx numbers trees iteration by iteration, one per class in a multiclass model.
    trees = {
        iteration * len(predictors) + k: predictor
        for iteration, predictors in enumerate(model._predictors)
        for k, predictor in enumerate(predictors)
    }
    nodes = {name: list(np.asarray(attributes[name]).tolist()) for name in NODE_ATTRIBUTES}
    next_id = {tree: len(predictor.nodes) for tree, predictor in trees.items()}
    out: dict[str, list[Any]] = {name: [] for name in NODE_ATTRIBUTES}
    for i in range(len(nodes["nodes_treeids"])):
        tree, node_id = nodes["nodes_treeids"][i], nodes["nodes_nodeids"][i]
        predictor = trees[tree]
        node = predictor.nodes[node_id]
        if node["is_leaf"] or not node["is_categorical"]:
            for name in NODE_ATTRIBUTES:
                out[name].append(nodes[name][i])
            if not node["is_leaf"]:
                out["nodes_featureids"][-1] = int(source_column[node["feature_idx"]])
            continue
        feature = int(node["feature_idx"])
        # The bitsets hold codes; the graph sees the values the user fed, the codes' categories.
        values = categories[feature]
        left = {float(values[c]) for c in _members(predictor.raw_left_cat_bitsets[node["bitset_idx"]])}
        known = {float(values[c]) for c in _members(known_bitsets[feature_bitset[feature]])}
        # scikit-learn sends a value in the left set left, another known category right, and
        # anything else (NaN, negative, unseen) the missing values' way: so the chain tests the
        # set on the side missing values do not take, and its last "no" goes the missing way.
        to_left = bool(node["missing_go_to_left"])
        if to_left:
            tested, tested_child, other_child = sorted(known - left), int(node["right"]), int(node["left"])
        else:
            tested, tested_child, other_child = sorted(left), int(node["left"]), int(node["right"])
        # An empty set (never produced by scikit-learn's splitter) tests NaN: never equal.
        tested = tested or [float("nan")]
        ids = [node_id] + [next_id[tree] + k for k in range(len(tested) - 1)]
        next_id[tree] += len(tested) - 1
        for k, value in enumerate(tested):
            out["nodes_treeids"].append(tree)
            out["nodes_nodeids"].append(ids[k])
            out["nodes_featureids"].append(int(source_column[feature]))
            out["nodes_modes"].append("BRANCH_EQ")
            out["nodes_values"].append(float(value))
            out["nodes_truenodeids"].append(tested_child)
            out["nodes_falsenodeids"].append(ids[k + 1] if k + 1 < len(ids) else other_child)
            out["nodes_missing_value_tracks_true"].append(0)
            out["nodes_hitrates"].append(1.0)
    attributes.update(out)
    attributes["nodes_values"] = np.asarray(out["nodes_values"], dtype=np.asarray(attributes["nodes_values"]).dtype)
    return attributes
