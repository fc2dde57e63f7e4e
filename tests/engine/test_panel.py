"""Panels (editions over time): each panel_normalisation against hand computation, and the
pooled mode against an independent computation of COINr's global min-max normalisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from panel_book import EXPECTED  # the index by hand for each panel_normalisation

from xl_aiindex.errors import ProblemsFound
from xl_aiindex.model import IndexModel, Node, Settings
from xl_aiindex.panel import build_panel, trends

NODES = (Node("index", None), Node("x", "index", weight=0.5),
         Node("y", "index", weight=0.5, direction=-1))
UNITS = pd.DataFrame({"name_zh": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"]},
                     index=["a", "b", "c"])
# unit c has no row in 2021
ROWS = {("a", 2020): (10, 5), ("b", 2020): (20, 3), ("c", 2020): (30, 1),
        ("a", 2021): (20, 4), ("b", 2021): (40, 2),
        ("a", 2022): (30, 3), ("b", 2022): (50, 1), ("c", 2022): (60, 0)}


def panel_data(rows: dict[tuple[str, int], tuple[float, float]]) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples(list(rows), names=["unit", "year"])
    return pd.DataFrame(list(rows.values()), index=index, columns=["x", "y"], dtype=float)


def build(mode: str, rows=ROWS, **settings):
    model = IndexModel(NODES, Settings(**settings), UNITS, panel_data(rows))
    return build_panel(model, mode)


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_each_mode_against_hand_computation(mode):
    panel = build(mode)
    assert panel.mode == mode and panel.years == (2020, 2021, 2022)
    for year, expected in EXPECTED[mode].items():
        total = panel.by_year[year].total
        assert sorted(total.index) == sorted(expected)
        for unit, value in expected.items():
            assert total[unit] == pytest.approx(value, abs=1e-9), (mode, year, unit)


def test_ranks_and_tiers_are_within_each_year():
    panel = build("pooled", tiers=Settings().tiers)
    assert panel.by_year[2021].rank.to_dict() == {"a": 2.0, "b": 1.0}
    assert panel.by_year[2022].rank.to_dict() == {"a": 3.0, "b": 2.0, "c": 1.0}
    ranking = panel.ranking()
    assert ranking.loc[("c", 2020), "rank"] == 1 and ("c", 2021) not in ranking.index


def test_trends_first_to_last_year():
    table = trends(build("pooled"))
    assert list(table.index) == ["c", "b", "a"]          # by the last year's rank
    assert table.loc["b", "change"] == pytest.approx(50)  # 30 -> 80
    assert table.loc["a", "rank_change"] == 0
    assert np.isnan(table.loc["c", 2021])                # no row that year: blank, not 0


def test_every_value_grows_so_pooled_scores_grow_but_per_year_may_fall():
    # 2023 = every raw value of 2022 better (x up, y down): b's relative place drops in 2023
    rows = {("a", 2022): (10, 5), ("b", 2022): (20, 4), ("c", 2022): (30, 3),
            ("a", 2023): (11, 4.9), ("b", 2023): (21, 3.9), ("c", 2023): (60, 1)}
    pooled, per_year = build("pooled", rows), build("per_year", rows)
    for unit in "abc":
        assert pooled.by_year[2023].total[unit] > pooled.by_year[2022].total[unit]
    assert per_year.by_year[2023].total["b"] < per_year.by_year[2022].total["b"]


def test_imputation_follows_the_mode():
    rows = dict(ROWS)
    rows[("a", 2022)] = (np.nan, 3)
    present_x = [v[0] for k, v in rows.items() if not np.isnan(v[0])]
    pooled = build("pooled", rows, missing="mean")
    assert pooled.by_year[2022].stages["prepared"].at["a", "x"] == pytest.approx(np.mean(present_x))
    per_year = build("per_year", rows, missing="mean")
    assert per_year.by_year[2022].stages["prepared"].at["a", "x"] == pytest.approx(55)
    base = build("base:2021", rows, missing="mean")
    assert base.by_year[2022].stages["prepared"].at["a", "x"] == pytest.approx(30)  # 2021: 20, 40


def test_outlier_treatment_uses_the_base_years_bounds():
    units = pd.DataFrame({"name_zh": list("ABCDEFGHIJKL"), "name_en": list("ABCDEFGHIJKL")},
                         index=list("abcdefghijkl"))
    base = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]   # skew/kurtosis rule moves 100 to 30
    rows = {(u, 2020): (v, 1.0 + i) for i, (u, v) in enumerate(zip(units.index, base, strict=True))}
    rows |= {(u, 2021): (v * 2, 1.0 + i) for i, (u, v) in enumerate(zip(units.index, base, strict=True))}
    model = IndexModel(NODES, Settings(outliers="skew_kurtosis"), units, panel_data(rows))
    panel = build_panel(model, "base:2020")
    treated_2021 = panel.by_year[2021].stages["treated"]["x"]
    assert treated_2021.max() == 30 and treated_2021["a"] == 2   # clamped at 2020's [1, 30]


def test_problems_carry_their_year():
    rows = dict(ROWS)
    rows[("b", 2021)] = (np.nan, 2)
    with pytest.raises(ProblemsFound) as caught:
        build("per_year", rows)
    problem = caught.value.problems[0]
    assert (problem.unit, problem.year) == ("b", 2021)
    with pytest.raises(ProblemsFound) as caught:
        build("pooled", rows)
    assert [(p.unit, p.year) for p in caught.value.problems] == [("b", 2021)]
    assert "year 2021" in str(caught.value.problems[0])


@pytest.mark.parametrize("mode", ["base:2019", "global", "base:x"])
def test_bad_mode_is_a_settings_problem(mode):
    with pytest.raises(ProblemsFound) as caught:
        build(mode)
    (problem,) = caught.value.problems
    assert problem.field == "panel_normalisation" and mode in problem.problem


def test_pooled_equals_global_minmax_then_arithmetic_mean_with_missing_values():
    """COINr: Normalise(purse, global = TRUE) with n_minx 0–100, then Aggregate with a_amean
    (missing children skipped, the others' weights rescaled): computed here with numpy alone."""
    rng = np.random.default_rng(7)
    units = pd.DataFrame({"name_zh": [f"单元{i}" for i in range(12)],
                          "name_en": [f"U{i}" for i in range(12)]},
                         index=[f"u{i}" for i in range(12)])
    leaves = [f"i{k}" for k in range(6)]
    nodes = (Node("index", None), Node("p1", "index", weight=0.4), Node("p2", "index", weight=0.6),
             *(Node(leaf, "p1" if k < 3 else "p2", weight=[1, 2, 3, 1, 1, 2][k],
                    direction=-1 if k == 4 else 1) for k, leaf in enumerate(leaves)))
    years = [2018, 2019, 2020, 2021, 2022]
    index = pd.MultiIndex.from_product([units.index, years], names=["unit", "year"])
    values = rng.lognormal(size=(len(index), 6)) * np.arange(1, 7)
    values[rng.random(values.shape) < 0.08] = np.nan
    data = pd.DataFrame(values, index=index, columns=leaves)
    settings = Settings(missing="reweight", weights="rescale")
    panel = build_panel(IndexModel(nodes, settings, units, data), "pooled")

    lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    norm = (values - lo) / (hi - lo) * 100
    norm[:, 4] = 100 - norm[:, 4]

    def mean_skipping(block, w):
        present = ~np.isnan(block)
        return np.nansum(block * w, axis=1) / (present * w).sum(axis=1)

    p1 = mean_skipping(norm[:, :3], np.array([1, 2, 3]) / 6)
    p2 = mean_skipping(norm[:, 3:], np.array([1, 1, 2]) / 4)
    total = mean_skipping(np.column_stack([p1, p2]), np.array([0.4, 0.6]))
    scores = panel.scores().reindex(index)
    np.testing.assert_allclose(scores["p1"], p1, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores["p2"], p2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores["index"], total, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores[leaves].to_numpy(), norm, rtol=0, atol=1e-9)
