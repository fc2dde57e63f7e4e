"""Outlier treatment against COINr's documented rule and an independent skew/kurtosis."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from xl_aiindex import IndexModel, Node, Settings, build_index
from xl_aiindex.treat import _skew_kurt, t_skew_kurtosis, t_winsorise


def test_skew_and_kurtosis_are_excels_skew_and_kurt():
    x = pd.Series([1.0, 2, 2, 3, 9, 4, 40, 5])
    skew, kurt = _skew_kurt(x)
    assert skew == pytest.approx(stats.skew(x, bias=False))
    assert kurt == pytest.approx(stats.kurtosis(x, bias=False))


def test_coinr_example_one_point_winsorised():
    # COINr's winsorise() example: 1..10 plus outliers 30 and 100
    x = pd.Series([*range(1, 11), 30, 100], dtype=float)
    out, what = t_skew_kurtosis(x, Settings())
    assert out.tolist() == [*range(1, 11), 30, 30]
    after = out.to_numpy()
    # the stopping rule, checked with scipy: passes once |skew| < 2 or kurtosis < 3.5
    assert abs(stats.skew(after, bias=False)) < 2 or stats.kurtosis(after, bias=False) < 3.5
    assert what == "winsorised 1 value(s) (skew/kurtosis rule)"


def test_log_ct_on_the_original_values_when_winsorising_is_not_enough():
    x = pd.Series([*range(1, 21), 500, 1000, 2000], dtype=float)
    out, what = t_skew_kurtosis(x, Settings(outlier_max_points=1))
    expected = np.log(x - 1 + 0.01 * (2000 - 1))
    assert out.tolist() == pytest.approx(expected.tolist())
    assert what.startswith("log-transformed")


def test_nothing_done_to_a_well_behaved_indicator():
    x = pd.Series([1.0, 2, 3, 4, 5, 6])
    assert t_skew_kurtosis(x, Settings())[0] is x


def test_winsorise_at_percentiles():
    x = pd.Series([0.0, *range(1, 20), 1000])
    lo, hi = np.percentile(x, [5, 95])
    out, _ = t_winsorise(x, Settings(), "5")
    assert out.min() == pytest.approx(lo) and out.max() == pytest.approx(hi)


def test_pipeline_treats_before_normalising_and_reports_it():
    nodes = (Node("index", None), Node("a", "index", weight=0.5), Node("b", "index", weight=0.5))
    ids = [f"u{i}" for i in range(12)]
    units = pd.DataFrame({"name_zh": ids, "name_en": ids}, index=ids)
    data = pd.DataFrame({"a": [*range(1, 11), 30, 100], "b": range(12)}, index=ids, dtype=float)
    r = build_index(IndexModel(nodes, Settings(outliers="skew_kurtosis"), units, data))
    # after winsorising, 100 became 30: u10 and u11 share the top of indicator a
    assert r.stages["normalised"].loc["u11", "a"] == r.stages["normalised"].loc["u10", "a"] == 100
    row = r.treatment.set_index("indicator").loc["a"]
    assert row["treatment"] == "winsorised 1 value(s) (skew/kurtosis rule)"
