"""Mergeable, serializable summaries of batches of rows."""

from modelwatch.profiles.builder import POSITIVE_PROBABILITY, ProfileBuilder, ProfileSchema, profile_batch
from modelwatch.profiles.categorical import OTHER, CategoricalColumnProfile
from modelwatch.profiles.dataset import ColumnProfile, DatasetProfile, is_profile_file, merge_profiles
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.sketches import SKETCH_K, SKETCH_RANK_ERROR

__all__ = [
    "OTHER",
    "POSITIVE_PROBABILITY",
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
