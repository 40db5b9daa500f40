"""Models of every supported library and task, fitted on the demo data, and specs for each task
(shared by the import and registry tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from modelwatch.demo.data import demo_frame

NUMERIC = ["age", "income", "score"]
CATEGORICAL = ["category", "region"]
TARGET = "target"
TASKS = ("binary", "multiclass", "regression")
LIBRARIES = ("sklearn", "xgboost", "lightgbm")
# More scikit-learn models, as (kind, task): HistGradientBoosting pipelines (one-hot encoded
# categories, and the regression with native categorical features on ordinal codes), and bare
# estimators fitted on a frame of the numeric columns.
SKLEARN_CASES = (
    ("hist-gradient-boosting", "binary"),
    ("hist-gradient-boosting", "multiclass"),
    ("hist-gradient-boosting", "regression"),
    ("bare-random-forest", "binary"),
    ("bare-logistic-regression", "multiclass"),
)
# Fitted on the frame's categories; the bare estimators and the tree libraries take numbers only.
WITH_CATEGORIES = ("sklearn", "hist-gradient-boosting")
# Not the spec's order: the import must feed a bare estimator its columns as it was fitted.
BARE_ORDER = ["score", "age", "income"]

FEATURES_TOML = """
[features.age]
type = "numeric"
[features.income]
type = "numeric"
[features.score]
type = "numeric"
"""
CATEGORICAL_TOML = """
[features.category]
type = "categorical"
[features.region]
type = "categorical"
"""


def spec_text(task: str, categorical: bool) -> str:
    """A spec for `task`; XGBoost and LightGBM models fitted on a matrix take the numeric features only."""
    columns = 'positive_class = "1"\n' if task == "binary" else ""
    return (
        f'version = 1\n[model]\nname = "imported-{task}"\ntask = "{task}"\n'
        f'[columns]\ntarget = "{TARGET}"\n{columns}'
        + FEATURES_TOML
        + (CATEGORICAL_TOML if categorical else "")
        + "[serving]\npointer_ttl_seconds = 60\n"
    )


def task_frame(task: str, rows: int, seed: int) -> pd.DataFrame:
    frame = pd.DataFrame(demo_frame(rows, seed))[[*NUMERIC, *CATEGORICAL, "label"]]
    if task == "binary":
        frame[TARGET] = frame["label"].astype(int)
    elif task == "multiclass":
        frame[TARGET] = np.select([frame["score"] < 600, frame["score"] < 720], ["low", "mid"], "high")
        flip = np.random.default_rng(seed).random(rows) < 0.1
        frame.loc[flip, TARGET] = "mid"
    else:
        noise = np.random.default_rng(seed).normal(0, 2000, rows)
        frame[TARGET] = frame["income"] * 0.1 + frame["age"] * 50 + (frame["region"] == "north") * 3000 + noise
    return frame.drop(columns="label")


def fit_and_save(library: str, task: str, frame: pd.DataFrame, folder: Path) -> tuple[Path, object]:
    """(model file, fitted model): a scikit-learn pipeline with a ColumnTransformer and a tree
    ensemble, or an XGBoost / LightGBM model (wrapper pickled, or the native file)."""
    import joblib

    target = frame[TARGET]
    if library in dict(SKLEARN_CASES):
        return _fit_more_sklearn(library, task, frame, folder)
    if task == "multiclass" and library != "sklearn":
        # The tree libraries' wrappers want encoded labels; the data set keeps its names for the spec.
        target = target.map({"low": 0, "mid": 1, "high": 2})
    if library == "sklearn":
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder

        preprocess = ColumnTransformer(
            [
                # No scaler: trees need none, and float32 scaling would move values across splits.
                ("numeric", SimpleImputer(), NUMERIC),
                ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ]
        )
        estimator = (
            GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=0)
            if task == "regression"
            else RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0)
        )
        model = Pipeline([("preprocess", preprocess), ("model", estimator)])
        model.fit(frame[[*NUMERIC, *CATEGORICAL]], target.astype(str) if task != "regression" else target)
        path = folder / "model.joblib"
        joblib.dump(model, path)
        return path, model
    features = frame[NUMERIC]
    if library == "xgboost":
        import xgboost

        kind = xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier
        model = kind(n_estimators=30, max_depth=4)
        model.fit(features, target)
        if task == "multiclass":  # the native file, as a training job leaves it
            path = folder / "model.json"
            model.get_booster().save_model(str(path))
            return path, model
        path = folder / "model.joblib"
        joblib.dump(model, path)
        return path, model
    import lightgbm

    kind = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    model = kind(n_estimators=30, num_leaves=15, verbose=-1)
    model.fit(features, target)
    if task == "binary":  # the native text file
        path = folder / "model.txt"
        model.booster_.save_model(str(path))
        return path, model
    path = folder / "model.joblib"
    joblib.dump(model, path)
    return path, model


def _fit_more_sklearn(kind: str, task: str, frame: pd.DataFrame, folder: Path) -> tuple[Path, object]:
    import joblib
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    target = frame[TARGET] if task == "regression" else frame[TARGET].astype(str)
    model: object
    if kind == "hist-gradient-boosting":
        native = task == "regression"
        encoder = (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
            if native
            else OneHotEncoder(handle_unknown="ignore")
        )
        preprocess = ColumnTransformer([("numeric", "passthrough", NUMERIC), ("categorical", encoder, CATEGORICAL)])
        kind_ = HistGradientBoostingRegressor if native else HistGradientBoostingClassifier
        # The ordinal codes are the ColumnTransformer's last two columns.
        estimator = kind_(max_iter=20, random_state=0, categorical_features=[3, 4] if native else None)
        model = Pipeline([("preprocess", preprocess), ("model", estimator)]).fit(
            frame[[*NUMERIC, *CATEGORICAL]], target
        )
        if native:  # the case exists to convert categorical splits: it must have some
            assert any(p.nodes["is_categorical"].any() for ps in estimator._predictors for p in ps)
    elif kind == "bare-random-forest":
        model = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(frame[BARE_ORDER], target)
    else:
        model = LogisticRegression(max_iter=1000).fit(frame[BARE_ORDER], target)
    path = folder / "model.joblib"
    joblib.dump(model, path)
    return path, model


def write_case(
    library: str, task: str, folder: Path, rows: int = 1500
) -> tuple[Path, Path, Path, object, pd.DataFrame]:
    """(model file, data CSV, spec file, fitted model, data) for one library and task."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = task_frame(task, rows, seed=5)
    if task == "multiclass" and library in ("xgboost", "lightgbm"):  # as the model was fitted: encoded labels
        frame[TARGET] = frame[TARGET].map({"low": 0, "mid": 1, "high": 2})
    model_path, model = fit_and_save(library, task, task_frame(task, rows * 2, seed=4), folder)
    data = folder / "reference.csv"
    frame.to_csv(data, index=False)
    spec = folder / "monitoring.toml"
    spec.write_text(spec_text(task, categorical=library in WITH_CATEGORIES))
    return model_path, data, spec, model, frame
