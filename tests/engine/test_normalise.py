"""Normalisation methods against hand-computed values, and their properties."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_aiindex.normalise import (
    NORMALISERS,
    MethodInputError,
    NormParams,
    n_efficacy,
    n_goalposts,
    n_minmax,
    n_percentile,
    n_rank,
    n_zscore,
)

X = pd.Series([2.0, 4.0, 10.0, np.nan], index=list("abcd"))


def test_minmax_by_hand():
    # (x - 2) / 8 * 100: 0, 25, 100; the blank stays blank
    assert n_minmax(X).tolist()[:3] == [0.0, 25.0, 100.0]
    assert np.isnan(n_minmax(X)["d"])
    assert n_minmax(X, -1).tolist()[:3] == [100.0, 75.0, 0.0]
    assert n_minmax(X, 1, NormParams(minmax_low=1, minmax_high=11)).tolist()[:3] == [1.0, 3.5, 11.0]


def test_efficacy_by_hand():
    # 60 + 40 (x - 2) / 8: 60, 70, 100; mirrored within [60, 100]
    assert n_efficacy(X).tolist()[:3] == [60.0, 70.0, 100.0]
    assert n_efficacy(X, -1).tolist()[:3] == [100.0, 90.0, 60.0]


def test_zscore_uses_sample_sd_like_stdev_s():
    # mean 16/3; sample variance ((10/3)^2 + (4/3)^2 + (14/3)^2) / 2 = 312/18 = 52/3
    sd = (52 / 3) ** 0.5
    expected = [(2 - 16 / 3) / sd, (4 - 16 / 3) / sd, (10 - 16 / 3) / sd]
    assert n_zscore(X).tolist()[:3] == pytest.approx(expected)
    assert n_zscore(X, -1).tolist()[:3] == pytest.approx([-v for v in expected])


def test_rank_and_percentile_average_ties():
    x = pd.Series([5.0, 1.0, 5.0, 3.0])
    assert n_rank(x).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert n_rank(x, -1).tolist() == [1.5, 4.0, 1.5, 3.0]
    # 100 (r - 1) / 3
    assert n_percentile(x).tolist() == pytest.approx([250 / 3, 0.0, 250 / 3, 100 / 3])
    assert n_percentile(x, -1).tolist() == pytest.approx([50 / 3, 100.0, 50 / 3, 200 / 3])


def test_goalposts_clamp():
    p = NormParams(goal_low=0, goal_high=8, goalposts_scale=100)
    assert n_goalposts(X, 1, p).tolist()[:3] == [25.0, 50.0, 100.0]
    assert n_goalposts(X, -1, p).tolist()[:3] == [75.0, 50.0, 0.0]
    with pytest.raises(MethodInputError, match="goal_high"):
        n_goalposts(X, 1, NormParams(goal_low=5, goal_high=5))


@pytest.mark.parametrize("name", ["minmax", "efficacy", "zscore"])
def test_zero_spread_is_an_error(name):
    with pytest.raises(MethodInputError, match="zero spread"):
        NORMALISERS[name](pd.Series([3.0, 3.0, np.nan]), 1, NormParams())


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=2, max_size=30).filter(lambda v: max(v) - min(v) > 1e-6))
def test_minmax_stays_in_range_and_reversing_direction_reverses_order(values):
    x = pd.Series(values)
    up, down = n_minmax(x, 1), n_minmax(x, -1)
    assert up.min() >= -1e-9 and up.max() <= 100 + 1e-9
    # reversing the direction reverses the order of every pair of units
    for i in range(len(x)):
        for j in range(len(x)):
            if x[i] < x[j]:
                assert up[i] <= up[j] and down[i] >= down[j]


@given(st.lists(finite, min_size=2, max_size=30))
def test_rank_is_a_permutation_up_to_ties(values):
    r = n_rank(pd.Series(values))
    assert r.sum() == pytest.approx(len(values) * (len(values) + 1) / 2)
    assert r.min() >= 1 and r.max() <= len(values)
