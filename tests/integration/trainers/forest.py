"""A team's trainer: a random forest behind a ColumnTransformer, fitted on the frame it is given."""

from __future__ import annotations

from typing import Any

from modelwatch.spec.models import MonitoringSpec


def forest_pipeline(spec: MonitoringSpec) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    preprocess = ColumnTransformer(
        [
            # No scaler: trees need none, and float32 scaling would move values across splits.
            ("numeric", SimpleImputer(), spec.numeric_features),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), spec.categorical_features),
        ]
    )
    forest = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0)
    return Pipeline([("preprocess", preprocess), ("model", forest)])


def fit(frame: Any, spec: MonitoringSpec) -> Any:
    target = spec.columns.target
    model = forest_pipeline(spec)
    model.fit(frame[list(spec.features)], frame[target])
    return model
