"""Bootstrap confidence intervals from per-sample metric values.

Percentile bootstrap: resample the questions with replacement, recompute the statistic, and take the
(1-c)/2 and (1+c)/2 quantiles. A benchmark made of subtasks (MVBench's 20) is resampled within each
subtask (stratified), and its statistic is the pooled mean, the mean of subtask means, or a weighted
mean of subtask means (Video-Bench's official score: pass the weights, one per stratum).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Aggregate = Literal["pooled", "macro"] | Sequence[float]


def bootstrap_distribution(strata: Sequence[Sequence[float]], n_boot: int = 1000, seed: int = 0,
                           aggregate: Aggregate = "pooled", chunk: int = 100) -> np.ndarray:
    """`n_boot` resampled values of the statistic (mean, or mean over strata) of the samples."""
    arrays = [np.asarray(s, dtype=float) for s in strata]
    if not arrays or any(a.size == 0 for a in arrays):
        raise ValueError("bootstrap needs at least one sample in every stratum")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    rng = np.random.default_rng(seed)
    sums = np.zeros((len(arrays), n_boot))
    for k, a in enumerate(arrays):
        for start in range(0, n_boot, chunk):
            stop = min(n_boot, start + chunk)
            idx = rng.integers(0, a.size, size=(stop - start, a.size))
            sums[k, start:stop] = a[idx].sum(axis=1)
    sizes = np.array([a.size for a in arrays], dtype=float)[:, None]
    if isinstance(aggregate, str):
        if aggregate == "pooled":
            return sums.sum(axis=0) / sizes.sum()
        if aggregate == "macro":
            return (sums / sizes).mean(axis=0)
        raise ValueError(f"aggregate must be 'pooled', 'macro' or one weight per stratum, got {aggregate!r}")
    return _weighted(sums / sizes, aggregate)


def _weighted(means: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape != (means.shape[0],) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"need one non-negative weight per stratum ({means.shape[0]}), got {list(weights)}")
    return (w[:, None] * means).sum(axis=0) / w.sum() if means.ndim == 2 else float((w * means).sum() / w.sum())


def percentile_ci(dist: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    lo, hi = np.quantile(dist, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def bootstrap_ci(strata: Sequence[Sequence[float]], n_boot: int = 1000, confidence: float = 0.95,
                 seed: int = 0, aggregate: Aggregate = "pooled") -> tuple[float, float]:
    """Percentile bootstrap interval of the (pooled or macro) mean of per-sample values."""
    return percentile_ci(bootstrap_distribution(strata, n_boot, seed, aggregate), confidence)


def point_estimate(strata: Sequence[Sequence[float]], aggregate: Aggregate = "pooled") -> float:
    arrays = [np.asarray(s, dtype=float) for s in strata]
    if isinstance(aggregate, str) and aggregate == "pooled":
        return float(np.concatenate(arrays).mean())
    means = np.array([a.mean() for a in arrays])
    return float(means.mean()) if isinstance(aggregate, str) else float(_weighted(means, aggregate))


__all__ = ["bootstrap_distribution", "bootstrap_ci", "percentile_ci", "point_estimate"]
