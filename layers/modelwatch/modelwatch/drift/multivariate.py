"""Multivariate drift: what univariate tests miss (a correlation that flips while every marginal
stays put). Two methods, each judged at the sizes of both samples:

- `pca_reconstruction`: the mean PCA reconstruction error of the window's rows under the
  reference's PCA (stats.pca), against the reference rows' own errors. Under "no drift" the
  difference of the two means is about normal with variance s^2 (1/m + 1/n); drift when the
  window's mean leaves mean +- z s sqrt(1/m + 1/n). The window's errors come from every row
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
from modelwatch.spec.models import DriftSettings
from modelwatch.stats.classifier import domain_classifier_auc
from modelwatch.stats.pca import PcaModel

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


def reference_model(reference: RowsProfile, settings: DriftSettings) -> PcaModel:
    """The baseline's PCA: fitted from its mergeable co-moments, so it is a function of the
    stored baseline (the same model wherever the baseline is read)."""
    return PcaModel.fit(
        reference.features, reference.mean, reference.covariance, settings.multivariate.pca_explained_variance
    )


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


def _pca_reconstruction(reference: RowsProfile, current: RowsProfile, settings: DriftSettings) -> MultivariateDrift:
    model = reference_model(reference, settings)
    reference_errors = model.errors(reference.sample)
    note = None
    if current.errors is not None and current.error_model == model.fingerprint and current.errors.valid:
        current_mean, current_rows = current.errors.mean, current.errors.valid
    else:
        errors = model.errors(current.sample) if len(current.sample) else np.empty(0)
        current_mean, current_rows = (float(errors.mean()) if len(errors) else None), len(errors)
        if current.count > len(errors):
            note = f"window errors from its sample of {len(errors)} of {current.count} complete rows"
    minimum = settings.min_sample_size
    if current_rows < minimum or len(reference_errors) < minimum or current_mean is None:
        return MultivariateDrift(
            "pca_reconstruction", "insufficient_data", reference_rows=len(reference_errors), current_rows=current_rows
        )
    centre, spread = float(reference_errors.mean()), float(reference_errors.std(ddof=1))
    z = float(stats.norm.ppf(1.0 - settings.p_value_threshold / 2))
    margin = z * spread * np.sqrt(1.0 / current_rows + 1.0 / len(reference_errors))
    upper, lower = centre + margin, max(centre - margin, 0.0)
    return MultivariateDrift(
        "pca_reconstruction",
        "ok",
        score=float(current_mean),
        threshold=float(upper),
        drifted=bool(current_mean > upper or current_mean < lower),
        reference_rows=len(reference_errors),
        current_rows=current_rows,
        details={
            "lower_threshold": float(lower),
            "reference_mean": centre,
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
