"""Multivariate drift: what univariate tests miss (a correlation that flips while every marginal
stays put). Two methods, each judged at the sizes of both samples:

- `pca_reconstruction`: the PCA reconstruction error of the window's rows under the reference's
  PCA (stats.pca), against the reference rows' own (out-of-sample) errors. The score is how
  often a window error outranks a reference error (0.5 without drift), against the
  Mann-Whitney spread at both sizes (drift above "threshold" or below "lower_threshold"); the
  mean errors, as NannyML reports them, are beside it. The window's errors come from every row
  when the profile was made with the baseline's model (profiled where records are profiled),
  else from its row sample.
- `domain_classifier`: the cross-fitted ROC AUC of a classifier telling reference rows from
  window rows (stats.classifier), on the profiles' bounded row samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from modelwatch.profiles.rows import RowsProfile
from modelwatch.sketches import SKETCH_RANK_ERROR
from modelwatch.spec.models import DriftSettings
from modelwatch.stats.classifier import domain_classifier_auc
from modelwatch.stats.pca import PcaModel, reference_model

MultivariateMethod = Literal["pca_reconstruction", "domain_classifier"]
# The classifier trains on halves of each sample: fewer rows than this per side say nothing.
MIN_CLASSIFIER_ROWS = 100


@dataclass(frozen=True)
class MultivariateDrift:
    method: MultivariateMethod
    status: Literal["ok", "insufficient_data"]
    score: float | None = None
    threshold: float | None = None
    drifted: bool | None = None
    reference_rows: int = 0
    current_rows: int = 0
    details: dict[str, Any] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status,
            "score": self.score,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            **(self.details or {}),
            "note": self.note,
        }


def analyze_multivariate(
    reference: RowsProfile | None, current: RowsProfile | None, settings: DriftSettings
) -> list[MultivariateDrift]:
    if reference is None or len(reference.features) < 2:
        return []
    if current is None or current.features != reference.features:
        current = RowsProfile(reference.features)
    results = []
    options = settings.multivariate
    if options.pca_reconstruction:
        results.append(_pca_reconstruction(reference, current, settings))
    if options.domain_classifier:
        results.append(_domain_classifier(reference, current, settings))
    return results


REFERENCE_FOLDS = 10


def _reference_errors(reference: RowsProfile, model: PcaModel, settings: DriftSettings) -> np.ndarray:
    """The reference rows' errors as a new row's would be: out of sample. Where the sample is a
    large part of the reference, each tenth of it is scored by a PCA fitted without that tenth
    (the reference's co-moments less the tenth's); in-sample errors are too small and made 40%
    of stable windows look drifted against a 1,000-row reference."""
    sample = reference.sample
    if len(sample) * 10 < reference.count:
        return model.errors(sample)
    folds = (reference.keys % np.uint64(REFERENCE_FOLDS)).astype(np.int64)
    errors = np.empty(len(sample))
    for fold in range(REFERENCE_FOLDS):
        part = folds == fold
        held_out = sample[part]
        if not len(held_out):
            continue
        rest_count = reference.count - len(held_out)
        if rest_count < 2:
            return model.errors(sample)
        centred = held_out - held_out.mean(axis=0)
        rest_mean = (reference.mean * reference.count - held_out.sum(axis=0)) / rest_count
        delta = held_out.mean(axis=0) - rest_mean
        # Chan et al.'s merge of co-moments, run backwards: the reference without this part.
        between = np.outer(delta, delta) * rest_count * len(held_out) / reference.count
        rest_comoment = reference.comoment - centred.T @ centred - between
        rest_model = PcaModel.fit(
            reference.features, rest_mean, rest_comoment / rest_count, settings.multivariate.pca_explained_variance
        )
        errors[part] = rest_model.errors(held_out)
    return errors


def _pca_reconstruction(reference: RowsProfile, current: RowsProfile, settings: DriftSettings) -> MultivariateDrift:
    """Score: how often a window error outranks a reference error (0.5 without drift), judged
    against the Mann-Whitney spread at both sizes, two-sided; the mean errors (NannyML's
    measure) are in the details. Errors are skewed and, with heavy-tailed features,
    heavy-tailed: a normal interval around the mean error raised 13% false alarms; ranks do not
    care."""
    model = reference_model(reference, settings)
    reference_errors = np.sort(_reference_errors(reference, model, settings))
    note, sketched = None, False
    if current.errors is not None and current.error_model == model.fingerprint and current.errors.valid:
        values, weights = current.errors.weighted_values()
        current_mean, current_rows, sketched = current.errors.mean, current.errors.valid, not current.errors.is_exact
    else:
        values = np.sort(model.errors(current.sample)) if len(current.sample) else np.empty(0)
        weights = np.ones(len(values))
        current_mean, current_rows = (float(values.mean()) if len(values) else None), len(values)
        if current.count > len(values):
            note = f"window errors from its sample of {len(values)} of {current.count} complete rows"
    n = len(reference_errors)
    minimum = settings.min_sample_size
    if current_rows < minimum or n < minimum or current_mean is None:
        return MultivariateDrift("pca_reconstruction", "insufficient_data", reference_rows=n, current_rows=current_rows)
    # P(window error > reference error), ties counted half: 0.5 when nothing changed.
    below = np.searchsorted(reference_errors, values, side="left")
    at_or_below = np.searchsorted(reference_errors, values, side="right")
    outranks = float(np.sum(weights * (below + at_or_below) / 2) / (weights.sum() * n))
    z = float(stats.norm.ppf(1.0 - settings.p_value_threshold / 2))
    margin = z * np.sqrt((n + current_rows + 1) / (12.0 * n * current_rows))
    if sketched:
        margin += SKETCH_RANK_ERROR  # the window's ranks are the sketch's, within its error
    return MultivariateDrift(
        "pca_reconstruction",
        "ok",
        score=outranks,
        threshold=float(0.5 + margin),
        drifted=bool(abs(outranks - 0.5) > margin),
        reference_rows=n,
        current_rows=current_rows,
        details={
            "lower_threshold": float(0.5 - margin),
            "current_mean_error": float(current_mean),
            "reference_mean_error": float(reference_errors.mean()),
            "components": int(model.components.shape[1]),
            "explained_variance": model.explained,
        },
        note=note,
    )


def _domain_classifier(reference: RowsProfile, current: RowsProfile, settings: DriftSettings) -> MultivariateDrift:
    n_ref, n_cur = len(reference.sample), len(current.sample)
    if min(n_ref, n_cur) < max(MIN_CLASSIFIER_ROWS, settings.min_sample_size):
        return MultivariateDrift("domain_classifier", "insufficient_data", reference_rows=n_ref, current_rows=n_cur)
    model = reference_model(reference, settings)
    standardise = lambda rows: (rows - model.mean) / model.scale  # noqa: E731
    result = domain_classifier_auc(
        standardise(reference.sample), standardise(current.sample), settings.p_value_threshold
    )
    return MultivariateDrift(
        "domain_classifier",
        "ok",
        score=result.auc,
        threshold=result.threshold,
        drifted=bool(result.auc > result.threshold),
        reference_rows=n_ref,
        current_rows=n_cur,
        note=None if n_cur == current.count else f"trained on a sample of {n_cur} of {current.count} rows",
    )
