"""What one capture line may hold, and the worst case of each record the API accepts.

Captures, feedback and rejected requests reach S3 as log lines (modelwatch.serving.capture), and
CloudWatch Logs cuts an event at 256 KB: a record larger than a line would be lost after the API
answered 200. So every accepted record must fit one line whatever its text holds. The spec bounds
what a request may carry (serving.max_outcomes, max_text_chars, max_category_chars); the spec's
validation checks the worst case here against the line budget at load, and derives the defaults
from it, so no accepted request can make a line too long.

The worst case counts every character at its longest JSON encoding: a control character is
written \\u00XX, six bytes (a non-ASCII character is at most four bytes of UTF-8; the API refuses
lone surrogates, which JSON could only escape).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

LOG_EVENT_MAX_BYTES = 256 * 1024  # CloudWatch Logs' event limit (message and 26 bytes of overhead)
MAX_LINE_BYTES = 200_000  # a capture line's records: below the event limit, with room for the envelope
MAX_BYTES_PER_CHAR = 6  # "\u0001": the longest encoding of one character in a JSON string
NUMBER_MAX_BYTES = 24  # the longest JSON number a float writes (-2.2250738585072014e-308)
REQUEST_ID_MAX_CHARS = 128  # a bound on request ids (signed ones are 48 hex digits), one byte each
OUTCOME_KEY_MAX_CHARS = 64
# Field names, quotes, commas, the model version and the timestamps of one record, rounded up.
RECORD_OVERHEAD_BYTES = 512
# What a capture record's prediction may take beside its features: the class, and every class's
# probability (a hundred classes with 64-character names, at the worst encoding, fit).
PREDICTION_ALLOWANCE_BYTES = 100 * (2 + OUTCOME_KEY_MAX_CHARS * MAX_BYTES_PER_CHAR + 1 + NUMBER_MAX_BYTES + 1)

# The capture record's key of the request's attributes (modelwatch.serving.capture).
ATTRIBUTES_KEY = "attributes"

# Defaults, when the spec does not set them (each lowered when the line could not hold it).
DEFAULT_MAX_OUTCOMES = 20
DEFAULT_MAX_TEXT_CHARS = 1024
DEFAULT_MAX_CATEGORY_CHARS = 256


def text_bytes(chars: int) -> int:
    """The longest encoding of a JSON string of `chars` characters, its quotes included."""
    return 2 + chars * MAX_BYTES_PER_CHAR


def label_record_bytes(max_outcomes: int, max_text_chars: int) -> int:
    """The largest feedback record the API can accept: the longest request id, a text label and
    every outcome key a text value, all of the longest length, every character at its worst."""
    value = max(text_bytes(max_text_chars), NUMBER_MAX_BYTES)
    outcome = text_bytes(OUTCOME_KEY_MAX_CHARS) + 1 + value + 1  # "key":value,
    return RECORD_OVERHEAD_BYTES + REQUEST_ID_MAX_CHARS + value + max_outcomes * outcome


def capture_record_bytes(
    numeric: Iterable[str],
    categorical: Iterable[str],
    max_category_chars: int,
    attributes: Mapping[str, int] | None = None,
) -> int:
    """The largest capture record of one accepted prediction: each feature's name and its longest
    value, each request attribute's (`attributes`: name -> its longest value, in characters) with
    their own object's key, the prediction allowance and the record's own fields."""
    size = RECORD_OVERHEAD_BYTES + REQUEST_ID_MAX_CHARS + PREDICTION_ALLOWANCE_BYTES
    size += sum(text_bytes(len(name)) + 1 + NUMBER_MAX_BYTES + 1 for name in numeric)
    size += sum(text_bytes(len(name)) + 1 + text_bytes(max_category_chars) + 1 for name in categorical)
    if attributes:
        size += text_bytes(len(ATTRIBUTES_KEY)) + 3  # "attributes":{...},
        size += sum(text_bytes(len(name)) + 1 + text_bytes(chars) + 1 for name, chars in attributes.items())
    return size


def largest_text_chars(max_outcomes: int) -> int:
    """The longest outcome text or label with which `max_outcomes` outcomes still fit one line
    (0 when not even empty texts fit)."""
    return _largest(lambda chars: label_record_bytes(max_outcomes, chars))


def largest_category_chars(
    numeric: list[str], categorical: list[str], attributes: Mapping[str, int] | None = None
) -> int:
    """The longest categorical value with which every feature's worst case (and every request
    attribute's) still fits one line."""
    return _largest(lambda chars: capture_record_bytes(numeric, categorical, chars, attributes))


def _largest(size_of: Callable[[int], int]) -> int:
    """The largest length whose worst case fits MAX_LINE_BYTES (sizes grow with the length)."""
    low, high = 0, MAX_LINE_BYTES
    if size_of(low) > MAX_LINE_BYTES:
        return 0
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if size_of(middle) <= MAX_LINE_BYTES else (low, middle - 1)
    return low
