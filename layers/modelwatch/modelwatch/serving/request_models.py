"""Pydantic models of the API, built from the spec: validation and the OpenAPI document share them.

Out-of-range values and unseen categories are valid here (they are data-quality signals, counted
after validation); types, missing non-nullable values, NaN, Infinity and unknown features are not.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, create_model, model_validator
from pydantic_core import PydanticCustomError

from modelwatch.catalog.capture_line import OUTCOME_KEY_MAX_CHARS
from modelwatch.serving.request_ids import SIGNED_REQUEST_ID
from modelwatch.spec.models import MonitoringSpec

# The model computes in float32: a larger magnitude would become infinity inside it.
FLOAT32_MAX = 3.4028234e38
# A JSON number only: strict, so true/false and "1e5" are refused rather than read as numbers.
StrictNumber = Annotated[float, Field(allow_inf_nan=False, strict=True, ge=-FLOAT32_MAX, le=FLOAT32_MAX)]


def _text(max_chars: int, min_chars: int = 0) -> Any:
    """A text of bounded length: the spec's serving limits keep every accepted record within one
    capture line (modelwatch.catalog.capture_line); a longer one is a 422 naming its field."""
    return Annotated[str, StringConstraints(min_length=min_chars, max_length=max_chars)]


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the offending field, or body / header.content-type / model")
    rule: str = Field(description="the rule broken, e.g. float_parsing, finite_number, extra_forbidden, max_bytes")
    message: str


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: what went wrong, field by field."""

    message: str
    errors: list[FieldError]


def route_responses(success: type[BaseModel], description: str, *statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` for a route: its 200 model and the error statuses it can answer."""
    meaning = {
        400: "Malformed JSON or an empty body",
        413: "Body larger than the spec's serving.max_body_bytes",
        415: "Content type other than application/json",
        422: "Valid JSON that breaks the schema; each field and rule is named",
        503: "No verified model version can be loaded",
    }
    responses = {200: {"description": description, "content": {"application/json": {"model": success}}}}
    for status in statuses:
        responses[status] = {"description": meaning[status], "content": {"application/json": {"model": ErrorBody}}}
    return responses


def _feature_fields(spec: MonitoringSpec) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    category = _text(spec.serving.max_category_chars or 1, min_chars=1)  # set at load (MonitoringSpec)
    for name, feature in spec.features.items():
        kind = StrictNumber if feature.type == "numeric" else category
        description = feature.description or None
        if feature.nullable:
            fields[name] = (kind | None, Field(default=None, description=description))
        else:
            fields[name] = (kind, Field(description=description))
    return fields


def _attributes_model(spec: MonitoringSpec) -> type[BaseModel] | None:
    """The request attributes the spec declares ([attributes]), each an optional text of at most
    its `max_length` characters: strict, so a number or a boolean is a 422 naming the field rather
    than a value turned into text; an undeclared name is a 422 (extra_forbidden). None when the
    spec declares none: the request then has no `attributes` key at all."""
    if not spec.attributes:
        return None
    fields: dict[str, Any] = {
        name: (
            _text(attribute.max_length, min_chars=1) | None,
            Field(default=None, description=attribute.description or None),
        )
        for name, attribute in spec.attributes.items()
    }
    return create_model("Attributes", __config__=ConfigDict(extra="forbid", strict=True), **fields)


# The rule a record sent without its wrapper breaks (the 422's `rule`).
UNWRAPPED_RECORD = "features_wrapper"


def unwrapped_record_check(body: Any, feature_names: frozenset[str]) -> None:
    """A record's fields sent bare, without `{"features": ...}`, is one error saying to wrap them,
    not one "extra input" error per field: the fields are right, only the envelope is missing."""
    if not isinstance(body, dict) or "features" in body or "instances" in body:
        return
    bare = sorted(feature_names.intersection(body))
    if bare:
        shown = ", ".join(bare[:5]) + (", ..." if len(bare) > 5 else "")
        raise PydanticCustomError(
            UNWRAPPED_RECORD,
            # Pydantic fills in {fields} only: the other braces stay as written.
            'the record\'s fields ({fields}) must be wrapped in "features": send {"features": {...}} for one '
            'record, or {"instances": [{...}, ...]} for a batch',
            {"fields": shown},
        )


def api_models(spec: MonitoringSpec) -> dict[str, type[BaseModel]]:
    """The request and response models for one spec (each function builds them once, at import)."""
    features_model = create_model(
        "Features",
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False, strict=False),
        **_feature_fields(spec),
    )
    max_batch = spec.serving.max_batch_size
    feature_names = frozenset(spec.features)
    attributes_model = _attributes_model(spec)
    # Only a spec that declares attributes has the key; without them `attributes` is an unknown
    # field (a 422, extra_forbidden), as any other.
    attribute_fields: dict[str, Any] = (
        {}
        if attributes_model is None
        else {
            "attributes": (
                attributes_model | None,
                Field(
                    default=None,
                    description="Request attributes (the spec's [attributes]): never given to the model, captured "
                    "for segments; they apply to every record of the request",
                ),
            )
        }
    )

    class PredictRequestBase(BaseModel):
        """One record as `features`, or a batch as `instances`."""

        # The validator's rule, stated in the schema too, so the OpenAPI document says it.
        model_config = ConfigDict(
            extra="forbid", json_schema_extra={"oneOf": [{"required": ["features"]}, {"required": ["instances"]}]}
        )
        features: features_model | None = None  # type: ignore[valid-type]
        instances: Annotated[list[features_model], Field(min_length=1, max_length=max_batch)] | None = None  # type: ignore[valid-type]

        @model_validator(mode="before")
        @classmethod
        def _wrapped(cls, body: Any) -> Any:
            unwrapped_record_check(body, feature_names)
            return body

        @model_validator(mode="after")
        def _exactly_one(self) -> PredictRequestBase:
            if (self.features is None) == (self.instances is None):
                raise ValueError("give exactly one of 'features' (one record) or 'instances' (a batch)")
            return self

        def records(self) -> list[dict[str, Any]]:
            rows = [self.features] if self.features is not None else list(self.instances or [])
            return [row.model_dump() for row in rows]

        def request_attributes(self) -> dict[str, str]:
            """The attributes sent (those left out or null are not kept: they read as missing)."""
            given = getattr(self, "attributes", None)
            return {} if given is None else given.model_dump(exclude_none=True)

    # Per request, not per record: an attribute describes the caller (a client id, an app), the
    # same for every record it sends in one batch.
    predict_request = create_model(
        "PredictRequest",
        __base__=PredictRequestBase,
        __doc__=PredictRequestBase.__doc__,
        **attribute_fields,
    )

    if spec.task == "regression":

        class Prediction(BaseModel):  # type: ignore[no-redef]
            request_id: str
            model_version: str
            prediction: float = Field(description="the predicted value")
            warnings: list[str] = []

    else:

        class Prediction(BaseModel):  # type: ignore[no-redef]
            request_id: str
            model_version: str
            prediction: str = Field(description="the predicted class")
            probabilities: dict[str, float] = Field(description="every class's probability")
            confidence: float = Field(description="the top probability (that of the predicted class)")
            warnings: list[str] = []

    class PredictResponse(BaseModel):
        predictions: list[Prediction]

    # An outcome is a finite number, a boolean or a text (NaN and Infinity are refused); texts,
    # labels and the number of outcomes are bounded by the spec, so each item fits a capture line.
    text = _text(spec.serving.max_text_chars or 1)  # set at load (MonitoringSpec)
    outcome_value = Annotated[float, Field(allow_inf_nan=False, strict=True)] | bool | text
    # The form POST /predict issues (modelwatch.serving.request_ids); whether this deployment
    # signed it is checked after validation.
    request_id_type = Annotated[str, StringConstraints(pattern=SIGNED_REQUEST_ID)]
    # A regression's label is the true value: a JSON number (text or true/false is refused with
    # a 422 naming the field, as the performance counts could not use it). A class is a string,
    # an integer or a boolean.
    label_type: Any = (
        Annotated[float, Field(strict=True, allow_inf_nan=False, description="the true value")] | None
        if spec.task == "regression"
        # StrictBool before int: a lax int would read true as 1, and a boolean must stay one so
        # the feedback function can refuse it where the model's classes are not booleans.
        else Annotated[text | StrictBool | int, Field(union_mode="left_to_right")] | None
    )
    outcomes_type = Annotated[
        dict[_text(OUTCOME_KEY_MAX_CHARS, min_chars=1), outcome_value], Field(max_length=spec.serving.max_outcomes)
    ]

    says_something = {"anyOf": [{"required": ["label"]}, {"required": ["outcomes"]}]}

    class FeedbackItem(BaseModel):
        model_config = ConfigDict(extra="forbid", json_schema_extra=says_something)
        request_id: request_id_type
        label: label_type = None
        outcomes: outcomes_type = {}

        @model_validator(mode="after")
        def _says_something(self) -> FeedbackItem:
            if self.label is None and not self.outcomes:
                raise ValueError("give a 'label', 'outcomes', or both")
            return self

    class FeedbackRequest(BaseModel):
        """One item (request_id with label and/or outcomes), or a batch as `items`."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={"oneOf": [{"required": ["items"]}, {"required": ["request_id"], **says_something}]},
        )
        request_id: request_id_type | None = None
        label: label_type = None
        outcomes: outcomes_type | None = None
        items: Annotated[list[FeedbackItem], Field(min_length=1, max_length=max_batch)] | None = None

        @model_validator(mode="after")
        def _single_or_batch(self) -> FeedbackRequest:
            single = self.request_id is not None or self.label is not None or self.outcomes is not None
            if single == (self.items is not None):
                raise ValueError("give one item (request_id, label, outcomes) or a batch as 'items'")
            if single and self.request_id is None:
                raise ValueError("'request_id' is required")
            if single and self.label is None and not self.outcomes:
                raise ValueError("give a 'label', 'outcomes', or both")
            return self

        def feedback_items(self) -> list[FeedbackItem]:
            if self.items is not None:
                return list(self.items)
            return [
                FeedbackItem.model_construct(request_id=self.request_id, label=self.label, outcomes=self.outcomes or {})
            ]

    class FeedbackResponse(BaseModel):
        accepted: int

    return {
        "ErrorBody": ErrorBody,
        "Features": features_model,
        "PredictRequest": predict_request,
        "PredictResponse": PredictResponse,
        "FeedbackItem": FeedbackItem,
        "FeedbackRequest": FeedbackRequest,
        "FeedbackResponse": FeedbackResponse,
    }
