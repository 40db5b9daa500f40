"""`modelwatch import`: a fitted model and a labelled reference set in, a model folder out.

The folder is what `modelwatch train` writes (model.onnx, manifest.json with its SHA-256,
baseline.json, and for a regression DLE's loss model), plus the spec it was imported with. Nothing
is written until the ONNX graph has answered like the original on every row of the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from modelwatch.catalog.functions import SPEC_NAME
from modelwatch.dle import LossModel, fit_loss_model, loss_model_inputs
from modelwatch.errors import UserInputError
from modelwatch.importing.onnx_export import matrix_order, takes_frame, to_serving_onnx
from modelwatch.importing.sources import SourceModel, load_source_model, original_classes, original_outputs
from modelwatch.importing.zipmap import without_zipmap
from modelwatch.performance import ClassificationCounts, MulticlassCounts, RegressionMoments
from modelwatch.profiles.coercion import as_labels
from modelwatch.registry.folder import ModelFolder
from modelwatch.spec.models import MonitoringSpec
from modelwatch.training.pipeline import feature_matrix
from modelwatch.training.publish import baseline_profile, library_versions

# Largest accepted difference between the original and the ONNX graph: a class probability, or
# a regression's value relative to its size.
TOLERANCE = 1e-4
LIBRARIES = ("numpy", "scikit-learn", "skl2onnx", "xgboost", "lightgbm", "onnxmltools", "onnx", "onnxruntime")


@dataclass(frozen=True)
class ServedGraph:
    """The ONNX graph run as the predict function runs it, with the `.predict(spec, columns)`
    and `.classes`/`.loss_model` that training's baseline builder expects of a model."""

    onnx_bytes: bytes
    classes: list[str]
    loss_model: LossModel | None = None

    def outputs(self, spec: MonitoringSpec, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Probabilities [rows, classes] or values [rows], from float32/string feeds as served."""
        import onnxruntime

        session = onnxruntime.InferenceSession(self.onnx_bytes, providers=["CPUExecutionProvider"])
        feeds = serving_feeds(spec, columns)
        results = session.run(None, feeds)
        if spec.task == "regression":
            return np.asarray(results[0], dtype=np.float64).reshape(-1)
        if len(results) < 2 or not isinstance(results[1], np.ndarray):
            raise UserInputError("the ONNX graph's second output is not a probability tensor")
        return np.asarray(results[1], dtype=np.float64)

    def predict(self, spec: MonitoringSpec, columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        outputs = self.outputs(spec, columns)
        if spec.task == "regression":
            return outputs, None
        return np.array([self.classes[i] for i in outputs.argmax(axis=1)], dtype=object), outputs


def serving_feeds(spec: MonitoringSpec, columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The feeds the predict function builds: numbers as float32 (missing: NaN), categories as
    strings (missing: the reserved missing category)."""
    frame = model_frame(spec, columns)
    feeds = {name: frame[name].to_numpy(np.float32).reshape(-1, 1) for name in spec.numeric_features}
    for name in spec.categorical_features:
        feeds[name] = frame[name].to_numpy(object).reshape(-1, 1)
    return feeds


def model_frame(spec: MonitoringSpec, columns: Mapping[str, np.ndarray]):

    return feature_matrix(spec, columns)


def original_inputs(source: SourceModel, spec: MonitoringSpec, frame) -> Any:
    """The data as the original model was fitted on it: the named frame, or a float64 matrix
    (named when a scikit-learn estimator recorded the names: it checks them)."""
    if takes_frame(source, spec):
        return frame[source.feature_names]
    order = matrix_order(spec, source)
    if source.library == "sklearn" and source.feature_names is not None:
        return frame[order].astype(np.float64)
    return frame[order].to_numpy(np.float64)


def check_graph_inputs(onnx_bytes: bytes, spec: MonitoringSpec, where: Path) -> None:
    """An .onnx file used as is must take exactly the spec's features, typed as they are served."""
    import onnx

    try:
        graph = onnx.load_model_from_string(onnx_bytes).graph
    except Exception as error:  # a damaged or foreign file
        raise UserInputError(f"{where}: not an ONNX model ({error})") from None
    initializers = {i.name for i in graph.initializer}
    inputs = {i.name: i.type.tensor_type.elem_type for i in graph.input if i.name not in initializers}
    unknown = sorted(set(inputs) - set(spec.features))
    missing = sorted(set(spec.features) - set(inputs))
    if unknown or missing:
        raise UserInputError(
            f"{where}: the graph's inputs must be the spec's features, one [rows, 1] tensor each"
            + (f"; inputs not in the spec: {', '.join(unknown)}" if unknown else "")
            + (f"; features without an input: {', '.join(missing)}" if missing else "")
        )
    wrong = [
        f"{name} ({'float' if name in spec.numeric_features else 'string'} expected)"
        for name, elem_type in inputs.items()
        if elem_type != (onnx.TensorProto.FLOAT if name in spec.numeric_features else onnx.TensorProto.STRING)
    ]
    if wrong:
        raise UserInputError(f"{where}: inputs of the wrong type: {', '.join(wrong)}")


def graph_classes(onnx_bytes: bytes, spec: MonitoringSpec, where: Path) -> list[str]:
    """An .onnx classifier's classes: its classifier operator's labels, else the spec's classes."""
    import onnx

    for node in onnx.load_model_from_string(onnx_bytes).graph.node:
        for attribute in node.attribute:
            if attribute.name == "classlabels_strings":
                return [v.decode() for v in attribute.strings]
            if attribute.name == "classlabels_int64s":
                return [str(v) for v in attribute.ints]
    if spec.columns.classes:
        return list(spec.columns.classes)
    raise UserInputError(f"{where}: the graph names no classes: list them in the spec's columns.classes")


def _largest_difference(spec: MonitoringSpec, original: np.ndarray, converted: np.ndarray) -> tuple[int, float]:
    """(row, difference) of the worst row: probabilities absolutely, values relative to their size
    (floored at the predictions' median size, so a value near 0 does not make noise look large)."""
    if spec.task == "regression":
        scale = np.maximum(np.abs(original), max(float(np.median(np.abs(original))), 1e-12))
        per_row = np.abs(converted - original) / scale
    else:
        per_row = np.abs(converted - original).max(axis=1)
    per_row = np.where(np.isnan(per_row), np.inf, per_row)
    row = int(per_row.argmax())
    return row, float(per_row[row])


def _rounding_culprits(source: SourceModel, spec: MonitoringSpec, frame, row: int, original: np.ndarray) -> list[str]:
    """The numeric features whose float32 rounding alone moves the original's answer on `row` by
    more than the tolerance (a value within float32's step of a split threshold)."""
    single = frame.iloc[[row]].copy()
    culprits = []
    for name in spec.numeric_features:
        rounded = single.copy()
        rounded[name] = rounded[name].astype(np.float32).astype(np.float64)
        answer = original_outputs(source, original_inputs(source, spec, rounded), spec.task)
        _, difference = _largest_difference(spec, original[[row]], answer)
        if difference > TOLERANCE:
            culprits.append(f"{name}={single[name].iloc[0]!r}")
    return culprits


def verify_conversion(
    source: SourceModel, spec: MonitoringSpec, frame, original: np.ndarray, converted: np.ndarray
) -> None:
    if original.shape != converted.shape:
        raise UserInputError(
            f"{source.path}: the ONNX graph answers shape {converted.shape}, the original {original.shape}"
        )
    row, difference = _largest_difference(spec, original, converted)
    if difference <= TOLERANCE:
        return
    kind = "relative difference" if spec.task == "regression" else "probability difference"
    culprits = _rounding_culprits(source, spec, frame, row, original)
    cause = (
        f"; float32 rounding of {', '.join(culprits)} alone changes the original's answer (a value on a split)"
        if culprits
        else "; no single input's rounding explains it: the graph computes in float32 (ONNX Runtime's Imputer "
        "has no double kernel), so a step before the trees (a scaler, say) moves a value across a split; "
        "drop that step (trees need no scaling) or convert it yourself and import the .onnx"
    )
    raise UserInputError(
        f"{source.path}: the ONNX conversion disagrees with the original: largest {kind} {difference:.3g} "
        f"(row {row} of the data; tolerance {TOLERANCE:g}){cause}; nothing was written"
    )


def _check_classes(spec: MonitoringSpec, classes: list[str], labels: list[str], where: Path) -> None:
    if spec.task == "binary" and (len(classes) != 2 or spec.columns.positive_class not in classes):
        raise UserInputError(
            f"{where}: a binary model needs two classes including the spec's positive class "
            f"{spec.columns.positive_class!r}; the model's classes are {', '.join(classes)}"
        )
    if spec.task == "multiclass" and spec.columns.classes and set(spec.columns.classes) != set(classes):
        raise UserInputError(
            f"{where}: the model's classes ({', '.join(classes)}) are not the spec's columns.classes "
            f"({', '.join(spec.columns.classes)})"
        )
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise UserInputError(
            f"the data's target has labels the model never predicts: {', '.join(unknown[:5])} "
            f"(its classes: {', '.join(classes)}; a model fitted on encoded labels needs the data encoded alike)"
        )


def _validation_metrics(spec: MonitoringSpec, served: ServedGraph, outputs: np.ndarray, target: np.ndarray):

    if spec.task == "regression":
        return RegressionMoments.from_rows(np.asarray(target, dtype=np.float64), outputs).metrics()
    actual, _ = as_labels(target)
    predicted = [served.classes[i] for i in outputs.argmax(axis=1)]
    if spec.task == "multiclass":
        return MulticlassCounts.from_rows(actual, predicted, outputs, served.classes).metrics()
    positive = spec.columns.positive_class
    return ClassificationCounts.from_rows(
        actual, predicted, outputs[:, served.classes.index(positive)], positive
    ).metrics()


def import_model(
    spec: MonitoringSpec,
    spec_text: str,
    model_path: Path,
    columns: Mapping[str, np.ndarray],
    version: str,
    now: datetime,
) -> tuple[ModelFolder, str]:
    """The model folder of an imported model, and the spec text to keep beside it. `columns` are
    the reference rows with the target (rows without one are dropped by the caller)."""
    return import_source(spec, load_source_model(model_path), columns, version, now), spec_text


def import_source(
    spec: MonitoringSpec,
    source: SourceModel,
    columns: Mapping[str, np.ndarray],
    version: str,
    now: datetime,
    training_rows: int = 0,
) -> ModelFolder:
    """The model folder of a loaded model (a file the user imports, or what a retraining run's
    trainer returned): converted, proved equal to the original on `columns` (labelled rows), which
    also give its validation metrics and baseline. `training_rows`: 0 when trained elsewhere."""

    target_name = spec.columns.target
    assert target_name is not None
    model_path = source.path
    frame = model_frame(spec, columns)
    if source.library == "onnx":
        assert source.onnx is not None
        # A default export's ZipMap taken off: served, the graph answers the probability tensor.
        onnx_bytes = source.onnx if spec.task == "regression" else without_zipmap(source.onnx, model_path)
        check_graph_inputs(onnx_bytes, spec, model_path)
        classes = [] if spec.task == "regression" else graph_classes(onnx_bytes, spec, model_path)
        served = ServedGraph(onnx_bytes, classes)
        outputs = served.outputs(spec, columns)
    else:
        original = original_outputs(source, original_inputs(source, spec, frame), spec.task)
        classes = [] if spec.task == "regression" else original_classes(source, original)
        onnx_bytes = to_serving_onnx(source, spec)
        served = ServedGraph(onnx_bytes, classes)
        outputs = served.outputs(spec, columns)
        verify_conversion(source, spec, frame, original, outputs)
    target = np.asarray(columns[target_name])
    if spec.task != "regression":
        _check_classes(spec, classes, as_labels(target)[0], model_path)
    metrics = _validation_metrics(spec, served, outputs, target)
    if spec.task == "regression":
        try:
            loss_model = fit_loss_model(*loss_model_inputs(spec), columns, outputs, np.asarray(target, np.float64))
        except ValueError as error:
            raise UserInputError(f"the regression's loss model (DLE): {error}") from None
        served = replace(served, loss_model=loss_model)
    baseline = baseline_profile(spec, served, columns, classes)
    loss_bytes = None if served.loss_model is None else served.loss_model.to_bytes()
    return ModelFolder.new_version(
        spec,
        version,
        now,
        artifact=onnx_bytes,
        baseline=baseline,
        loss_model=loss_bytes,
        classes=classes,
        validation_metrics=metrics,
        training_rows=training_rows,
        library_versions={"source": source.description, **library_versions(LIBRARIES)},
    )


def write_imported_folder(folder: ModelFolder, spec_text: str, out: Path) -> None:
    """The model folder, with the spec it was imported with (what `serve --model` serves it with)."""
    folder.write(out)
    (out / SPEC_NAME).write_text(spec_text)


def labelled_rows(columns: Mapping[str, np.ndarray], target: str) -> tuple[dict[str, np.ndarray], int]:
    """The rows with a target, and how many were dropped for lacking one."""
    import pandas as pd

    keep = ~pd.isna(np.asarray(columns[target], dtype=object))
    return {name: np.asarray(values)[keep] for name, values in columns.items()}, int((~keep).sum())
