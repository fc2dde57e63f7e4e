"""Uncertainty and sensitivity analysis on indices built so the answer is known by construction."""

import numpy as np
import pandas as pd
import pytest

from xl_aiindex import IndexModel, Node, ProblemsFound, Settings
from xl_aiindex.uncertainty import parse_assumptions, run_uncertainty

NODES = (Node("index", None), Node("x1", "index", weight=0.5), Node("x2", "index", weight=0.5))
IDS = ["u1", "u2", "u3", "u4", "u5", "u6"]
UNITS = pd.DataFrame({"name_zh": IDS, "name_en": IDS}, index=IDS)


def model(data):
    return IndexModel(NODES, Settings(), UNITS, pd.DataFrame(data, index=IDS, dtype=float))


def test_parse_reports_bad_rows():
    _, problems = parse_assumptions([("weights", "uniform", 2), ("normalisation", "choice", "minmax"),
                                     ("colour", "choice", "a;b"), ("aggregation", "pick", "x")])
    texts = [p.problem for p in problems]
    assert texts[0].startswith("weights / uniform needs a share between 0 and 1")
    assert texts[1].startswith("normalisation / choice needs two or more of:")
    assert texts[2].startswith("unknown assumption 'colour'")
    assert texts[3].startswith("assumption 'aggregation': unknown way 'pick'")


def test_tiny_weight_changes_on_a_well_separated_index_change_no_rank():
    m = model({"x1": [10, 20, 30, 40, 50, 60], "x2": [1, 2, 3, 4, 5, 6]})
    a, _ = parse_assumptions([("weights", "uniform", 0.05)])
    r = run_uncertainty(m, a, samples=16)
    assert (r.summary["mean_abs_shift"] == 0).all()
    assert r.summary["rank_q05"].tolist() == r.summary["rank_q95"].tolist() == [1, 2, 3, 4, 5, 6]
    assert r.runs == len(r.ranks) >= 16
    assert r.notes == ("no assumption changed any rank: sensitivity indices are 0",)


def test_the_assumption_that_matters_gets_the_sensitivity():
    # x1 has an outlier: min-max lets u1 win on it (totals 80, 50.2, 40.15, …), rank
    # normalisation does not (u2 5.5, u1 5, u3 4.5, …); every margin outlasts weights ±1 %
    m = model({"x1": [1000, 5, 4, 3, 2, 1], "x2": [4, 6, 5, 3, 2, 1]})
    a, _ = parse_assumptions([("weights", "uniform", 0.01),
                              ("normalisation", "choice", "minmax;rank")])
    r = run_uncertainty(m, a, samples=64)
    s = r.sensitivity.set_index("assumption")
    assert s.loc["normalisation", "total"] > 0.9
    assert s.loc["weights", "total"] == pytest.approx(0.0, abs=0.05)
    u1 = r.summary.set_index("unit").loc["u1"]
    assert u1["nominal_rank"] == 1 and u1["rank_q95"] == 2
    assert sorted(set(r.ranks["u1"])) == [1, 2]


def test_leave_one_out_runs_every_variant():
    m = model({"x1": [1, 2, 3, 4, 5, 6], "x2": [6, 5, 4, 3, 2, 1.5]})
    a, _ = parse_assumptions([("indicators", "leave_one_out", None)])
    r = run_uncertainty(m, a, samples=32)
    # leaving x2 out ranks by x1 (u6 first); leaving x1 out ranks by x2 (u1 first)
    seen_first = {tuple(row) for row in (r.ranks[["u1", "u6"]] == 1).to_numpy()}
    assert (True, False) in seen_first and (False, True) in seen_first


def test_uncomputable_combination_is_a_problem():
    m = model({"x1": [1, 2, 3, 4, 5, 6], "x2": [6, 5, 4, 3, 2, 1.5]})
    a, _ = parse_assumptions([("normalisation", "choice", "minmax;zscore"),
                              ("aggregation", "choice", "arithmetic;geometric")])
    with pytest.raises(ProblemsFound) as e:
        run_uncertainty(m, a, samples=8)
    texts = [p.problem for p in e.value.problems]
    assert any(t.startswith("the combination normalisation = zscore, aggregation = geometric "
                            "cannot be computed") for t in texts)
    assert np.isfinite(len(texts))


def test_cli_writes_both_sheets_and_reports_bad_rows(tmp_path, small_book):
    from pathlib import Path

    import openpyxl
    from click.testing import CliRunner

    from xl_aiindex.cli import cli

    book = Path(__file__).resolve().parents[1] / "workbooks" / "city_ai_index_2020_data.xlsx"
    out = tmp_path / "u.xlsx"
    r = CliRunner().invoke(cli, ["uncertainty", str(book), "-o", str(out), "--samples", "8"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[:2] == [
        f"Uncertainty analysis of {book}: 3 assumptions, 40 runs",
        f"Wrote UncertaintyResults and Sensitivity to {out}"]
    wb = openpyxl.load_workbook(out, read_only=True)
    units = list(wb["UncertaintyResults"].iter_rows(values_only=True))
    assert units[0][:4] == ("unit", "name_zh", "name_en", "nominal_rank") and len(units) == 31
    assert [r[0] for r in wb["Sensitivity"].iter_rows(values_only=True)] == [
        "assumption", "weights", "normalisation", "indicators"]
    # the small book has no Uncertainty sheet
    r = CliRunner().invoke(cli, ["uncertainty", str(small_book)])
    assert r.exit_code == 1
    assert "the workbook has no sheet 'Uncertainty'" in r.output
    wb = openpyxl.load_workbook(small_book)
    ws = wb.create_sheet("Uncertainty")
    for row in (("assumption", "how", "values"), ("weights", "uniform", 3)):
        ws.append(row)
    wb.save(small_book)
    r = CliRunner().invoke(cli, ["uncertainty", str(small_book)])
    assert r.exit_code == 1
    assert r.output.splitlines()[1].startswith(
        "Sheet 'Uncertainty', cell A2: weights / uniform needs a share between 0 and 1")
