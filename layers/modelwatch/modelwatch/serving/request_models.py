"""Pydantic models of the API, built from the spec: validation and the OpenAPI document share them.

Out-of-range values and unseen categories are valid here (they are data-quality signals, counted
after validation); types, missing non-nullable values, NaN, Infinity and unknown features are not.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator

from modelwatch.spec.models import MonitoringSpec

StrictNumber = Annotated[float, Field(allow_inf_nan=False, strict=False)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=256)]


def _feature_fields(spec: MonitoringSpec) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, feature in spec.features.items():
        kind = StrictNumber if feature.type == "numeric" else Category
        description = feature.description or None
        if feature.nullable:
            fields[name] = (kind | None, Field(default=None, description=description))
        else:
            fields[name] = (kind, Field(description=description))
    return fields


def api_models(spec: MonitoringSpec) -> dict[str, type[BaseModel]]:
    """The request and response models for one spec (each function builds them once, at import)."""
    features_model = create_model(
        "Features",
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False, strict=False),
        **_feature_fields(spec),
    )
    max_batch = spec.serving.max_batch_size

    class PredictRequest(BaseModel):
        """One record as `features`, or a batch as `instances`."""

        model_config = ConfigDict(extra="forbid")
        features: features_model | None = None  # type: ignore[valid-type]
        instances: Annotated[list[features_model], Field(min_length=1, max_length=max_batch)] | None = None  # type: ignore[valid-type]

        @model_validator(mode="after")
        def _exactly_one(self) -> PredictRequest:
            if (self.features is None) == (self.instances is None):
                raise ValueError("give exactly one of 'features' (one record) or 'instances' (a batch)")
            return self

        def records(self) -> list[dict[str, Any]]:
            rows = [self.features] if self.features is not None else list(self.instances or [])
            return [row.model_dump() for row in rows]

    class Prediction(BaseModel):
        request_id: str
        model_version: str
        prediction: str
        probabilities: dict[str, float]
        confidence: float
        warnings: list[str] = []

    class PredictResponse(BaseModel):
        predictions: list[Prediction]

    outcome_value = float | bool | str

    class FeedbackItem(BaseModel):
        model_config = ConfigDict(extra="forbid")
        request_id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
        label: Annotated[str | int | bool, Field(union_mode="left_to_right")] | None = None
        outcomes: dict[Annotated[str, StringConstraints(max_length=64)], outcome_value] = {}

        @model_validator(mode="after")
        def _says_something(self) -> FeedbackItem:
            if self.label is None and not self.outcomes:
                raise ValueError("give a 'label', 'outcomes', or both")
            return self

    class FeedbackRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        request_id: str | None = None
        label: str | int | bool | None = None
        outcomes: dict[str, outcome_value] | None = None
        items: Annotated[list[FeedbackItem], Field(min_length=1, max_length=max_batch)] | None = None

        @model_validator(mode="after")
        def _single_or_batch(self) -> FeedbackRequest:
            single = self.request_id is not None or self.label is not None or self.outcomes is not None
            if single == (self.items is not None):
                raise ValueError("give one item (request_id, label, outcomes) or a batch as 'items'")
            return self

        def feedback_items(self) -> list[FeedbackItem]:
            if self.items is not None:
                return list(self.items)
            return [FeedbackItem(request_id=self.request_id or "", label=self.label, outcomes=self.outcomes or {})]

    class FeedbackResponse(BaseModel):
        accepted: int
        unknown_request_ids: int

    return {
        "Features": features_model,
        "PredictRequest": PredictRequest,
        "PredictResponse": PredictResponse,
        "FeedbackItem": FeedbackItem,
        "FeedbackRequest": FeedbackRequest,
        "FeedbackResponse": FeedbackResponse,
    }
