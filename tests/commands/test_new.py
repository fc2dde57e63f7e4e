"""`xl-aiindex new`: a ready workbook for a user's own index of any depth, then fill → recalc."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import run

#: A 4-level tree that is not the 2020 one (root → dimension → sub-dimension → indicator), with
#: a lower-is-better indicator and a per-capita one.
TREE = """id,parent,name_zh,name_en,weight,direction,normalisation,denominator
hdi,,人类发展,Human development,,,,
health,hdi,健康,Health,0.5,,,
wealth,hdi,财富,Wealth,0.5,,,
life,health,寿命,Life,1,,,
income,wealth,收入,Income,0.6,,,
jobs,wealth,就业,Jobs,0.4,,,
lifeexp,life,预期寿命,Life expectancy,0.5,1,minmax,
mort,life,死亡率,Mortality,0.5,-1,,
gni,income,人均收入,GNI per capita,1,1,,population
emp,jobs,就业率,Employment,1,,,
"""
UNITS = """id,name_zh,name_en,region,population
a,甲,Alpha,north,1
b,乙,Beta,south,2
c,丙,Gamma,south,4
"""
#: Raw values typed into Data after `new`.
DATA = {"a": {"lifeexp": 60, "mort": 10, "gni": 10, "emp": 1},
        "b": {"lifeexp": 70, "mort": 30, "gni": 40, "emp": 2},
        "c": {"lifeexp": 80, "mort": 20, "gni": 40, "emp": 3}}
#: By hand (min-max 0–100): lifeexp 0, 50, 100; mort (lower is better) 100, 0, 50;
#: life = health = .5·lifeexp + .5·mort = 50, 25, 75; gni per capita 10, 20, 10 → 0, 100, 0;
#: emp 0, 50, 100; wealth = .6·gni + .4·emp = 0, 80, 40; hdi = .5·health + .5·wealth.
EXPECTED: dict[str, dict[str, float]] = {
    "a": {"lifeexp": 0, "mort": 100, "life": 50, "health": 50, "gni": 0, "income": 0, "emp": 0,
          "jobs": 0, "wealth": 0, "hdi": 25},
    "b": {"lifeexp": 50, "mort": 0, "life": 25, "health": 25, "gni": 100, "income": 100,
          "emp": 50, "jobs": 50, "wealth": 80, "hdi": 52.5},
    "c": {"lifeexp": 100, "mort": 50, "life": 75, "health": 75, "gni": 0, "income": 0,
          "emp": 100, "jobs": 100, "wealth": 40, "hdi": 57.5},
}


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    tree, units = tmp_path / "tree.csv", tmp_path / "units.csv"
    tree.write_text(TREE, encoding="utf-8")
    units.write_text(UNITS, encoding="utf-8")
    return tree, units


def _new(csvs: tuple[Path, Path], out: Path, *extra: object):
    return run("new", "--framework", csvs[0], "--units", csvs[1], "-o", out, *extra)


def test_new_writes_a_ready_workbook(csvs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "hdi.xlsx"
    r = _new(csvs, out)
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"Wrote {out}: 10 nodes in 4 levels (4 indicators), 3 units\n"
        "Next: fill the Data sheet (a row per unit, a column per indicator; blank = missing), "
        "then run\n"
        f"  xl-aiindex recalc {out}\n")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["README", "Settings", "Framework", "Units", "Data", "Uncertainty",
                             "Scores", "Ranking", "Tiers", "WeightsUsed", "Problems", "Log"]
    data = [[c.value for c in row] for row in wb["Data"].iter_rows()]
    assert data == [["unit", "lifeexp", "mort", "gni", "emp"], ["a", None, None, None, None],
                    ["b", None, None, None, None], ["c", None, None, None, None]]
    settings = {r[0]: r[1] for r in wb["Settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["name_zh"] == "人类发展" and settings["name_en"] == "Human development"
    assert settings["input"] == "data" and settings["output"] == "values"
    framework = [[c.value for c in row] for row in wb["Framework"].iter_rows(max_col=10)]
    assert framework[1][:2] == ["hdi", None] and framework[9][:6] == ["gni", "income", "人均收入",
                                                                       "GNI per capita", 1, 1]
    assert framework[9][9] == "population"
    assert wb["Framework"]["Q3"].value == "=SUMIF($B:$B,B3,$E:$E)"      # sibling_sum helper
    readme = " ".join(str(c.value) for row in wb["README"].iter_rows() for c in row)
    assert f"xl-aiindex recalc {out.name}" in readme and "填写 Data 表" in readme
    lists = {str(dv.sqref): dv.formula1 for dv in wb["Data"].data_validations.dataValidation
             if dv.type == "list"}
    assert lists == {"A2:A204": "Units!$A$2:$A$4"}
    for sheet in ("Scores", "Ranking", "Tiers", "WeightsUsed"):
        assert wb[sheet].max_row == 1                   # header only until recalc


def _fill(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb["Data"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        for col, value in DATA[str(row[0].value)].items():
            row[header.index(col)].value = value
    wb.save(book)


@pytest.mark.parametrize("flag", [[], ["--formulas"]])
def test_new_fill_recalc(csvs: tuple[Path, Path], tmp_path: Path, flag: list[str]) -> None:
    book = tmp_path / "hdi.xlsx"
    assert _new(csvs, book).exit_code == 0
    _fill(book)
    r = run("recalc", book, *flag)
    assert r.exit_code == 0, r.output
    wrote = ("Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, Charts, Calc, CalcStats and Log to "
             f"{book} (live formulas with cached values)" if flag else
             f"Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, Charts and Log to {book}")
    assert r.output == (
        f"Recalculated {book}: 3 units, 10 nodes (input = data)\n"
        f"{wrote}\n"
        "\n"
        "rank  unit  name  score  tier\n"
        "   1  c     丙    57.50  Tier 1\n"
        "   2  b     乙    52.50  Tier 1\n"
        "   3  a     甲    25.00  Tier 1\n")
    wb = openpyxl.load_workbook(book, data_only=True)
    rows = list(wb["Scores"].iter_rows(values_only=True))
    header = rows[0]
    assert header == ("unit", "name_zh", "name_en", "health", "wealth", "life", "income", "jobs",
                      "lifeexp", "mort", "gni", "emp", "hdi", "coverage")
    for row in rows[1:]:
        got: dict[str, Any] = dict(zip(map(str, header), row, strict=True))
        for node, value in EXPECTED[str(got["unit"])].items():
            assert got[node] == pytest.approx(value, abs=1e-12), (got["unit"], node)
        assert got["coverage"] == 1
    ranking = [r[:6] for r in wb["Ranking"].iter_rows(min_row=2, values_only=True)]
    assert ranking == [(1, "c", "丙", "Gamma", 57.5, 1), (2, "b", "乙", "Beta", 52.5, 1),
                       (3, "a", "甲", "Alpha", 25, 1)]
    weights = {(r[0], r[1]): r[4] for r in wb["WeightsUsed"].iter_rows(min_row=2, values_only=True)}
    assert weights[("income", "gni")] == pytest.approx(0.5 * 0.6)
    assert weights[("life", "mort")] == pytest.approx(0.5 * 1 * 0.5)


def test_new_refuses_to_overwrite(csvs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "hdi.xlsx"
    out.write_bytes(b"mine")
    r = _new(csvs, out)
    assert r.exit_code == 2
    assert r.output == f"Error: {out} exists: use --force to overwrite it, or write to another file\n"
    assert out.read_bytes() == b"mine"
    r = _new(csvs, out, "--force")
    assert r.exit_code == 0, r.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "README"


def test_new_lists_every_problem_of_the_csvs(tmp_path: Path) -> None:
    tree, units = tmp_path / "tree.csv", tmp_path / "units.csv"
    tree.write_text(TREE.replace("income,wealth,收入,Income,0.6", "income,wealth,收入,Income,abc")
                    .replace("mort,life,死亡率,Mortality,0.5,-1", "mort,life,死亡率,Mortality,0.5,2")
                    .replace(",,population", ",,pop")
                    .replace("emp,jobs,就业率,Employment,1,,,", "emp,jobs,就业率,Employment,1,,min-max,"),
                    encoding="utf-8")
    units.write_text(UNITS, encoding="utf-8")
    out = tmp_path / "bad.xlsx"
    r = run("new", "--framework", tree, "--units", units, "-o", out)
    assert r.exit_code == 1
    assert r.output == (
        "4 problems found:\n"
        "File 'tree.csv', cell E6: node income, column weight: 'abc' is not a number\n"
        "File 'tree.csv', cell F9: node mort, column direction: '2' must be 1, + or 正向 (higher "
        "is better), -1, - or 负向 (lower is better)\n"
        "File 'tree.csv', cell H10: node gni, column denominator: 'pop' is not a column of the "
        "units file; numeric units columns: population\n"
        "File 'tree.csv', cell G11: node emp, column normalisation: unknown method 'min-max'; "
        "choose one of: efficacy, goalposts, minmax, percentile, rank, zscore\n")
    assert not out.exists()
    # a broken units file is reported too (the denominators cannot be checked against it then)
    units.write_text(UNITS + "A,甲二,Alpha 2,north,3\n", encoding="utf-8")
    r = run("new", "--framework", tree, "--units", units, "-o", out)
    assert r.exit_code == 1
    assert r.output.splitlines()[:2] == [
        "4 problems found:",
        "File 'units.csv', cell A5: unit id 'A' is used twice (first in A2); ids must be unique "
        "(case-insensitive)"]
    assert not out.exists()


def test_new_tree_structure_problems(csvs: tuple[Path, Path], tmp_path: Path) -> None:
    csvs[0].write_text(TREE.replace("jobs,wealth", "jobs,welth"), encoding="utf-8")
    r = _new(csvs, tmp_path / "x.xlsx")
    assert r.exit_code == 1
    assert r.output == ("1 problem found:\n"
                        "File 'tree.csv', cell B7: node jobs (就业) has parent 'welth', which is "
                        "not a node id (orphan node)\n")


def test_new_needs_its_files(csvs: tuple[Path, Path], tmp_path: Path) -> None:
    r = run("new", "--framework", tmp_path / "nope.csv", "--units", csvs[1], "-o",
            tmp_path / "x.xlsx")
    assert r.exit_code == 2
    assert "'--framework'" in r.output and "does not exist" in r.output
    r = run("new", "--framework", csvs[0], "--units", csvs[1])
    assert r.exit_code == 2 and "Missing option '-o'" in r.output
