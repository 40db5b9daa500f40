"""Retraining: the training set from labelled captures, and the champion-versus-challenger call."""

from modelwatch.retraining.dataset import LabelledRows, labelled_rows
from modelwatch.retraining.decision import PromotionDecision, decide, score_on

__all__ = ["LabelledRows", "PromotionDecision", "decide", "labelled_rows", "score_on"]
