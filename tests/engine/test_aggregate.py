"""Aggregation methods against hand-computed values, and their properties."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_aiindex.aggregate import a_arithmetic, a_copeland, a_geometric, a_harmonic

S = pd.DataFrame({"a": [10.0, 40.0], "b": [20.0, 10.0], "c": [40.0, np.nan]}, index=["u", "v"])
W = pd.Series({"a": 0.5, "b": 0.25, "c": 0.25})


def test_arithmetic_by_hand():
    assert a_arithmetic(S, W)["u"] == 5 + 5 + 10
    assert np.isnan(a_arithmetic(S, W)["v"])  # a missing child makes the parent missing
    # reweight: v's weights over a and b are 2/3 and 1/3 -> 40*2/3 + 10/3 = 30
    assert a_arithmetic(S, W, reweight=True)["v"] == pytest.approx(30.0)


def test_geometric_by_hand():
    assert a_geometric(S, W)["u"] == pytest.approx(10**0.5 * 20**0.25 * 40**0.25)
    assert a_geometric(S, W, reweight=True)["v"] == pytest.approx(40 ** (2 / 3) * 10 ** (1 / 3))


def test_harmonic_by_hand():
    assert a_harmonic(S, W)["u"] == pytest.approx(1 / (0.5 / 10 + 0.25 / 20 + 0.25 / 40))


def test_copeland_is_non_compensatory():
    # x weighs 0.6: winning x beats winning y by any margin
    s = pd.DataFrame({"x": [2.0, 1.0], "y": [0.0, 100.0]}, index=["p", "q"])
    out = a_copeland(s, pd.Series({"x": 0.6, "y": 0.4}))
    assert out.tolist() == [1.0, -1.0]


scores = st.lists(st.floats(min_value=0.1, max_value=100), min_size=3, max_size=3)
weights = st.lists(st.floats(min_value=0.01, max_value=10), min_size=3, max_size=3)


@given(st.lists(scores, min_size=1, max_size=8), weights)
def test_parent_lies_between_children(rows, w):
    s = pd.DataFrame(rows, columns=list("abc"))
    ws = pd.Series(w, index=list("abc"))
    ws = ws / ws.sum()
    for f in (a_arithmetic, a_geometric, a_harmonic):
        out = f(s, ws)
        assert (out >= s.min(axis=1) - 1e-9).all() and (out <= s.max(axis=1) + 1e-9).all()
    # the means are ordered: harmonic <= geometric <= arithmetic
    assert (a_harmonic(s, ws) <= a_geometric(s, ws) + 1e-9).all()
    assert (a_geometric(s, ws) <= a_arithmetic(s, ws) + 1e-9).all()


@given(st.lists(scores, min_size=1, max_size=8), weights, st.floats(min_value=0.01, max_value=100))
def test_scaling_weights_of_a_group_changes_nothing_once_normalised(rows, w, k):
    s = pd.DataFrame(rows, columns=list("abc"))
    ws = pd.Series(w, index=list("abc"))
    a = a_arithmetic(s, ws / ws.sum())
    b = a_arithmetic(s, (ws * k) / (ws * k).sum())
    assert np.allclose(a, b)


@given(st.floats(min_value=0.1, max_value=100), weights)
def test_equal_inputs_return_the_input(value, w):
    s = pd.DataFrame([[value] * 3], columns=list("abc"))
    ws = pd.Series(w, index=list("abc"))
    ws = ws / ws.sum()
    for f in (a_arithmetic, a_geometric, a_harmonic):
        assert math.isclose(f(s, ws).iloc[0], value, rel_tol=1e-9)
