"""PCA reconstruction error (NannyML's multivariate drift measure), fitted from a covariance.

The reference's numeric features are standardised with its own means and standard deviations,
and the principal components that explain `explained_variance` of the standardised variance
are kept. A row's reconstruction error is the Euclidean distance between the standardised row
and its projection back from those components: rows that follow the reference's correlations
reconstruct well; a window whose correlations changed does not, even when every marginal is the
same. Fitting needs only the mean and covariance, so the baseline's mergeable co-moments suffice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from modelwatch.profiles.rows import RowsProfile
    from modelwatch.spec.models import DriftSettings

# A feature whose standard deviation is below this (relative to its mean) is constant: it is
# left out of the standardisation rather than divided by zero.
CONSTANT_SCALE = 1e-12


@dataclass(frozen=True)
class PcaModel:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray  # d x q, orthonormal columns
    explained: float  # share of the standardised variance the kept components explain

    @classmethod
    def fit(
        cls, features: tuple[str, ...], mean: np.ndarray, covariance: np.ndarray, explained_variance: float
    ) -> PcaModel:
        scale = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
        usable = scale > CONSTANT_SCALE * np.maximum(1.0, np.abs(mean))
        safe = np.where(usable, scale, 1.0)
        correlation = covariance / np.outer(safe, safe)
        correlation[~usable, :] = 0.0
        correlation[:, ~usable] = 0.0
        eigenvalues, eigenvectors = np.linalg.eigh(correlation)
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues, eigenvectors = np.clip(eigenvalues[order], 0.0, None), eigenvectors[:, order]
        total = eigenvalues.sum()
        shares = np.cumsum(eigenvalues) / total if total > 0 else np.ones(len(eigenvalues))
        # At least one component, and at most d - 1: with all d the error is always zero.
        kept = int(np.clip(np.searchsorted(shares, explained_variance) + 1, 1, max(1, len(features) - 1)))
        return cls(features, mean, safe, eigenvectors[:, :kept], float(shares[kept - 1]))

    def errors(self, rows: np.ndarray) -> np.ndarray:
        """The reconstruction error of each row (n x d, in `features` order)."""
        standardised = (np.asarray(rows, dtype=np.float64) - self.mean) / self.scale
        reconstructed = standardised @ self.components @ self.components.T
        return np.sqrt(np.square(standardised - reconstructed).sum(axis=1))

    @property
    def fingerprint(self) -> str:
        """Names the model, so errors computed under different models are never merged."""
        digest = hashlib.sha256()
        for part in (self.mean, self.scale, self.components):
            digest.update(np.ascontiguousarray(part, dtype="<f8").tobytes())
        digest.update("|".join(self.features).encode())
        return digest.hexdigest()[:16]


def reference_model(reference: RowsProfile, settings: DriftSettings) -> PcaModel:
    """The baseline's PCA: fitted from its mergeable co-moments, so it is a function of the
    stored baseline (the same model wherever the baseline is read). Here, beside the model and
    apart from the drift statistics, so the capture function reaches it without SciPy."""
    return PcaModel.fit(
        reference.features, reference.mean, reference.covariance, settings.multivariate.pca_explained_variance
    )
