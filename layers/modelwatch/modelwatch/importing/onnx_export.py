"""Conversion to the ONNX graph ModelWatch serves: one [rows, 1] input per spec feature (numbers
as float32, categories as strings), and for a classifier (label, probabilities tensor) outputs.

The inputs are float32 because that is what the predict function feeds and what ONNX Runtime's
tree and imputer operators compute in; the import's check then proves on the user's data that
the rounding changes no answer, and names the feature when it does.
"""

from __future__ import annotations

from typing import Any

from modelwatch.errors import UserInputError
from modelwatch.graph_bytes import graph_bytes
from modelwatch.importing.hist_gradient_boosting import custom_converters
from modelwatch.importing.sources import SourceModel
from modelwatch.spec.models import MonitoringSpec

# skl2onnx reaches opset 17+; onnxmltools 1.16 converts XGBoost and LightGBM up to opset 15.
SKLEARN_OPSET = 17
TREE_LIBRARY_OPSET = 15
# The converted model's single matrix input, fed by a Concat of the per-feature inputs
# (reserved prefix: never a feature name).
MATRIX_INPUT = "__features__"


def matrix_order(spec: MonitoringSpec, source: SourceModel) -> list[str]:
    """The features, in the order a model fitted on a matrix takes its columns."""
    names = source.feature_names or list(spec.features)
    unknown = [n for n in names if n not in spec.features]
    missing = [n for n in spec.features if n not in names]
    if unknown or missing:
        raise UserInputError(
            f"{source.path}: the model's features do not match the spec's"
            + (f"; not in the spec: {', '.join(unknown)}" if unknown else "")
            + (f"; not in the model: {', '.join(missing)}" if missing else "")
        )
    categorical = [n for n in names if n in spec.categorical_features]
    if categorical:
        raise UserInputError(
            f"{source.path}: {source.description} takes a matrix of numbers, but {', '.join(categorical)} "
            "is categorical in the spec: fit a scikit-learn pipeline that encodes it, or declare it numeric"
        )
    return names


def takes_frame(source: SourceModel, spec: MonitoringSpec) -> bool:
    """A scikit-learn model that picks its columns by name (a ColumnTransformer, alone or first in
    a pipeline), fitted on exactly the spec's features; anything else, a bare estimator fitted on
    a frame included, takes a numeric matrix in the order it was fitted with."""
    names = source.feature_names
    return (
        source.library == "sklearn"
        and names is not None
        and set(names) == set(spec.features)
        and _selects_columns(source.model)
    )


def _selects_columns(model: Any) -> bool:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    while isinstance(model, Pipeline):
        model = model.steps[0][1]
    return isinstance(model, ColumnTransformer)


def to_serving_onnx(source: SourceModel, spec: MonitoringSpec) -> bytes:
    model = _from_sklearn(source, spec) if source.library == "sklearn" else _from_tree_library(source, spec)
    return graph_bytes(model)


def _not_convertible(source: SourceModel, error: BaseException) -> UserInputError:
    """The refusal, quoting the innermost exception: the converters wrap the real cause (a missing
    converter, a bad attribute) in messages that dump whole attribute arrays."""
    while (inner := error.__cause__ or error.__context__) is not None:
        error = inner
    message = " ".join(str(error).split())[:300]
    return UserInputError(
        f"{source.path}: cannot convert {source.description} to ONNX: {type(error).__name__}: {message} "
        "(convert it yourself and import the .onnx file)"
    )


def _from_sklearn(source: SourceModel, spec: MonitoringSpec) -> Any:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    if takes_frame(source, spec):
        assert source.feature_names is not None
        inputs = [
            (name, StringTensorType([None, 1]) if name in spec.categorical_features else FloatTensorType([None, 1]))
            for name in source.feature_names
        ]
    else:
        order = matrix_order(spec, source)
        inputs = [(MATRIX_INPUT, FloatTensorType([None, len(order)]))]
    options = {} if spec.task == "regression" else {id(source.model): {"zipmap": False}}
    try:
        model = convert_sklearn(
            source.model,
            initial_types=inputs,
            options=options,
            target_opset=SKLEARN_OPSET,
            custom_conversion_functions=custom_converters(),
        )
    except Exception as error:  # skl2onnx raises many types for "no converter": all mean the same here
        raise _not_convertible(source, error) from None
    return model if takes_frame(source, spec) else _with_feature_inputs(model, matrix_order(spec, source))


def _from_tree_library(source: SourceModel, spec: MonitoringSpec) -> Any:
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    order = matrix_order(spec, source)
    inputs = [(MATRIX_INPUT, FloatTensorType([None, len(order)]))]
    try:
        if source.library == "xgboost":
            model = convert_xgboost(
                _unnamed_booster(source.model), initial_types=inputs, target_opset=TREE_LIBRARY_OPSET
            )
        else:
            model = convert_lightgbm(source.model, initial_types=inputs, target_opset=TREE_LIBRARY_OPSET, zipmap=False)
    except Exception as error:  # as above: any failure is "cannot convert this model"
        raise _not_convertible(source, error) from None
    return _with_feature_inputs(model, order)


def _unnamed_booster(model: Any) -> Any:
    """The XGBoost booster with its columns unnamed: onnxmltools reads splits only as 'f<index>'
    (the order is `matrix_order`'s, which the names fixed)."""
    booster = (model.get_booster() if hasattr(model, "get_booster") else model).copy()
    booster.feature_names = None
    booster.feature_types = None
    return booster


def _with_feature_inputs(model: Any, order: list[str]) -> Any:
    """The graph with one float input per feature, concatenated (in `order`) into its matrix input,
    as the predict function feeds every model."""
    from onnx import TensorProto, helper

    graph = model.graph
    (matrix,) = [i for i in graph.input if i.name == MATRIX_INPUT]
    graph.input.remove(matrix)
    for name in order:
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, 1]))
    graph.node.insert(0, helper.make_node("Concat", order, [MATRIX_INPUT], axis=1, name="modelwatch_features"))
    return model
