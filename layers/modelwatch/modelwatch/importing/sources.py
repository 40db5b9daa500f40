"""Model files a user brings, loaded on their machine, and run as the original library runs them.

Pickle and joblib files execute code when loaded: they are loaded only here, by the command the
user runs on a file they chose, never by anything running in AWS (serving loads ONNX only).
"""

from __future__ import annotations

import importlib
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelwatch.errors import UserInputError
from modelwatch.profiles.coercion import as_labels

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
# A tree library's default names for unnamed columns: the model then takes them in the spec's order.
GENERATED_NAME = re.compile(r"(Column_|f)\d+")


@dataclass(frozen=True)
class SourceModel:
    """A loaded model: `onnx` bytes used as is, or a fitted object of `library`."""

    path: Path
    library: str  # "onnx", "sklearn", "xgboost" or "lightgbm"
    model: Any = None
    onnx: bytes | None = None
    # The columns the model was fitted on, in order, when it recorded them.
    feature_names: list[str] | None = field(default=None)

    @property
    def description(self) -> str:
        return "ONNX graph" if self.library == "onnx" else type(self.model).__name__


def _library_of(model: Any) -> str:
    module = type(model).__module__.split(".", 1)[0]
    if module in ("xgboost", "lightgbm"):
        return module
    if module == "sklearn" or (hasattr(model, "fit") and hasattr(model, "get_params")):
        return "sklearn"
    raise UserInputError(
        f"{type(model).__module__}.{type(model).__name__} is not a model ModelWatch can import: "
        "save a scikit-learn estimator or pipeline, an XGBoost or LightGBM model, or an ONNX graph"
    )


def _names(model: Any, library: str) -> list[str] | None:
    names: Any = None
    if library == "sklearn" or hasattr(model, "feature_names_in_"):
        names = getattr(model, "feature_names_in_", None)
    if names is None and library == "xgboost":
        booster = model.get_booster() if hasattr(model, "get_booster") else model
        names = booster.feature_names
    if names is None and library == "lightgbm":
        booster = model.booster_ if hasattr(model, "booster_") else model
        names = booster.feature_name()
    if names is None:
        return None
    names = [str(n) for n in names]
    return None if all(GENERATED_NAME.fullmatch(n) for n in names) else names


def fitted_source_model(model: Any, where: Path) -> SourceModel:
    """A model object already in memory (what a retraining trainer returns): ONNX bytes, a path to
    any file `load_source_model` reads, or a fitted scikit-learn, XGBoost or LightGBM model.
    `where` names it in messages."""
    if isinstance(model, bytes | bytearray):
        return SourceModel(where, "onnx", onnx=bytes(model))
    if isinstance(model, str | Path):
        return load_source_model(Path(model))
    library = _library_of(model)
    return SourceModel(where, library, model=model, feature_names=_names(model, library))


def load_source_model(path: Path) -> SourceModel:
    """The model in `path`, by its suffix: .onnx, .joblib/.pkl/.pickle, XGBoost's .json/.ubj,
    LightGBM's .txt."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return SourceModel(path, "onnx", onnx=path.read_bytes())
    if suffix in PICKLE_SUFFIXES:
        try:
            import joblib

            model = joblib.load(path)  # runs code from the file: the user chose to trust it
        except ModuleNotFoundError as error:
            raise UserInputError(
                f"{path}: loading it needs package {error.name!r} (pip install {error.name})"
            ) from None
        except (pickle.UnpicklingError, EOFError, ValueError, KeyError) as error:
            raise UserInputError(f"{path}: not a joblib or pickle file ({error})") from None
        library = _library_of(model)
        return SourceModel(path, library, model=model, feature_names=_names(model, library))
    if suffix in (".json", ".ubj"):
        xgboost = _require("xgboost", path)
        booster = xgboost.Booster()
        try:
            booster.load_model(str(path))
        except xgboost.core.XGBoostError as error:
            raise UserInputError(f"{path}: not an XGBoost model ({str(error).splitlines()[0]})") from None
        return SourceModel(path, "xgboost", model=booster, feature_names=_names(booster, "xgboost"))
    if suffix == ".txt":
        lightgbm = _require("lightgbm", path)
        try:
            booster = lightgbm.Booster(model_file=str(path))
        except lightgbm.basic.LightGBMError as error:
            raise UserInputError(f"{path}: not a LightGBM model ({str(error).splitlines()[0]})") from None
        return SourceModel(path, "lightgbm", model=booster, feature_names=_names(booster, "lightgbm"))
    raise UserInputError(
        f"{path}: unknown model file type {suffix!r} (expected .onnx, .joblib, .pkl, .pickle, "
        "XGBoost .json/.ubj or LightGBM .txt)"
    )


def _require(package: str, path: Path) -> Any:

    try:
        return importlib.import_module(package)
    except ModuleNotFoundError:
        raise UserInputError(f"{path}: reading it needs package {package!r} (pip install {package})") from None


def _is_booster(model: Any) -> bool:
    return type(model).__name__ == "Booster"


def original_outputs(source: SourceModel, inputs: Any, task: str) -> np.ndarray:
    """What the original model answers for `inputs` (a frame or a float64 matrix, as it was fitted):
    class probabilities [rows, classes] for a classifier, values [rows] for a regressor."""
    model = source.model
    if _is_booster(model):
        if source.library == "xgboost":
            import xgboost

            raw = model.predict(xgboost.DMatrix(inputs, feature_names=model.feature_names))
        else:
            raw = model.predict(inputs)
        raw = np.asarray(raw, dtype=np.float64)
        if task == "regression":
            return raw.reshape(-1)
        # A binary booster answers P(class 1) only.
        return np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw
    if task == "regression":
        return np.asarray(model.predict(inputs), dtype=np.float64).reshape(-1)
    if not hasattr(model, "predict_proba"):
        raise UserInputError(
            f"{type(model).__name__} has no predict_proba: a {task} model must give class probabilities"
        )
    return np.asarray(model.predict_proba(inputs), dtype=np.float64)


def original_classes(source: SourceModel, probabilities: np.ndarray) -> list[str]:
    """The classes in the order of the model's probability columns, as ModelWatch labels them."""

    classes = getattr(source.model, "classes_", None)
    if classes is None:  # a booster: its classes are the encoded labels 0..K-1
        classes = np.arange(probabilities.shape[1])
    labels, _ = as_labels(np.asarray(classes))
    return labels
