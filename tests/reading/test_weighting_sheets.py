"""AHP_<node> and Budget_<node> sheets, read from a workbook and used as weights."""

from click.testing import CliRunner
from conftest import write_book

from xl_aiindex.workbook.io import validate_file


def test_ahp_and_budget_sheets_set_the_weights(tmp_path, small):
    small["Framework"][0].append("weighting")
    small["Framework"][1].append("ahp")        # index: d1 vs d2 from a pairwise matrix
    small["Framework"][3].append("budget")     # d2: x3 vs x4 from experts' points
    small["AHP_index"] = [["", "d1", "d2"], ["d1", 1, 3], ["d2", 1 / 3, 1]]
    small["Budget_d2"] = [["expert", "x3", "x4"], ["e1", 50, 50], ["e2", 10, 30]]
    result, notes = validate_file(write_book(tmp_path / "w.xlsx", small))
    used = result.weights_used.set_index("child")
    # AHP, 2×2 consistent matrix [[1, 3], [1/3, 1]]: principal eigenvector (3, 1)/4
    assert used.loc["d1", "weight"] == 0.75 and used.loc["d1", "method"] == "ahp"
    # budget: shares (.5, .5) and (.25, .75), mean (.375, .625)
    assert used.loc["x4", "weight"] == 0.625 and used.loc["x4", "method"] == "budget"
    assert used.loc["x4", "weight_in_total"] == 0.25 * 0.625
    # c: d1 = 50, d2 = .375·50 + .625·25 = 34.375 → .75·50 + .25·34.375
    assert abs(result.total["c"] - (0.75 * 50 + 0.25 * 34.375)) < 1e-9


def test_inconsistent_ahp_matrix_is_noted_and_a_missing_sheet_is_a_problem(tmp_path, small):
    from xl_aiindex.cli import cli

    small["Framework"][0].append("weighting")
    small["Framework"][2].append("ahp")        # d1: x1 vs x2 — but no AHP_d1 sheet
    r = CliRunner().invoke(cli, ["validate", str(write_book(tmp_path / "a.xlsx", small))])
    assert r.exit_code == 1
    assert "Sheet 'Framework', cell H3: node d1 (维度一) uses ahp weighting but the workbook has " \
           "no sheet 'AHP_d1'" in r.output
    # three children judged x > y, y > z but z > x: Saaty's consistency ratio far above 0.1
    small["Framework"] = [["id", "parent", "weight", "weighting"], ["index", None, None, "ahp"],
                          ["x1", "index", None, None], ["x2", "index", None, None],
                          ["x3", "index", None, None]]
    small["Data"] = [["unit", "x1", "x2", "x3"]] + [[u, i, 5 - i, i * i] for u, i in
                                                   zip("abcde", range(1, 6), strict=True)]
    small["AHP_index"] = [["", "x1", "x2", "x3"], ["x1", 1, 5, 1 / 7], ["x2", 1 / 5, 1, 5],
                          ["x3", 7, 1 / 5, 1]]
    _, notes = validate_file(write_book(tmp_path / "b.xlsx", small))
    assert any(n.startswith("AHP_index: consistency ratio") for n in notes)
