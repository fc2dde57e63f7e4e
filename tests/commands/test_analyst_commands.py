"""What analysts expect beside the index (#22 §4): explain's raw values and marks, audit's
missing count, compare's ranks and --node, and --json for explain, audit, fit-weights and
compare — exact output and exit codes on the small index, values worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from conftest import run, write_book


@pytest.fixture
def treated_book(tmp_path: Path, small) -> Path:
    """The small index with a's x1 blank (filled with the mean of the others, 35) and
    outliers winsorised at the 25th/75th percentiles."""
    small["Settings"] = [r if r[0] != "missing" else ["missing", "mean"] for r in small["Settings"]]
    small["Settings"].append(["outliers", "winsorise:25"])
    small["Data"][1][1] = None
    return write_book(tmp_path / "treated.xlsx", small)


# By hand: x1 prepared a 35 (imputed), b 20, c 30, d 40, e 50; winsorised at 30/40 → a 35 kept
# → minmax (35 − 30)/10 = 50. x2 (lower is better) 5,4,3,2,1 winsorised at 2/4 → a 5 → 4
# (treated) → 100, mirrored 0. d1 = .5·50 + .5·0 = 25; d1 scores a 25, b 0, c 25, d 100,
# e 100 → a 3rd of 5, best 100.
EXPLAIN_D1 = """\
node  name    weight  raw  score  to parent  rank  gap to best  mark
d1    维度一   1.000       25.00      25.00   3/5        75.00
  x1  指标一   0.500       50.00      25.00   3/5        50.00  imputed
  x2  指标二   0.500    5   0.00       0.00   4/5       100.00  treated
imputed: blank in Data, filled by missing = mean
treated: an outlier, changed by outliers = winsorise:25 before normalisation
"""


def test_explain_shows_raw_values_and_marks_imputed_and_treated(treated_book):
    r = run("explain", treated_book, "甲", "--node", "d1")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "\n".join(lines[2:8]) + "\n" == EXPLAIN_D1
    assert lines[-1] == ("Largest loss: x2 (指标二): weight 0.500 × gap 100.00 = 50.00 points "
                         "of d1")


def test_explain_without_indicators_keeps_its_columns(small_book):
    r = run("explain", small_book, "c")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[2].split() == ["node", "name", "weight", "score", "to", "parent",
                                                "rank", "gap", "to", "best"]


def test_explain_json(treated_book):
    r = run("explain", treated_book, "a", "--node", "d1", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert {k: doc[k] for k in ("path", "status", "unit", "rank", "of", "tier", "node")} == {
        "path": str(treated_book), "status": "ok", "unit": "a", "rank": 4, "of": 5,
        "tier": "middle", "node": "d1"}
    rows = {row["node"]: row for row in doc["rows"]}
    assert (rows["x1"]["raw"], rows["x1"]["imputed"], rows["x1"]["treated"]) == (None, True, False)
    assert (rows["x2"]["raw"], rows["x2"]["imputed"], rows["x2"]["treated"]) == (5, False, True)
    assert rows["d1"]["score"] == pytest.approx(25) and rows["x1"]["score"] == pytest.approx(50)
    assert doc["largest_loss"] == {"node": "x2", "name": "指标二", "weight": 0.5, "gap": 100.0,
                                   "points": 50.0}


def test_explain_json_error_is_a_record(small_book):
    r = run("explain", small_book, "Epsilom", "--json")
    assert r.exit_code == 2
    assert json.loads(r.output) == {
        "path": str(small_book), "status": "unreadable",
        "error": 'unknown city "Epsilom" — did you mean Epsilon?', "problems": []}


def test_audit_miss_counts_imputed_values(treated_book):
    r = run("audit", treated_book, "--no-sheet")
    assert r.exit_code == 0, r.output
    rows = {line.split()[0]: line.split() for line in r.output.splitlines()
            if line.startswith("  x")}
    # x1: one blank in Data (imputed with 35); statistics over 35, 20, 30, 40, 50
    assert rows["x1"][1:6] == ["1", "20.00", "50.00", "35.00", "11.18"]
    assert rows["x2"][1] == rows["x3"][1] == rows["x4"][1] == "0"


def test_audit_json(treated_book):
    r = run("audit", treated_book, "--no-sheet", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert (doc["path"], doc["status"], doc["output"], doc["units"]) == (
        str(treated_book), "ok", "", 5)
    rows = {row["node"]: row for row in doc["rows"]}
    assert rows["x1"]["missing"] == 1 and rows["x1"]["mean"] == pytest.approx(35)
    assert [g["node"] for g in doc["groups"]] == ["index", "d1", "d2"]
    assert doc["notes"] == ["x1: 1 missing value(s) set to the mean of the other units (35)"]


def test_audit_json_problems_record(tmp_path, small):
    small["Data"][2][2] = "abc"
    book = write_book(tmp_path / "bad.xlsx", small)
    r = run("audit", book, "--json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc["status"] == "problems" and len(doc["problems"]) == 1
    assert doc["error"] == doc["problems"][0] and "'abc'" in doc["error"]


def test_compare_node_and_ranks(small_book):
    r = run("compare", small_book, "e", "a", "--node", "维度一")
    assert r.exit_code == 0, r.output
    # x1 (higher better) 10…50 → a 0, e 100; x2 (lower better) 5…1 → a 0, e 100; d1 the mean
    assert r.output.splitlines()[4:] == [
        "node  name         Epsilon  rank  Alpha  rank  Epsilon−Alpha",
        "x1    Indicator 1   100.00     1   0.00     5         100.00",
        "x2    Indicator 2   100.00     1   0.00     5         100.00",
        "d1    Dimension 1   100.00     1   0.00     5         100.00",
    ]


def test_compare_node_errors(small_book):
    r = run("compare", small_book, "a", "e", "--node", "x1")
    assert r.exit_code == 1
    assert r.output == ("Error: node x1 (指标一) has no children to compare: name a node above "
                        "the indicators\n")
    r = run("compare", small_book, "a", "e", "--node", "x9")
    assert r.exit_code == 2 and r.output.startswith('Error: unknown node "x9"')


def test_compare_json(small_book):
    r = run("compare", small_book, "Epsilon", "gamma", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["node"] == "index"
    assert doc["units"] == [
        {"unit": "e", "name": "Epsilon", "rank": 1, "of": 5, "tier": "top"},
        {"unit": "c", "name": "Gamma", "rank": 3, "of": 5, "tier": "middle"}]
    total = doc["rows"][-1]
    assert total == {"node": "index", "name": "Index", "scores": {"e": 100, "c": 42.5},
                     "ranks": {"e": 1, "c": 3}, "differences": {"c": 57.5}}


def test_fit_weights_json(tmp_path, small):
    small["Settings"][2][1] = "given"
    small["Given"] = [["unit", "d1", "d2", "published"]] + [
        [u, d1, d2, 0.6 * d1 + 0.4 * d2] for u, d1, d2 in
        [("a", 10, 50), ("b", 20, 30), ("c", 70, 40), ("d", 90, 95), ("e", 40, 10)]]
    book = write_book(tmp_path / "g.xlsx", small)
    r = run("fit-weights", book, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert (doc["path"], doc["status"], doc["node"], doc["target"]) == (
        str(book), "ok", "index", "published")
    assert doc["weights"]["d1"]["framework"] == 0.6
    assert doc["weights"]["d1"]["fitted"] == pytest.approx(0.6, abs=1e-6)
    assert doc["weights"]["d2"]["fitted"] == pytest.approx(0.4, abs=1e-6)
    assert sorted(doc["residuals"]) == ["a", "b", "c", "d", "e"]
    assert doc["rmse"] == pytest.approx(0, abs=1e-6)


# ---- uncertainty without an Uncertainty sheet ----------------------------------------------

def test_uncertainty_without_a_sheet_runs_the_default_analysis(treated_book, tmp_path):
    out = tmp_path / "u.xlsx"
    r = run("uncertainty", treated_book, "-o", out, "--samples", "16", "--budget", "0",
            "--top", "0")
    assert r.exit_code == 0, r.output
    # a's x1 is blank in Data: the missing-value methods vary too, the Settings' own first
    assert r.stderr.splitlines()[0] == (
        "note: the workbook has no Uncertainty sheet: ran the default analysis (weights ±25%, "
        "normalisation minmax/zscore/rank, missing mean/reweight/median; see docs/commands.md); "
        "add an Uncertainty sheet to choose what varies")
    assert r.stdout.splitlines()[0] == (f"Uncertainty analysis of {treated_book}: 3 assumptions, "
                                        "N = 16, 80 runs")
    sens = list(openpyxl.load_workbook(out)["Sensitivity"].iter_rows(values_only=True))
    assert [(row[0], row[1]) for row in sens[1:]] == [("weights", 1000), ("normalisation", 3),
                                                      ("missing", 3)]


def test_default_analysis_fits_the_model(small):
    from xl_aiindex.uncertainty_defaults import default_assumptions

    # no blank in Data: no missing factor
    model = _model(small)
    assert default_assumptions(model)[0] == [("weights", "uniform", 0.25),
                                             ("normalisation", "choice", "minmax;zscore;rank")]
    # geometric aggregation needs positive scores: min-max (0 at the minimum) and z-scores
    # (negative) are left out, rank alone is no choice: only the weights vary
    small["Settings"] = [r if r[0] != "aggregation" else ["aggregation", "geometric"]
                         for r in small["Settings"]]
    rows, notes = default_assumptions(_model(small))
    assert rows == [("weights", "uniform", 0.25)]
    assert [n.split(":")[0] for n in notes] == [
        "the default analysis leaves normalisation = minmax out",
        "the default analysis leaves normalisation = zscore out"]
    # input = given: nothing is normalised or imputed
    small["Settings"][2][1] = "given"
    small["Given"] = [["unit", "d1", "d2"], ["a", 1, 2], ["b", 3, None]]
    assert default_assumptions(_model(small))[0] == [("weights", "uniform", 0.25)]


def _model(sheets):
    import tempfile

    from xl_aiindex.workbook.io import load_workbook

    with tempfile.TemporaryDirectory() as tmp:
        return load_workbook(write_book(Path(tmp) / "m.xlsx", sheets)).model
