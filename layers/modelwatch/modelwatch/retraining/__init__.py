"""Retraining: the training set from labelled captures, and the champion-versus-challenger call."""

from modelwatch.retraining.dataset import LabelledRows, labelled_rows
from modelwatch.retraining.decision import Answers, PromotionDecision, answers_on, decide

__all__ = ["Answers", "LabelledRows", "PromotionDecision", "answers_on", "decide", "labelled_rows"]
