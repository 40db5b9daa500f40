"""Mergeable, serializable summaries of batches of rows."""

from modelwatch.profiles.builder import (
    CONFIDENCE,
    EXPECTED_ABS_ERROR,
    EXPECTED_SQUARED_ERROR,
    POSITIVE_PROBABILITY,
    SCORE_WHEN_NOT_PREDICTED,
    SCORE_WHEN_PREDICTED,
    ProfileBuilder,
    ProfileSchema,
    profile_batch,
)
from modelwatch.profiles.categorical import OTHER, CategoricalColumnProfile
from modelwatch.profiles.dataset import ColumnProfile, DatasetProfile, is_profile_file, merge_profiles
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.sketches import SKETCH_K, SKETCH_RANK_ERROR

__all__ = [
    "CONFIDENCE",
    "EXPECTED_ABS_ERROR",
    "EXPECTED_SQUARED_ERROR",
    "OTHER",
    "POSITIVE_PROBABILITY",
    "SCORE_WHEN_NOT_PREDICTED",
    "SCORE_WHEN_PREDICTED",
    "SKETCH_K",
    "SKETCH_RANK_ERROR",
    "CategoricalColumnProfile",
    "ColumnProfile",
    "DatasetProfile",
    "NumericColumnProfile",
    "ProfileBuilder",
    "ProfileSchema",
    "is_profile_file",
    "merge_profiles",
    "profile_batch",
]
