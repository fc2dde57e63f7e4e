"""`xl-aiindex new --data DATA.csv` (the Data sheet filled from a file whose headers and row
labels are ids or names) and the Uncertainty sheet `new` writes (#22 §4)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from conftest import run

TREE = """id,parent,name_zh,name_en,weight,direction
hdi,,人类发展,Human development,,
health,hdi,健康,Health,0.5,
wealth,hdi,财富,Wealth,0.5,
lifeexp,health,预期寿命,Life expectancy,0.5,1
mort,health,死亡率,Mortality,0.5,-1
gni,wealth,人均收入,GNI per capita,0.6,1
emp,wealth,就业率,Employment,0.4,1
"""
UNITS = """id,name_zh,name_en
a,甲市,Alpha
b,乙,Beta
c,丙,Gamma
"""


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    tree, units = tmp_path / "tree.csv", tmp_path / "units.csv"
    tree.write_text(TREE, encoding="utf-8")
    units.write_text(UNITS, encoding="utf-8")
    return tree, units


def _new(csvs: tuple[Path, Path], data: str, out: Path, *extra: object):
    path = out.with_name("data.csv")
    path.write_text(data, encoding="utf-8-sig")
    return run("new", "--framework", csvs[0], "--units", csvs[1], "--data", path, "-o", out,
               *extra)


def test_new_fills_data_from_names_and_ids(csvs, tmp_path):
    out = tmp_path / "hdi.xlsx"
    # headers: a Chinese name, an English name in capitals, an id, a full-width Chinese name;
    # rows: a name without its 市, an English name, an id, in another order than Units
    r = _new(csvs, "省份,预期寿命,MORTALITY,gni,就业率\n丙,80,20,10,3\nBeta,70,30,40,2\n"
                   "甲,60,10,10,1\n", out)
    assert r.exit_code == 0, r.output
    assert r.output == (f"Wrote {out}: 7 nodes in 3 levels (4 indicators), 3 units\n"
                        "Next: check the Data sheet, then run\n"
                        f"  xl-aiindex recalc {out}\n")
    data = [list(row) for row in openpyxl.load_workbook(out)["Data"].iter_rows(values_only=True)]
    assert data == [["unit", "lifeexp", "mort", "gni", "emp"], ["a", 60, 10, 10, 1],
                    ["b", 70, 30, 40, 2], ["c", 80, 20, 10, 3]]
    r = run("recalc", out)
    assert r.exit_code == 0, r.output
    # by hand (min-max): lifeexp 0/50/100, mort (lower better) 100/0/50 → health 50/25/75;
    # gni 0/100/0, emp 0/50/100 → wealth .6·gni + .4·emp = 0/80/40; hdi 25/52.5/57.5
    assert r.output.splitlines()[-3:] == ["   1  c     丙    57.50  Tier 1",
                                          "   2  b     乙    52.50  Tier 1",
                                          "   3  a     甲市  25.00  Tier 1"]


def test_new_data_problems_name_the_cells(csvs, tmp_path):
    out = tmp_path / "hdi.xlsx"
    r = _new(csvs, "unit,预期寿命,寿命,财富,lifeexp,,mort\n甲,1,2,3,4,5,6\n丁,1,,,,,\n"
                   "a,1,,,,,\n,7,,,,,\n", out)
    assert r.exit_code == 1
    assert r.stderr == (
        "7 problems found:\n"
        "File 'data.csv', cell C1: header '寿命' names no indicator: unknown node \"寿命\" — did "
        "you mean 预期寿命?\n"
        "File 'data.csv', cell D1: header '财富' is the node wealth, not an indicator: Data has "
        "one column per indicator (a node without children)\n"
        "File 'data.csv', cell E1: header 'lifeexp' names the indicator lifeexp again (also B1)\n"
        "File 'data.csv', cell F2: value '5' is in a column without a header: name its "
        "indicator in row 1\n"
        "File 'data.csv', cell A3: row label '丁' names no unit of the units file: unknown city "
        "\"丁\" — use a Units id, name_zh or name_en (e.g. a, 甲市, Alpha)\n"
        "File 'data.csv', cell A4: row label 'a' names the unit a again (also row 2)\n"
        "File 'data.csv', cell A5: row 5 has values but no unit in column A\n")
    assert not out.exists()


def test_new_data_keeps_text_values_for_the_data_sheet_rules(csvs, tmp_path):
    out = tmp_path / "hdi.xlsx"
    r = _new(csvs, "unit,lifeexp,mort,gni\na,60,—,45%\nb,70,30,40\n", out)
    assert r.exit_code == 0, r.output
    assert r.stderr == (
        "note: data.csv: 2 values are not plain numbers and were copied into Data as text "
        "(C2 '—', D2 '45%'); recalc reads them by the Data sheet's rules\n"
        "note: data.csv has no row for 1 units: their Data rows are blank (c)\n"
        "note: data.csv has no column for 1 indicators: their Data columns are blank (emp)\n")
    data = [list(row) for row in openpyxl.load_workbook(out)["Data"].iter_rows(values_only=True)]
    assert data[1:] == [["a", 60, "—", "45%", None], ["b", 70, 30, 40, None],
                        ["c", None, None, None, None]]


def test_new_writes_the_default_uncertainty_sheet(csvs, tmp_path):
    from xl_aiindex.uncertainty_defaults import default_rows

    out = tmp_path / "hdi.xlsx"
    assert _new(csvs, "unit,lifeexp\na,1\n", out).exit_code == 0
    rows = list(openpyxl.load_workbook(out)["Uncertainty"].iter_rows(values_only=True))
    assert rows[0] == ("assumption", "how", "values", "note")
    assert [r[:3] for r in rows[1:]] == [r[:3] for r in default_rows()] == [
        ("weights", "uniform", 0.25), ("normalisation", "choice", "minmax;zscore;rank"),
        ("missing", "choice", "reweight;mean;median")]
