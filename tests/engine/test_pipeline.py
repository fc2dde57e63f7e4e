"""The engine end to end on models built in Python (no files), against hand computations."""

import copy
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_aiindex import IndexModel, Node, ProblemsFound, Settings, TierRule, build_index

NODES = (
    Node("index", None),
    Node("d1", "index", weight=0.6),
    Node("d2", "index", weight=0.4),
    Node("x1", "d1", weight=0.5),
    Node("x2", "d1", weight=0.5, direction=-1),
    Node("x3", "d2", weight=0.25),
    Node("x4", "d2", weight=0.75),
)
UNITS = pd.DataFrame({"name_zh": ["甲", "乙", "丙", "丁", "戊"],
                      "name_en": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
                      "region": ["n", "n", "s", "s", "s"],
                      "population": [10.0, 20, 30, 40, 50]}, index=list("abcde"))
DATA = pd.DataFrame({"x1": [10.0, 20, 30, 40, 50], "x2": [5.0, 4, 3, 2, 1],
                     "x3": [1.0, 2, 3, 4, 5], "x4": [100.0, 300, 200, 400, 500]}, index=list("abcde"))


def model(**settings):
    return IndexModel(NODES, Settings(**settings), UNITS, DATA.copy())


def test_small_index_by_hand():
    r = build_index(model(tiers=TierRule("rank", (2, 4))))
    # b: x1 25, x2 (4 -> 25 mirrored: 100 - 75) 25, d1 25; x3 25, x4 50, d2 .25*25+.75*50 = 43.75
    assert r.scores.loc["b", "d1"] == pytest.approx(25.0)
    assert r.scores.loc["b", "d2"] == pytest.approx(43.75)
    assert r.total["b"] == pytest.approx(0.6 * 25 + 0.4 * 43.75)
    assert r.total["c"] == pytest.approx(0.6 * 50 + 0.4 * (0.25 * 50 + 0.75 * 25))
    assert r.rank.tolist() == [5, 4, 3, 2, 1]
    assert r.tier.tolist() == [3, 2, 2, 1, 1]
    wu = r.weights_used.set_index("child")
    assert wu.loc["x4", "weight_in_total"] == pytest.approx(0.4 * 0.75)


def test_input_model_is_not_mutated():
    m = model()
    before = copy.deepcopy(m.data)
    build_index(m)
    pd.testing.assert_frame_equal(m.data, before)


def test_given_mode_starts_at_given_nodes():
    given = pd.DataFrame({"d1": [50.0, 70.0], "d2": [80.0, 60.0], "published": [62.0, 66.0]},
                         index=["a", "b"])
    m = IndexModel(NODES, Settings(input="given"), UNITS.loc[["a", "b"]], given=given)
    r = build_index(m)
    assert r.total.tolist() == pytest.approx([0.6 * 50 + 0.4 * 80, 0.6 * 70 + 0.4 * 60])
    assert r.scores["x1"].isna().all()  # below the given level: no score


def test_missing_is_an_error_by_default_and_names_unit_and_indicator():
    m = model()
    m.data.loc["c", "x3"] = np.nan
    with pytest.raises(ProblemsFound) as e:
        build_index(m)
    (p,) = e.value.problems
    assert (p.sheet, p.unit, p.node) == ("Data", "c", "x3")
    assert "unit c (丙) has no value for x3" in p.problem


def test_reweight_skips_the_missing_child():
    m = model(missing="reweight")
    m.data.loc["c", "x3"] = np.nan
    r = build_index(m)
    # x3 leaves c's d2: only x4 counts (weight 1); x3's min-max uses the four units present
    assert r.scores.loc["c", "d2"] == pytest.approx(25.0)
    assert r.coverage["c"] == pytest.approx(0.75)
    assert any("rescaled" in n for n in r.notes)


def test_group_mean_imputation():
    m = model(missing="group_mean:region")
    m.data.loc["c", "x3"] = np.nan
    r = build_index(m)
    # c is in region s with d (4) and e (5): imputed 4.5 -> min-max over 1,2,4.5,4,5 -> 87.5
    assert r.stages["normalised"].loc["c", "x3"] == pytest.approx(87.5)


def test_weights_strict_and_rescale():
    nodes = tuple(Node(n.id, n.parent, weight=0.7) if n.id == "d1" else n for n in NODES)
    with pytest.raises(ProblemsFound, match=r"sum to 1\.1, not 1 \(d1 0\.7, d2 0\.4\)"):
        build_index(IndexModel(nodes, Settings(), UNITS, DATA))
    r = build_index(IndexModel(nodes, Settings(weights="rescale"), UNITS, DATA))
    assert r.weights_used.set_index("child").loc["d1", "weight"] == pytest.approx(0.7 / 1.1)


def test_geometric_needs_positive_scores():
    with pytest.raises(ProblemsFound, match="geometric aggregation, which needs scores > 0"):
        build_index(model(aggregation="geometric"))
    r = build_index(model(aggregation="geometric", minmax_range=(1.0, 100.0)))
    assert (r.total > 0).all()


def test_copeland_only_at_root():
    nodes = tuple(Node(n.id, n.parent, weight=n.weight, aggregation="copeland")
                  if n.id == "d1" else n for n in NODES)
    with pytest.raises(ProblemsFound, match="only the root may use"):
        build_index(IndexModel(nodes, Settings(), UNITS, DATA))


def test_score_tiers_and_rank_decimals():
    r = build_index(model(tiers=TierRule("score", (70.0, 40.0), ("A", "B", "C"))))
    # totals: a 0, b 32.5, c 42.5, d 75, e 100
    assert r.tier.tolist() == [3, 3, 2, 1, 1]
    d = DATA.copy()
    d.loc["b"] = d.loc["c"]  # b and c now equal: they share rank 3
    r = build_index(IndexModel(NODES, Settings(), UNITS, d))
    assert r.rank.tolist() == [5, 3, 3, 2, 1]


def test_coverage_min_leaves_units_unranked():
    m = model(missing="reweight", coverage_min=0.8)
    m.data.loc["e", ["x1", "x2"]] = np.nan
    r = build_index(m)
    assert np.isnan(r.rank["e"]) and r.tier["e"] == 0
    assert r.rank.dropna().tolist() == [4, 3, 2, 1]


def test_denominator_and_log_transform():
    nodes = tuple(Node(n.id, n.parent, weight=n.weight, direction=n.direction,
                       denominator="population", transform="log") if n.id == "x4" else n
                  for n in NODES)
    r = build_index(IndexModel(nodes, Settings(), UNITS, DATA))
    per_capita = np.log(DATA["x4"] / UNITS["population"])
    expected = 100 * (per_capita - per_capita.min()) / (per_capita.max() - per_capita.min())
    assert r.stages["normalised"]["x4"].tolist() == pytest.approx(expected.tolist())


def test_unknown_method_lists_valid_names():
    nodes = tuple(Node(n.id, n.parent, weight=n.weight, normalisation="min-max")
                  if n.id == "x1" else n for n in NODES)
    with pytest.raises(ProblemsFound) as e:
        build_index(IndexModel(nodes, Settings(), UNITS, DATA))
    assert e.value.problems[0].problem == (
        "unknown normalisation method 'min-max' for node x1; choose one of: "
        "efficacy, goalposts, minmax, percentile, rank, zscore")


def test_zero_spread_names_the_indicator():
    d = DATA.copy()
    d["x3"] = 7.0
    with pytest.raises(ProblemsFound, match="indicator x3 has zero spread"):
        build_index(IndexModel(NODES, Settings(), UNITS, d))


def test_data_driven_weighting_reported_in_weights_used():
    nodes = tuple(replace(n, weighting="equal") if n.id == "d2" else n for n in NODES)
    r = build_index(IndexModel(nodes, Settings(), UNITS, DATA))
    wu = r.weights_used.set_index("child")
    assert wu.loc["x3", "weight"] == 0.5 and wu.loc["x3", "method"] == "equal"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(list("abcde")), st.sampled_from(["x1", "x3", "x4"]),
       st.floats(min_value=0.01, max_value=1000))
def test_raising_a_positive_indicator_never_lowers_the_score(unit, indicator, bump):
    base = build_index(model()).total[unit]
    d = DATA.copy()
    d.loc[unit, indicator] += bump
    after = build_index(IndexModel(NODES, Settings(), UNITS, d)).total[unit]
    assert after >= base - 1e-9


def test_reweight_note_names_the_missing_cells():
    data = DATA.copy()
    data.loc["b", "x3"] = np.nan
    data.loc["e", "x1"] = np.nan
    model = IndexModel(NODES, Settings(missing="reweight"), UNITS, data)
    notes = [n for n in build_index(model).notes if "skipped" in n]
    assert notes == ["2 missing value(s) skipped: their siblings' weights were rescaled "
                     "(missing = reweight); Data: e (戊) x1, b (乙) x3"]
