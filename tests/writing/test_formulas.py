"""The formula mode: live formulas with cached values, defined names, the --formulas/--values flag.

These tests need no spreadsheet application: they check the formulas' text, the names, the
cached values plain readers see, and the CLI. ``test_libreoffice.py`` recalculates the same
workbooks (:data:`CASES`) in LibreOffice and compares every result cell with the engine.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_book
from openpyxl.utils import get_column_letter

from xl_aiindex.cli import cli
from xl_aiindex.contract import CALC
from xl_aiindex.errors import ProblemsFound
from xl_aiindex.model import Node
from xl_aiindex.workbook.formulas import (
    FORMULA_AGGREGATIONS,
    FORMULA_NORMALISATIONS,
    FUNCTIONS,
    VALUE_ONLY_AGGREGATIONS,
    VALUE_ONLY_NORMALISATIONS,
    aggregate_formula,
    normalise_formula,
    num,
)
from xl_aiindex.workbook.io import compute, load_workbook, recalc_file
from xl_aiindex.workbook.new_book import write_workbook
from xl_aiindex.workbook.ooxml import splice_sheets
from xl_aiindex.workbook.results import ranking_table

REPO = Path(__file__).resolve().parents[2]
SHIPPED = {"given": REPO / "workbooks" / "city_ai_index_2020.xlsx",
           "data": REPO / "workbooks" / "city_ai_index_2020_data.xlsx"}

# ---------------------------------------------------------------------------------------------
# the written workbooks: one per method family (shared with test_libreoffice.py)

_UNIT_IDS = [f"u{i}" for i in range(1, 9)]


def _units(n: int = 8) -> pd.DataFrame:
    ids = _UNIT_IDS[:n]
    return pd.DataFrame({
        "name_zh": [f"单位{i}" for i in range(1, n + 1)],
        "name_en": [f"Unit {i}" for i in range(1, n + 1)],
        "region": ["east", "west"] * (n // 2),
        "population": [10.0 + 7 * i for i in range(n)],
    }, index=pd.Index(ids, dtype=object))


def _data(columns: list[str], n: int = 8, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(1, 100, size=(n, len(columns))), 2)
    return pd.DataFrame(values, index=pd.Index(_UNIT_IDS[:n], dtype=object), columns=columns)


def _normalisations() -> dict[str, Any]:
    """Every normalisation in both directions, a denominator and a log transform."""
    nodes = [Node("idx", None, "指数", "Index"),
             Node("d1", "idx", "一", "One", weight=0.4), Node("d2", "idx", "二", "Two", weight=0.35),
             Node("d3", "idx", "三", "Three", weight=0.25),
             Node("mm", "d1", weight=0.25), Node("mm_neg", "d1", weight=0.25, direction=-1,
                                                 denominator="population"),
             Node("ef", "d1", weight=0.25, normalisation="efficacy", transform="log"),
             Node("ef_neg", "d1", weight=0.25, normalisation="efficacy", direction=-1),
             Node("z", "d2", weight=0.5, normalisation="zscore"),
             Node("z_neg", "d2", weight=0.5, normalisation="zscore", direction=-1),
             Node("rk", "d3", weight=0.2, normalisation="rank"),
             Node("rk_neg", "d3", weight=0.2, normalisation="rank", direction=-1),
             Node("pc", "d3", weight=0.2, normalisation="percentile"),
             Node("pc_neg", "d3", weight=0.2, normalisation="percentile", direction=-1),
             Node("gp", "d3", weight=0.1, normalisation="goalposts", goal_low=20, goal_high=80),
             Node("gp_neg", "d3", weight=0.1, normalisation="goalposts", direction=-1,
                  goal_low=-5.5, goal_high=60)]
    leaves = [n.id for n in nodes[4:]]
    data = _data(leaves)
    data.loc["u3", ["rk", "pc"]] = data.loc["u5", ["rk", "pc"]].to_numpy()   # ties: RANK.AVG
    return dict(nodes=nodes, data=data, settings={
        "input": "data", "normalisation": "minmax", "minmax_range": "10,90", "efficacy_a": 50,
        "efficacy_b": 45, "goalposts_scale": 10, "tiers": "rank:2,5", "tier_labels": "A;B;C"})


def _aggregations() -> dict[str, Any]:
    """Four levels; geometric, harmonic and arithmetic nodes; ties; score tiers; rank_decimals."""
    nodes = [Node("root", None, "总", "Total", aggregation="harmonic"),
             Node("p", "root", weight=0.5, aggregation="geometric"),
             Node("q", "root", weight=0.5),
             Node("p1", "p", weight=0.3, aggregation="geometric"),
             Node("p2", "p", weight=0.7, aggregation="harmonic"),
             Node("a1", "p1", weight=0.6), Node("a2", "p1", weight=0.4, direction=-1),
             Node("b1", "p2", weight=0.5), Node("b2", "p2", weight=0.5),
             Node("c1", "q", weight=0.25), Node("c2", "q", weight=0.75)]
    data = _data(["a1", "a2", "b1", "b2", "c1", "c2"], seed=11)
    data.loc["u7"] = data.loc["u2"]       # identical units: a tie sharing the better rank
    return dict(nodes=nodes, data=data, settings={
        "input": "data", "normalisation": "efficacy", "aggregation": "arithmetic",
        "tiers": "score:90,80", "tier_labels": "金;银;铜", "rank_decimals": 1})


def _reweight() -> dict[str, Any]:
    """missing = reweight: blanks skipped with ISNUMBER masks, coverage_min leaves a unit out."""
    nodes = [Node("r", None), Node("g", "r", weight=0.4, aggregation="geometric"),
             Node("h", "r", weight=0.3, aggregation="harmonic"), Node("m", "r", weight=0.3),
             Node("g1", "g", weight=0.5), Node("g2", "g", weight=0.5),
             Node("h1", "h", weight=0.5), Node("h2", "h", weight=0.5, normalisation="rank"),
             Node("m1", "m", weight=0.5, normalisation="zscore"), Node("m2", "m", weight=0.5)]
    data = _data(["g1", "g2", "h1", "h2", "m1", "m2"], seed=3)
    data.loc["u2", "g1"] = np.nan
    data.loc["u3", ["h1", "h2"]] = np.nan                # a whole group missing
    data.loc["u5", ["g1", "h2", "m1", "m2"]] = np.nan    # coverage 2/6 < 0.5: not ranked
    data.loc["u8", "m2"] = np.nan
    return dict(nodes=nodes, data=data, settings={
        "input": "data", "missing": "reweight", "minmax_range": "1,100", "coverage_min": 0.5,
        "tiers": "rank:3", "tier_labels": "top;rest"})


def _python_values() -> dict[str, Any]:
    """Methods without a closed formula: imputation, outlier treatment, data-driven weights,
    copeland: written as values the formulas reference."""
    nodes = [Node("top", None, aggregation="copeland"),
             Node("e", "top", weight=0.5, weighting="entropy"),
             Node("k", "top", weight=0.5, weighting="equal"),
             Node("e1", "e"), Node("e2", "e"), Node("e3", "e", denominator="population"),
             Node("k1", "k"), Node("k2", "k", transform="log")]
    data = _data(["e1", "e2", "e3", "k1", "k2"], seed=5)
    data.loc["u4", "e2"] = np.nan          # imputed (mean)
    data.loc["u6", "k1"] = 10_000.0        # winsorised
    return dict(nodes=nodes, data=data, settings={
        "input": "data", "missing": "mean", "outliers": "winsorise:10", "tiers": "rank:4",
        "tier_labels": "top;rest"})


def _given() -> dict[str, Any]:
    """input = given, scores given at two levels, the published total beside the computed one."""
    nodes = [Node("idx", None), Node("d1", "idx", weight=0.6), Node("d2", "idx", weight=0.4),
             Node("x1", "d1", weight=0.5), Node("x2", "d1", weight=0.5),
             Node("d2a", "d2", weight=0.7), Node("d2b", "d2", weight=0.3),
             Node("y1", "d2a", weight=1.0), Node("y2", "d2b", weight=1.0)]
    given = _data(["d1", "d2a", "d2b"], seed=9)
    given["published"] = (0.6 * given["d1"] + 0.4 * (0.7 * given["d2a"] + 0.3 * given["d2b"])).round(2)
    given.loc["u8", "published"] = np.nan
    return dict(nodes=nodes, given=given, settings={"input": "given", "tiers": "rank:3,6"})


#: Case name -> the inputs of :func:`write_workbook` (nodes, data/given, settings).
CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "normalisations": _normalisations,
    "aggregations": _aggregations,
    "reweight": _reweight,
    "python_values": _python_values,
    "given": _given,
}


def write_case(name: str, path: Path) -> Path:
    """Write the input sheets of case ``name`` (a scaffold workbook) to ``path``."""
    spec = CASES[name]()
    write_workbook(path, nodes=spec["nodes"], units=_units(), settings=spec["settings"],
                   data=spec.get("data"), given=spec.get("given"))
    return path


def recalc_case(name: str, folder: Path, mode: str) -> Path:
    """Case ``name`` recalculated in ``mode`` into ``folder/<name>_<mode>.xlsx``."""
    src = write_case(name, folder / f"{name}_inputs.xlsx")
    out = folder / f"{name}_{mode}.xlsx"
    recalc_file(src, out, output=mode)
    return out


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formulas")
    out = {name: recalc_case(name, folder, "formulas") for name in CASES}
    for name, path in SHIPPED.items():
        out[f"shipped_{name}"] = folder / f"shipped_{name}_formulas.xlsx"
        recalc_file(path, out[f"shipped_{name}"], output="formulas")
    return out


def _formulas(path: Path) -> dict[str, dict[str, str]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: {c.coordinate: str(c.value) for row in ws.iter_rows() for c in row
                       if c.data_type == "f"} for ws in wb.worksheets}


# ---------------------------------------------------------------------------------------------
# formula text


def test_constants() -> None:
    assert [num(v) for v in (100, 0.25, -2, 1.5e-7, 1e20)] == ["100", "0.25", "(-2)", "1.5E-07",
                                                               "1E+20"]


@pytest.mark.parametrize("method, direction, expected", [
    ("minmax", 1, "IF(ISNUMBER(X),0+100*(X-MIN(R))/(MAX(R)-MIN(R)),NA())"),
    ("minmax", -1, "IF(ISNUMBER(X),100-(0+100*(X-MIN(R))/(MAX(R)-MIN(R))),NA())"),
    ("efficacy", -1, "IF(ISNUMBER(X),160-(60+40*(X-MIN(R))/(MAX(R)-MIN(R))),NA())"),
    ("zscore", 1, "IF(ISNUMBER(X),(X-AVERAGE(R))/_xlfn.STDEV.S(R),NA())"),
    ("zscore", -1, "IF(ISNUMBER(X),-((X-AVERAGE(R))/_xlfn.STDEV.S(R)),NA())"),
    ("rank", 1, "IF(ISNUMBER(X),_xlfn.RANK.AVG(X,R,1),NA())"),
    ("rank", -1, "IF(ISNUMBER(X),COUNT(R)+1-_xlfn.RANK.AVG(X,R,1),NA())"),
    ("percentile", -1, "IF(ISNUMBER(X),100-(100*(_xlfn.RANK.AVG(X,R,1)-1)/(COUNT(R)-1)),NA())"),
    ("goalposts", 1, "IF(ISNUMBER(X),100*(MIN(MAX(X,(-5)),15)-(-5))/20,NA())"),
    ("goalposts", -1, "IF(ISNUMBER(X),100-(100*(MIN(MAX(X,(-5)),15)-(-5))/20),NA())"),
])
def test_normalisation_formulas(method: str, direction: int, expected: str) -> None:
    params = {"low": 0.0, "high": 100.0, "a": 60.0, "b": 40.0, "goal_low": -5.0,
              "goal_high": 15.0, "scale": 100.0}
    assert normalise_formula(method, "X", "R", direction, params, "NA()") == expected


@pytest.mark.parametrize("method, reweight, expected", [
    ("arithmetic", False, "wa*A2+wb*B2"),
    ("geometric", False, "A2^wa*B2^wb"),
    ("harmonic", False, "1/(wa/A2+wb/B2)"),
    ("arithmetic", True, 'IF(COUNT(A2,B2)=0,"",(wa*N(A2)+wb*N(B2))/(wa*ISNUMBER(A2)+wb*ISNUMBER(B2)))'),
    ("geometric", True, 'IF(COUNT(A2,B2)=0,"",EXP((wa*LN(IF(ISNUMBER(A2),A2,1))+wb*LN(IF(ISNUMBER(B2),'
                        'B2,1)))/(wa*ISNUMBER(A2)+wb*ISNUMBER(B2))))'),
    ("harmonic", True, 'IF(COUNT(A2,B2)=0,"",(wa*ISNUMBER(A2)+wb*ISNUMBER(B2))/(IF(ISNUMBER(A2),wa/A2,0)'
                       '+IF(ISNUMBER(B2),wb/B2,0)))'),
])
def test_aggregation_formulas(method: str, reweight: bool, expected: str) -> None:
    assert aggregate_formula(method, ["A2", "B2"], ["wa", "wb"], reweight) == expected


def test_count_splits_past_255_arguments() -> None:
    cells = [f"A{i}" for i in range(1, 301)]
    text = aggregate_formula("arithmetic", cells, ["w"] * 300, True)
    assert text.startswith("IF((COUNT(A1,") and "+COUNT(A256," in text


# ---------------------------------------------------------------------------------------------
# the written workbooks


def test_result_sheets_are_formulas_with_cached_values(books: dict[str, Path]) -> None:
    path = books["shipped_data"]
    f = _formulas(path)
    values = openpyxl.load_workbook(path, data_only=True)
    assert f["Scores"]["AO2"] == ("=xlai_w_environment*D2+xlai_w_funding*E2+xlai_w_rnd*F2"
                                  "+xlai_w_infrastructure*G2+xlai_w_outcomes*H2")
    assert f["Scores"]["U2"] == ("=IF(ISNUMBER(INDEX(xlai_x_I01,1)),60+40*(INDEX(xlai_x_I01,1)"
                                 "-xlai_min_I01)/(xlai_max_I01-xlai_min_I01),NA())")
    assert f["CalcStats"]["E2"] == "=MIN(xlai_x_I01)" and f["CalcStats"]["F2"] == "=MAX(xlai_x_I01)"
    assert f["Ranking"]["A2"] == "=INDEX(xlai_rank,MATCH($B2,xlai_unit,0))"
    assert f["Tiers"]["D2"] == "=COUNTIF(xlai_tier,1)"
    assert f["WeightsUsed"]["D2"] == ("=xlai_fw_environment/(xlai_fw_environment+xlai_fw_funding"
                                      "+xlai_fw_rnd+xlai_fw_infrastructure+xlai_fw_outcomes)")
    assert f[CALC]["E2"] == '=IF(ISNUMBER(D2),RANK(D2,xlai_basis,0),"")'
    # every formula cell of a result sheet carries the engine's value
    result = compute(load_workbook(SHIPPED["data"]))
    ranking = ranking_table(result)
    ws = values["Ranking"]
    for i, rec in enumerate(ranking.itertuples(index=False), start=2):
        assert ws.cell(i, 1).value == rec.rank
        assert ws.cell(i, 5).value == pytest.approx(rec.score, rel=1e-15)
    for sheet in ("Scores", "Ranking", "Tiers", "WeightsUsed", CALC, "CalcStats"):
        for cell in f[sheet]:
            assert values[sheet][cell].value is not None, (sheet, cell)


def test_pandas_reads_the_ranking_of_a_formula_workbook(books: dict[str, Path]) -> None:
    for name in ("shipped_data", "shipped_given", "normalisations", "aggregations"):
        path = books[name]
        table = pd.read_excel(path, sheet_name="Ranking", engine="openpyxl")
        expected = ranking_table(compute(load_workbook(path)))
        assert list(table.columns) == list(expected.columns)
        text = ["unit", "name_zh", "name_en", "tier"]   # tier: its label (tier_labels)
        numeric = [c for c in table.columns if c not in text]
        assert not table[numeric].isna().to_numpy().any(), name
        pd.testing.assert_frame_equal(table[numeric].astype(float),
                                      expected[numeric].astype(float), check_exact=False,
                                      rtol=1e-14)
        assert table["tier"].tolist() == expected["tier"].tolist(), name


def test_only_functions_excel_and_libreoffice_share(books: dict[str, Path]) -> None:
    call = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")
    newer = {"RANK.AVG", "RANK.EQ", "STDEV.S"}
    for path in books.values():
        for sheet, cells in _formulas(path).items():
            for cell, text in cells.items():
                for fn in call.findall(text):
                    if sheet == "Framework":
                        continue          # the scaffold's SUMIF helper
                    assert fn in FUNCTIONS, (path.name, sheet, cell, fn)
                    assert fn.removeprefix("_xlfn.") not in newer or fn.startswith("_xlfn."), fn


def test_defined_names(books: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(books["shipped_data"])
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    assert all(n.startswith("xlai_") for n in names)
    assert names["xlai_data_I01"] == "'Data'!$B$2:$B$31"
    assert names["xlai_x_I01"] == names["xlai_data_I01"]
    assert names["xlai_fw_rnd"] == "'Framework'!$E$5"
    assert names["xlai_w_rnd"].startswith("'WeightsUsed'!$D$")
    assert names["xlai_s_index"] == "'Scores'!$AO$2:$AO$31"
    assert names["xlai_unit"] == "'Scores'!$A$2:$A$31"
    assert names["xlai_rank"] == "'Calc'!$E$2:$E$31"
    # every name refers to a range of a sheet of the workbook
    for ref in names.values():
        sheet = re.fullmatch(r"'([^']+)'!\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?", ref)
        assert sheet and sheet.group(1) in wb.sheetnames, ref


def test_names_for_awkward_ids() -> None:
    from xl_aiindex.workbook.formulas import Names

    names = Names()
    assert names.add("s", "econ.output", "A") == "xlai_s_econ.output"
    assert names.add("s", "a-b", "B") == "xlai_s_a_b"
    assert names.add("s", "a_B", "C") == "xlai_s_a_B_2"      # names are case-insensitive
    assert names.add("s", "a-b", "D") == "xlai_s_a_b"
    assert names.refs["xlai_s_a_b"] == "D"


def test_python_values_are_values_the_formulas_reference(books: dict[str, Path]) -> None:
    path = books["python_values"]
    wb = openpyxl.load_workbook(path)
    calc = wb[CALC]
    header = [c.value for c in calc[1]]
    # every indicator goes through Calc here: e3 has a denominator, k2 a log transform, and
    # winsorising and imputation changed some values of each of the others
    assert header == ["unit", "name_zh", "name_en", "e1", "e2", "e3", "k1", "k2", "rank_basis",
                      "rank", "tier"]
    e2 = header.index("e2") + 1
    kinds = {calc.cell(r, 1).value: calc.cell(r, e2).data_type for r in range(2, 10)}
    assert kinds["u4"] == "n"                           # imputed: a value
    assert "f" in kinds.values()                        # untouched: a formula on Data
    result = compute(load_workbook(path))
    raw, treated = result.stages["raw"], result.stages["treated"]
    for r in range(2, 10):
        unit = calc.cell(r, 1).value
        for leaf in ("e1", "e2", "k1"):
            changed = raw.at[unit, leaf] != treated.at[unit, leaf]
            assert calc.cell(r, header.index(leaf) + 1).data_type == ("n" if changed else "f")
    weights = {r[1]: (r[2], r[3]) for r in wb["WeightsUsed"].iter_rows(min_row=2, values_only=True)}
    assert weights["e1"][0] == "entropy" and isinstance(weights["e1"][1], float)
    assert weights["k1"] == ("equal", 0.5)              # a value the formulas reference
    scores = wb["Scores"]
    top = [c.value for c in scores[1]].index("top") + 1
    assert scores.cell(2, top).data_type == "n"         # copeland: a value
    assert scores.cell(2, top - 1).data_type == "f"     # k: a formula


def test_given_mode_starts_from_given_cells(books: dict[str, Path]) -> None:
    f = _formulas(books["given"])["Scores"]
    wb = openpyxl.load_workbook(books["given"])
    header = [c.value for c in wb["Scores"][1]]
    col = {h: get_column_letter(i + 1) for i, h in enumerate(header)}
    assert f[f"{col['d1']}2"] == "=IF(ISNUMBER(INDEX(xlai_given_d1,1)),INDEX(xlai_given_d1,1),NA())"
    assert f[f"{col['d2']}2"] == f"=xlai_w_d2a*{col['d2a']}2+xlai_w_d2b*{col['d2b']}2"
    # below the given level nothing has a score: Scores has no column for those nodes
    assert "x1" not in col and "d1" in col
    ranking = _formulas(books["given"])["Ranking"]
    assert ranking["I2"] == '=IF(ISNUMBER(INDEX(xlai_given_published,8)),INDEX(xlai_given_published,8),"")'
    # published has 2 decimals: the difference is rounded to them
    assert ranking["J2"] == '=IF(AND(ISNUMBER(E2),ISNUMBER(I2)),ROUND(E2-I2,2),"")'


def test_values_after_formulas_removes_names_and_formulas(books: dict[str, Path],
                                                          tmp_path: Path) -> None:
    out = tmp_path / "back.xlsx"
    recalc_file(books["reweight"], out, output="values")
    wb = openpyxl.load_workbook(out)
    assert not list(wb.defined_names)
    for sheet in ("Scores", "Ranking", "Tiers", "WeightsUsed", CALC, "CalcStats"):
        assert not [c for row in wb[sheet].iter_rows() for c in row if c.data_type == "f"], sheet
    assert wb[CALC]["F2"].value is not None           # Calc kept, with values
    assert wb["CalcStats"]["A2"].value == "g1" and isinstance(wb["CalcStats"]["E2"].value, float)


def test_user_names_survive_and_ours_are_replaced(small_book: Path, tmp_path: Path) -> None:
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.load_workbook(small_book)
    wb.defined_names["MyRange"] = DefinedName("MyRange", attr_text="Data!$B$2:$B$6")
    wb.defined_names["xlai_stale"] = DefinedName("xlai_stale", attr_text="Data!$A$1")
    wb.save(small_book)
    out = tmp_path / "f.xlsx"
    recalc_file(small_book, out, output="formulas")
    names = set(openpyxl.load_workbook(out).defined_names)
    assert "MyRange" in names and "xlai_stale" not in names and "xlai_s_index" in names
    recalc_file(out, out, output="values")
    assert set(openpyxl.load_workbook(out).defined_names) == {"MyRange"}


def test_splice_refuses_names_it_does_not_own(small_book: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not start with 'xlai_'"):
        splice_sheets(small_book, tmp_path / "x.xlsx", [], defined_names={"Mine": "Data!$A$1"})
    with pytest.raises(ValueError, match="invalid defined name"):
        splice_sheets(small_book, tmp_path / "x.xlsx", [], defined_names={"xlai_a b": "Data!$A$1"})


def test_text_numbers_are_a_problem_in_formula_mode(small: dict[str, list[list[Any]]],
                                                    tmp_path: Path) -> None:
    small["Data"][3][2] = "3"            # read as a number with a note; a formula would not
    book = write_book(tmp_path / "t.xlsx", small)
    recalc_file(book, tmp_path / "v.xlsx", output="values")      # values mode: fine
    with pytest.raises(ProblemsFound) as e:
        recalc_file(book, tmp_path / "f.xlsx", output="formulas")
    assert [str(p) for p in e.value.problems] == [
        "Sheet 'Data', cell C4: holds the text '3', which the formulas of output = formulas "
        "cannot read as a number: type it as a number (or use output = values)"]
    assert not (tmp_path / "f.xlsx").exists()


def test_output_setting_and_flags(small: dict[str, list[list[Any]]], tmp_path: Path) -> None:
    small["Settings"].append(["output", "formulas"])
    book = write_book(tmp_path / "s.xlsx", small)
    runner = CliRunner()

    def has_formulas(path: Path) -> bool:
        with zipfile.ZipFile(path) as z:
            return b"xlai_" in z.read("xl/workbook.xml")

    r = runner.invoke(cli, ["recalc", str(book), "-o", str(tmp_path / "a.xlsx"), "--top", "0"])
    assert r.exit_code == 0, r.output
    assert r.output == (f"Recalculated {book}: 5 units, 7 nodes (input = data)\n"
                        "Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, Charts, Calc, CalcStats and Log to "
                        f"{tmp_path / 'a.xlsx'} (live formulas with cached values)\n")
    assert has_formulas(tmp_path / "a.xlsx")
    r = runner.invoke(cli, ["recalc", str(book), "-o", str(tmp_path / "b.xlsx"), "--values",
                            "--top", "0"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == f"Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, Charts and Log to {tmp_path / 'b.xlsx'}"
    assert not has_formulas(tmp_path / "b.xlsx")


def test_formulas_flag_on_a_values_workbook(small_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.xlsx"
    r = CliRunner().invoke(cli, ["recalc", str(small_book), "-o", str(out), "--formulas"])
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"Recalculated {small_book}: 5 units, 7 nodes (input = data)\n"
        f"Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, Charts, Calc, CalcStats and Log to {out} (live "
        "formulas with cached values)\n"
        "\n"
        "rank  unit  name   score  tier\n"
        "   1  e     戊    100.00  top\n"
        "   2  d     丁     75.00  top\n"
        "   3  c     丙     42.50  middle\n"
        "   4  b     乙     32.50  middle\n"
        "   5  a     甲      0.00  bottom\n")
    # c: d1 = 50, d2 = .25*50 + .75*25 = 31.25, total .6*50 + .4*31.25 = 42.5 (by hand): cached
    ranking = list(openpyxl.load_workbook(out, data_only=True)["Ranking"].iter_rows(values_only=True))
    assert ranking[3] == (3, "c", "丙", "Gamma", 42.5, "middle", 50, 31.25)


def test_formula_workbook_recalculates_from_itself(books: dict[str, Path], tmp_path: Path) -> None:
    """recalc of a formula workbook reads its inputs (never its result formulas) and writes the
    same formulas again."""
    again = tmp_path / "again.xlsx"
    recalc_file(books["aggregations"], again)          # Settings say values: back to values
    recalc_file(books["aggregations"], tmp_path / "f2.xlsx", output="formulas")
    assert _formulas(tmp_path / "f2.xlsx")["Scores"] == _formulas(books["aggregations"])["Scores"]


# ---------------------------------------------------------------------------------------------
# every method: a formula form, or values the formulas reference


def test_every_method_has_a_formula_form_or_is_written_as_values() -> None:
    """A method added later must be put in one of the lists (and its module docstring says
    which: "Formula form: …")."""
    import xl_aiindex.aggregate as aggregate
    import xl_aiindex.impute as impute
    import xl_aiindex.normalise as normalise
    import xl_aiindex.treat as treat
    import xl_aiindex.weights as weights

    assert set(normalise.NORMALISERS) == FORMULA_NORMALISATIONS | VALUE_ONLY_NORMALISATIONS
    assert not FORMULA_NORMALISATIONS & VALUE_ONLY_NORMALISATIONS
    assert set(aggregate.AGGREGATORS) == FORMULA_AGGREGATIONS | VALUE_ONLY_AGGREGATIONS
    assert not FORMULA_AGGREGATIONS & VALUE_ONLY_AGGREGATIONS
    for module in (normalise, aggregate, weights, treat, impute):
        assert "Formula form:" in (module.__doc__ or ""), module.__name__
    params = {"low": 0, "high": 1, "a": 0, "b": 1, "goal_low": 0, "goal_high": 1, "scale": 1}
    for method in FORMULA_NORMALISATIONS:
        for direction in (1, -1):
            assert normalise_formula(method, "X", "R", direction, params, '""')
    for method in FORMULA_AGGREGATIONS:
        for reweight in (False, True):
            assert aggregate_formula(method, ["A2"], ["w"], reweight)


def test_a_method_without_formula_form_is_written_as_values(small: dict[str, list[list[Any]]],
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from xl_aiindex import normalise

    monkeypatch.setitem(normalise.NORMALISERS, "double", lambda x, d, p: 2 * x)
    small["Framework"][4][6] = "double"          # x1
    book = write_book(tmp_path / "m.xlsx", small)
    out = tmp_path / "f.xlsx"
    result = recalc_file(book, out, output="formulas")
    wb = openpyxl.load_workbook(out)
    header = [c.value for c in wb["Scores"][1]]
    x1, d1 = header.index("x1") + 1, header.index("d1") + 1
    assert wb["Scores"].cell(2, x1).data_type == "n"          # the engine's value
    assert wb["Scores"].cell(2, x1).value == result.scores["x1"].iloc[0] == 20.0
    assert wb["Scores"].cell(2, d1).value == f"=xlai_w_x1*{get_column_letter(x1)}2" \
        f"+xlai_w_x2*{get_column_letter(x1 + 1)}2"


def test_defined_names_edit_only_ours(tmp_path: Path) -> None:
    """Adding, replacing and removing the xlai_ names leaves every other name byte for byte
    (workbook-level and sheet-local, including a sheet-local name with the prefix)."""
    from rich_workbook import make_rich_workbook

    from xl_aiindex.workbook.ooxml import package_parts

    src = make_rich_workbook(tmp_path / "rich.xlsx")
    block = re.compile(r"<definedName [^>]*>[^<]*</definedName>")
    original = block.findall(package_parts(src)["xl/workbook.xml"].decode())
    assert len(original) >= 3
    one, two, three = tmp_path / "1.xlsx", tmp_path / "2.xlsx", tmp_path / "3.xlsx"
    splice_sheets(src, one, [], defined_names={"xlai_a": "'Data'!$B$2:$B$6", "xlai_b": "Data!$A$1"})
    splice_sheets(one, two, [], defined_names={"xlai_A": "'Data'!$C$2:$C$6"})
    splice_sheets(two, three, [], defined_names={})
    names = [block.findall(package_parts(p)["xl/workbook.xml"].decode()) for p in (one, two, three)]
    assert names[0] == original + ['<definedName name="xlai_a">\'Data\'!$B$2:$B$6</definedName>',
                                   '<definedName name="xlai_b">Data!$A$1</definedName>']
    assert names[1] == original + ['<definedName name="xlai_A">\'Data\'!$C$2:$C$6</definedName>']
    assert names[2] == original
    assert package_parts(three)["xl/workbook.xml"] == package_parts(src)["xl/workbook.xml"]
    wb = openpyxl.load_workbook(one)
    assert wb.defined_names["xlai_a"].attr_text == "'Data'!$B$2:$B$6"
