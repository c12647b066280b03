"""Bootstrap confidence intervals: coverage, width, stratification, reproducibility."""

import math

import numpy as np
import pytest

from eval.stats import bootstrap_ci, bootstrap_distribution, point_estimate


def test_interval_width_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    x = (rng.random(400) < 0.3).astype(float)
    lo, hi = bootstrap_ci([x], n_boot=2000, seed=0)
    p = x.mean()
    half = 1.96 * math.sqrt(p * (1 - p) / x.size)
    assert lo < p < hi
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.12)


def test_coverage_is_near_95_percent():
    rng = np.random.default_rng(7)
    hits = 0
    trials = 200
    for t in range(trials):
        x = (rng.random(80) < 0.4).astype(float)
        lo, hi = bootstrap_ci([x], n_boot=400, seed=t)
        hits += lo <= 0.4 <= hi
    assert 0.88 <= hits / trials <= 0.99, hits / trials


def test_reproducible_by_seed_and_different_across_seeds():
    x = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    assert bootstrap_ci([x], 500, seed=3) == bootstrap_ci([x], 500, seed=3)
    assert not np.array_equal(bootstrap_distribution([x], 500, seed=3), bootstrap_distribution([x], 500, seed=4))


def test_stratified_macro_and_pooled_statistics():
    a, b = [1.0] * 10, [0.0] * 30  # subtask means 1.0 and 0.0
    assert point_estimate([a, b], "macro") == 0.5
    assert point_estimate([a, b], "pooled") == 0.25
    # constant strata: every resample gives the same statistic, so the interval collapses
    assert bootstrap_ci([a, b], 200, aggregate="macro") == (0.5, 0.5)
    assert bootstrap_ci([a, b], 200, aggregate="pooled") == (0.25, 0.25)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="every stratum"):
        bootstrap_ci([[]])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([[1.0, 0.0]], confidence=1.5)
    with pytest.raises(ValueError, match="aggregate"):
        bootstrap_ci([[1.0, 0.0]], aggregate="median")
