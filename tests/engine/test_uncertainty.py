"""Uncertainty and sensitivity analysis, checked against answers known by construction or by
exact enumeration of every combination of the factors' levels (computed with one
``build_index`` per combination, independently of the vectorised runs and of the estimators)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xl_aiindex import IndexModel, Node, ProblemsFound, Settings, build_index
from xl_aiindex.rank import rank_units
from xl_aiindex.synthetic import synthetic_model
from xl_aiindex.uncertainty import (
    exact_indices,
    make_plan,
    parse_assumptions,
    rank_rows,
    run_loop,
    run_uncertainty,
    run_vectorised,
    saltelli_design,
    vector_obstacles,
)

NODES = (Node("index", None), Node("x1", "index", weight=0.5), Node("x2", "index", weight=0.5))
IDS = ["u1", "u2", "u3", "u4", "u5", "u6"]
UNITS = pd.DataFrame({"name_zh": IDS, "name_en": IDS}, index=IDS)
REPO = Path(__file__).resolve().parents[2]


def model(data):
    return IndexModel(NODES, Settings(), UNITS, pd.DataFrame(data, index=IDS, dtype=float))


def assumptions(*rows):
    a, problems = parse_assumptions(rows)
    assert problems == []
    return a


def test_parse_reports_bad_rows():
    _, problems = parse_assumptions([("weights", "uniform", 2), ("normalisation", "choice", "minmax"),
                                     ("colour", "choice", "a;b"), ("aggregation", "pick", "x"),
                                     ("missing", "choice", "mean;mean")])
    texts = [p.problem for p in problems]
    assert texts[0].startswith("weights / uniform needs a share between 0 and 1")
    assert texts[1].startswith("normalisation / choice needs two or more different methods of: "
                               "efficacy, goalposts, minmax")
    assert texts[2].startswith("unknown assumption 'colour'")
    assert texts[3].startswith("assumption 'aggregation': unknown way 'pick'")
    assert texts[4].startswith("missing / choice needs two or more different methods")


def test_rank_rows_is_the_engines_tie_rule():
    rng = np.random.default_rng(5)
    totals = rng.integers(0, 6, size=(200, 9)).astype(float)  # many ties
    totals[rng.random(totals.shape) < 0.1] = np.nan
    expected = np.array([rank_units(pd.Series(row)).to_numpy() for row in totals])
    assert np.array_equal(rank_rows(totals), expected, equal_nan=True)


def test_one_factor_per_assumption_switches_every_factor():
    # the failure of one-factor-per-weight designs: a 2-level factor never switched between A
    # and B. Here each factor, whatever the number of assumptions, is switched in about half
    # of the rows and takes each level about equally often.
    m = synthetic_model(10, 20, (4,))
    plan = make_plan(m, assumptions(("weights", "uniform", 0.25),
                                    ("normalisation", "choice", "minmax;zscore"),
                                    ("aggregation", "choice", "arithmetic;geometric"),
                                    ("missing", "choice", "reweight;mean"),
                                    ("indicators", "leave_one_out", None)))
    assert plan.levels == (1000, 2, 2, 2, 21)
    n, k = 64, 5
    rows = saltelli_design(plan.levels, np.random.default_rng(1).random((n, 2 * k)))
    a, b = rows[:n], rows[n:2 * n]
    for i in range(1, 4):
        assert 0.3 < np.mean(a[:, i] != b[:, i]) < 0.7
        assert 0.3 < np.mean(a[:, i]) < 0.7
        ab = rows[(2 + i) * n:(3 + i) * n]
        assert np.array_equal(np.delete(ab, i, axis=1), np.delete(a, i, axis=1))
        assert np.array_equal(ab[:, i], b[:, i])


SMALL = synthetic_model(12, 8, (2,), blanks=0.05, seed=4)


def _with(m, **settings):
    return replace(m, settings=replace(m.settings, **settings))


def _equal_weighting(m):
    nodes = [replace(n, weighting="equal") if n.id == "g1_0" else n for n in m.nodes]
    return replace(m, nodes=tuple(nodes))


@pytest.mark.parametrize("m, rows", [
    (SMALL, [("weights", "uniform", 0.4), ("normalisation", "choice", "minmax;zscore;rank")]),
    (_with(SMALL, normalisation="efficacy", coverage_min=0.9, tiers=SMALL.settings.tiers.__class__(
        "score", (90.0, 80.0))),
     [("weights", "dirichlet", 20), ("indicators", "leave_one_out", None),
      ("aggregation", "choice", "arithmetic;geometric;harmonic")]),
    (_equal_weighting(_with(SMALL, normalisation="efficacy")),
     [("weights", "uniform", 0.5), ("missing", "choice", "reweight;mean;median"),
      ("normalisation", "choice", "efficacy;percentile")]),
])
def test_vectorised_runs_equal_one_build_per_run(m, rows):
    plan = make_plan(m, assumptions(*rows), weight_draws=20, seed=2)
    assert vector_obstacles(plan) == []
    levels = saltelli_design(plan.levels, np.random.default_rng(3).random((8, 2 * len(rows))))
    fast, slow = run_vectorised(plan, levels, chunk=5), run_loop(plan, levels)
    assert np.array_equal(np.isnan(fast.totals), np.isnan(slow.totals))
    np.testing.assert_allclose(fast.totals, slow.totals, rtol=1e-12, atol=1e-12)
    assert np.array_equal(fast.ranks, slow.ranks, equal_nan=True)
    assert np.array_equal(fast.tiers, slow.tiers)
    assert len({tuple(r) for r in fast.ranks}) > 1  # the runs do differ


def test_vectorised_runs_equal_the_loop_with_given_scores():
    given = pd.DataFrame({"x1": [5.0, 4, 3, 2, 1, 6], "x2": [1.0, 3, 2, 6, 5, 4]}, index=IDS)
    m = IndexModel(NODES, Settings(input="given"), UNITS, given=given)
    plan = make_plan(m, assumptions(("weights", "uniform", 0.9),
                                    ("aggregation", "choice", "arithmetic;harmonic")), 30)
    levels = saltelli_design(plan.levels, np.random.default_rng(1).random((16, 4)))
    fast, slow = run_vectorised(plan, levels), run_loop(plan, levels)
    assert np.array_equal(fast.ranks, slow.ranks, equal_nan=True)


def _exact(m, a, draws, seed):
    """Every combination of the weight draws and the levels of the other factor, one
    ``build_index`` each: the exact indices of the mean absolute rank shift."""
    plan = make_plan(m, a, draws, seed)
    grid = np.array([(w, c) for w in range(draws) for c in range(plan.levels[1])])
    ranks = run_loop(plan, grid).ranks
    nominal = build_index(m).rank.to_numpy()
    y = np.nanmean(np.abs(ranks - nominal), axis=1).reshape(draws, plan.levels[1])
    return exact_indices(y)


def test_default_run_is_within_005_of_exact_enumeration():
    a = assumptions(("weights", "uniform", 0.4), ("normalisation", "choice", "minmax;rank"))
    exact = _exact(SMALL, a, draws=64, seed=1)
    # both factors matter, and interact: a case an estimator can get wrong
    assert exact.round(3).to_dict("list") == {"first_order": [0.135, 0.807],
                                              "total": [0.193, 0.865]}
    r = run_uncertainty(SMALL, a, weight_draws=64, seed=1)
    s = r.sensitivity
    assert s["assumption"].tolist() == ["weights", "normalisation"]
    assert s["levels"].tolist() == [64, 2]
    assert np.abs(s["first_order"] - exact["first_order"]).max() < 0.05
    assert np.abs(s["total"] - exact["total"]).max() < 0.05
    # the intervals are the promised width and hold the exact values
    assert ((s["first_order_high"] - s["first_order_low"]) <= 0.1).all()
    assert ((s["first_order_low"] <= exact["first_order"]) & (exact["first_order"] <= s["first_order_high"])).all()
    assert ((s["total_low"] <= exact["total"]) & (exact["total"] <= s["total_high"])).all()
    assert r.path == "vector" and r.notes == ()


def test_a_factor_without_effect_gets_indices_within_their_interval_of_0():
    # efficacy is an affine map of minmax: with arithmetic means the ranks cannot change
    a = assumptions(("weights", "uniform", 0.4), ("normalisation", "choice", "minmax;efficacy"))
    exact = _exact(SMALL, a, draws=32, seed=2)
    assert exact["total"].round(12).tolist() == [1.0, 0.0]
    s = run_uncertainty(SMALL, a, weight_draws=32, seed=2).sensitivity.set_index("assumption")
    for index in ("first_order", "total"):
        low, high = s.loc["normalisation", f"{index}_low"], s.loc["normalisation", f"{index}_high"]
        assert low <= 0 <= high
        assert abs(s.loc["normalisation", index]) < 0.05
    assert s.loc["weights", "total"] == pytest.approx(1.0, abs=0.05)


def test_too_few_runs_within_the_budget_names_the_n_to_use():
    a = assumptions(("weights", "uniform", 0.4), ("normalisation", "choice", "minmax;rank"))
    r = run_uncertainty(SMALL, a, samples=16, budget=0, weight_draws=64)
    assert r.samples == 16 and r.runs == 64
    assert len(r.notes) == 1 and r.notes[0].startswith("with N = 16: 95 % intervals up to ")
    assert r.notes[0].endswith(f"for reliable indices run with --samples {int(r.notes[0].split()[-1])}")
    assert int(r.notes[0].split()[-1]) >= 64
    assert (r.sensitivity["note"] != "").any()


def test_tiny_weight_changes_on_a_well_separated_index_change_no_rank():
    m = model({"x1": [10, 20, 30, 40, 50, 60], "x2": [1, 2, 3, 4, 5, 6]})
    r = run_uncertainty(m, assumptions(("weights", "uniform", 0.05)), samples=16)
    assert (r.summary["mean_abs_shift"] == 0).all()
    assert r.summary["rank_q05"].tolist() == r.summary["rank_q95"].tolist() == [1, 2, 3, 4, 5, 6]
    assert r.summary["unit"].tolist() == ["u6", "u5", "u4", "u3", "u2", "u1"]  # nominal order
    assert (r.summary["p_nominal_tier"] == 1).all()
    assert r.runs == len(r.ranks) == 16 * 3
    assert r.notes == ("no assumption changed any rank: sensitivity indices are 0",)


def test_the_assumption_that_matters_gets_the_sensitivity():
    # x1 has an outlier: min-max lets u1 win on it (totals 80, 50.2, 40.15, …), rank
    # normalisation does not (u2 5.5, u1 5, u3 4.5, …); every margin outlasts weights ±1 %
    m = model({"x1": [1000, 5, 4, 3, 2, 1], "x2": [4, 6, 5, 3, 2, 1]})
    r = run_uncertainty(m, assumptions(("weights", "uniform", 0.01),
                                       ("normalisation", "choice", "minmax;rank")), samples=64)
    s = r.sensitivity.set_index("assumption")
    assert s.loc["normalisation", "total"] == pytest.approx(1.0, abs=0.02)
    assert s.loc["normalisation", "first_order"] == pytest.approx(1.0, abs=0.02)
    assert s.loc["weights", "total"] == 0.0
    u1 = r.summary.set_index("unit").loc["u1"]
    assert u1["nominal_rank"] == 1 and u1["rank_q95"] == 2 and u1["rank_q05"] == 1
    assert sorted(set(r.ranks["u1"])) == [1, 2]
    # tiers rank:10,20: six units all stay in tier 1
    assert (r.summary["p_nominal_tier"] == 1).all()


def test_quantiles_are_whole_ranks_and_tier_share_counts_runs():
    m = synthetic_model(30, 10, (2,), seed=3)
    m = _with(m, tiers=m.settings.tiers.__class__("rank", (5, 15)))
    r = run_uncertainty(m, assumptions(("weights", "uniform", 0.5),
                                       ("normalisation", "choice", "minmax;rank")),
                        samples=64, budget=0)
    for col in ("rank_q05", "median_rank", "rank_q95"):
        assert (r.summary[col] == r.summary[col].round()).all()
    assert (r.summary["rank_q05"] <= r.summary["median_rank"]).all()
    assert (r.summary["median_rank"] <= r.summary["rank_q95"]).all()
    by_unit = r.summary.set_index("unit")
    ranks = r.ranks.to_numpy()
    tiers = np.searchsorted([5, 15], ranks, side="left") + 1
    expected = (tiers == by_unit.loc[r.ranks.columns, "nominal_tier"].to_numpy()).mean(axis=0)
    np.testing.assert_allclose(by_unit.loc[r.ranks.columns, "p_nominal_tier"], expected)
    assert 0 < expected.min() < 1


def test_leave_one_out_runs_every_variant():
    m = model({"x1": [1, 2, 3, 4, 5, 6], "x2": [6, 5, 4, 3, 2, 1.5]})
    r = run_uncertainty(m, assumptions(("indicators", "leave_one_out", None)), samples=32)
    # leaving x2 out ranks by x1 (u6 first); leaving x1 out ranks by x2 (u1 first)
    seen_first = {tuple(row) for row in (r.ranks[["u1", "u6"]] == 1).to_numpy()}
    assert (True, False) in seen_first and (False, True) in seen_first


def test_without_a_vectorised_form_runs_one_by_one_and_says_so():
    m = _with(model({"x1": [1, 2, 3, 4, 5, 6], "x2": [6, 5, 4, 3, 2, 1.5]}), rank_decimals=1)
    a = assumptions(("normalisation", "choice", "minmax;rank"))
    r = run_uncertainty(m, a, samples=8, budget=0)
    assert r.path == "loop"
    assert r.notes[0] == ("runs computed one by one (build_index per run), not vectorised: "
                          "rank_decimals (Excel's ROUND) has no vectorised form")


def test_uncomputable_combination_is_a_problem():
    m = model({"x1": [1, 2, 3, 4, 5, 6], "x2": [6, 5, 4, 3, 2, 1.5]})
    a = assumptions(("normalisation", "choice", "minmax;zscore"),
                    ("aggregation", "choice", "arithmetic;geometric"))
    with pytest.raises(ProblemsFound) as e:
        run_uncertainty(m, a, samples=8)
    texts = [p.problem for p in e.value.problems]
    assert any(t.startswith("the combination normalisation = zscore, aggregation = geometric "
                            "cannot be computed") for t in texts)


def test_same_seed_same_numbers():
    a = assumptions(("weights", "dirichlet", 30), ("normalisation", "choice", "minmax;rank"))
    one = run_uncertainty(SMALL, a, samples=64, seed=7, budget=0)
    two = run_uncertainty(SMALL, a, samples=64, seed=7, budget=0)
    other = run_uncertainty(SMALL, a, samples=64, seed=8, budget=0)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.sensitivity, two.sensitivity)
    assert not one.sensitivity.equals(other.sensitivity)


DATA_BOOK = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"


def _sheet(path, name):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_cli_prints_whole_ranks_and_writes_the_same_sheets_for_the_same_seed(tmp_path):
    from click.testing import CliRunner

    from xl_aiindex.cli import cli

    outs = [tmp_path / "u1.xlsx", tmp_path / "u2.xlsx"]
    for out in outs:
        r = CliRunner().invoke(cli, ["uncertainty", str(DATA_BOOK), "-o", str(out), "--samples",
                                     "64", "--budget", "0", "--top", "3"], catch_exceptions=False)
        assert r.exit_code == 0, r.output
    assert r.stdout == (
        f"Uncertainty analysis of {DATA_BOOK}: 3 assumptions, N = 64, 320 runs\n"
        f"Wrote UncertaintyResults and Sensitivity to {outs[1]}\n"
        "\n"
        "assumption     first-order    95% interval  total  95% interval\n"
        "weights              -0.23   -0.51 to 0.01   0.05  0.03 to 0.08\n"
        "normalisation         0.91    0.87 to 0.95   1.12  0.87 to 1.43\n"
        "indicators           -0.27  -0.52 to -0.02   0.15  0.10 to 0.22\n"
        "\n"
        "rank  unit      5%  median  95%  same tier  mean shift\n"
        "   1  beijing    1       1    1       100%        0.00\n"
        "   2  shanghai   2       2    2       100%        0.00\n"
        "   3  shenzhen   3       3    6       100%        0.78\n")
    assert r.stderr == ("note: with N = 64: 95 % intervals up to 0.57 wide (above 0.1); for "
                        "reliable indices run with --samples 2048\n")
    for name in ("UncertaintyResults", "Sensitivity"):
        assert _sheet(outs[0], name) == _sheet(outs[1], name)
    units = _sheet(outs[0], "UncertaintyResults")
    assert units[0] == ("unit", "name_zh", "name_en", "nominal_rank", "rank_q05", "median_rank",
                        "rank_q95", "nominal_tier", "p_nominal_tier", "mean_abs_shift",
                        "below_median", "above_median")
    assert len(units) == 31 and units[1][:7] == ("beijing", "北京", "Beijing", 1, 1, 1, 1)
    assert [row[3] for row in units[1:]] == sorted(row[3] for row in units[1:])
    sens = _sheet(outs[0], "Sensitivity")
    assert sens[0] == ("assumption", "levels", "first_order", "first_order_low",
                       "first_order_high", "total", "total_low", "total_high", "note",
                       "samples", "runs")
    assert [(row[0], row[1], row[-2], row[-1]) for row in sens[1:]] == [
        ("weights", 1000, 64, 320), ("normalisation", 3, 64, 320), ("indicators", 21, 64, 320)]


def test_cli_reports_bad_rows(small_book):
    import openpyxl
    from click.testing import CliRunner

    from xl_aiindex.cli import cli

    wb = openpyxl.load_workbook(small_book)
    ws = wb.create_sheet("Uncertainty")
    for row in (("assumption", "how", "values"), ("weights", "uniform", 3)):
        ws.append(row)
    wb.save(small_book)
    r = CliRunner().invoke(cli, ["uncertainty", str(small_book)])
    assert r.exit_code == 1
    assert r.output.splitlines()[1].startswith(
        "Sheet 'Uncertainty', cell A2: weights / uniform needs a share between 0 and 1")


def test_ai_rank_interval_spills_the_last_runs_interval(tmp_path):
    from udfs import AI_RANK_INTERVAL, use_book
    from xl_aiindex.workbook.uncertainty_io import uncertainty_file

    # no run yet: a clear message, and no run is started
    with use_book(DATA_BOOK):
        assert AI_RANK_INTERVAL("北京") == ("#AI! no uncertainty run yet (no UncertaintyResults "
                                            "sheet): run xl-aiindex uncertainty on this workbook "
                                            "first")
    out = tmp_path / "u.xlsx"
    result = uncertainty_file(DATA_BOOK, out, samples=32, budget=0)
    rows = {row[0]: row for row in _sheet(out, "UncertaintyResults")[1:]}
    by_unit = result.summary.set_index("unit")
    with use_book(out):
        for city, unit in (("北京", "beijing"), ("Wuhan", "wuhan"), (" SU zhou ", "suzhou")):
            interval = AI_RANK_INTERVAL(city)
            assert interval == [list(rows[unit][4:7])]
            assert interval == [[int(by_unit.loc[unit, c]) for c in ("rank_q05", "median_rank",
                                                                      "rank_q95")]]
        assert AI_RANK_INTERVAL("Pekin") == ('#AI! unknown city "Pekin" in sheet UncertaintyResults '
                                             "(use a unit id, name_zh or name_en)")
        assert AI_RANK_INTERVAL(None) == "#AI! city is blank"


def test_progress_is_reported_per_chunk_up_to_the_total():
    a = assumptions(("weights", "uniform", 0.4), ("normalisation", "choice", "minmax;rank"))
    calls = []
    run_uncertainty(SMALL, a, samples=32, budget=0, progress=lambda d, t: calls.append((d, t)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == calls[-1][1] <= 32 * 4


# ---- the rank-interval chart on UncertaintyResults ----------------------------------------

def test_rank_interval_chart_references_the_sheet_and_survives_a_rerun(tmp_path):
    from test_charts import NS, _charts_of, package_parts

    from xl_aiindex.workbook.uncertainty_io import UNITS_COLUMNS, uncertainty_file

    out = tmp_path / "u.xlsx"
    result = uncertainty_file(DATA_BOOK, out, samples=32, budget=0)
    rows = _sheet(out, "UncertaintyResults")
    n = len(rows) - 1
    assert n == 30 and rows[0] == UNITS_COLUMNS
    col = {c: i for i, c in enumerate(rows[0])}
    for row in rows[1:]:
        q05, median, q95 = (row[col[c]] for c in ("rank_q05", "median_rank", "rank_q95"))
        assert (row[col["below_median"]], row[col["above_median"]]) == (median - q05,
                                                                         q95 - median)
        assert all(float(row[col[c]]).is_integer() and row[col[c]] >= 0
                   for c in ("below_median", "above_median"))
    assert any(row[col["above_median"]] > 0 for row in rows[1:])
    assert [r[0] for r in rows[1:]] == list(result.summary["unit"])     # nominal order
    [chart] = _charts_of(out, "UncertaintyResults")
    assert chart.find(".//c:title//a:t", NS).text == "排名区间 Rank intervals (5–95 %)"
    ser = chart.find(".//c:lineChart/c:ser", NS)
    ref = "'UncertaintyResults'!${0}$2:${0}${1}".format
    # B = name_zh, F = median_rank, M = below_median, N = above_median; rows 2..n+1
    assert ser.find("c:cat/c:strRef/c:f", NS).text == ref("B", n + 1)
    assert ser.find("c:val/c:numRef/c:f", NS).text == ref("F", n + 1)
    assert ser.find("c:errBars/c:minus/c:numRef/c:f", NS).text == ref("K", n + 1)
    assert ser.find("c:errBars/c:plus/c:numRef/c:f", NS).text == ref("L", n + 1)
    assert [rows[0][i] for i in (1, 5, 10, 11)] == ["name_zh", "median_rank", "below_median",
                                                    "above_median"]
    assert chart.find(".//c:valAx/c:scaling/c:orientation", NS).get("val") == "maxMin"
    # a rerun over the same units with other draws: new cells, the same chart parts
    before = package_parts(out)
    uncertainty_file(out, samples=16, seed=5, budget=0)
    after = package_parts(out)
    assert _sheet(out, "UncertaintyResults") != rows
    parts = [p for p in before if p.startswith(("xl/charts/", "xl/drawings/drawing",
                                                "xl/drawings/_rels/drawing"))]
    assert sum(p.startswith("xl/charts/chart") for p in parts) == 11      # 10 + the interval
    assert {p: after[p] for p in parts} == {p: before[p] for p in parts}
    assert [p for p in after if p not in before] == []


def test_units_without_chinese_names_are_named_in_english_on_the_chart():
    from xl_aiindex.workbook.uncertainty_io import label_column

    assert label_column(["北京", "上海"], ["Beijing", "Shanghai"]) == "name_zh"
    assert label_column(["北京", " "], ["Beijing", "Shanghai"]) == "name_en"
    assert label_column(["北京", ""], ["", "Shanghai"]) == "unit"


@pytest.mark.libreoffice
@pytest.mark.skipif(__import__("shutil").which("pdftotext") is None,
                    reason="poppler-utils is not installed; .ci/run installs it")
def test_libreoffice_draws_the_rank_interval_chart(tmp_path):
    import subprocess

    import openpyxl
    from click.testing import CliRunner
    from lo_harness import render_pngs

    from xl_aiindex.cli import cli

    out = tmp_path / "u.xlsx"
    r = CliRunner().invoke(cli, ["uncertainty", str(DATA_BOOK), "-o", str(out), "--samples",
                                 "32", "--budget", "0"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    png = render_pngs(out, ["UncertaintyResults"], tmp_path / "png", dpi=60,
                      keep_pdf=True)["UncertaintyResults"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = str(openpyxl.load_workbook(out, read_only=True).sheetnames
               .index("UncertaintyResults") + 1)
    text = subprocess.run(["pdftotext", "-f", page, "-l", page, str(tmp_path / "png" /
                                                                   "book.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    # the title exists only in the chart part: LibreOffice drew the chart, in Chinese
    assert "排名区间" in text and "Rank intervals" in text
