"""The workbook scaffold (xlsxwriter) and the 2020 reference-workbook build, read back with openpyxl."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from xl_aiindex.aggregate import AGGREGATORS
from xl_aiindex.contract import FRAMEWORK_COLUMNS
from xl_aiindex.errors import ProblemsFound
from xl_aiindex.model import IndexModel, Node
from xl_aiindex.normalise import NORMALISERS
from xl_aiindex.settings import CHOICES, KNOWN_KEYS, parse_settings
from xl_aiindex.weights import WEIGHTINGS
from xl_aiindex.workbook.new_book import read_framework_csv, read_units_csv, write_workbook
from xl_aiindex.workbook.new_book.texts import SETTING_DEFAULTS, SIBLING_SUM

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

# ---------------------------------------------------------------------------------------------
# a small 4-level index that is not the 2020 one

NODES = (
    Node("cdi", None, "综合发展指数", "Composite development index", note="root"),
    Node("econ", "cdi", "经济", "Economy", weight=0.6, aggregation="geometric"),
    Node("soc", "cdi", "社会", "Society", weight=0.4, weighting="equal"),
    Node("econ.output", "econ", "产出", "Output", weight=0.5),
    Node("econ.trade", "econ", "贸易", "Trade", weight=0.5),
    Node("soc.health", "soc", "健康", "Health"),
    Node("soc.edu", "soc", "教育", "Education"),
    Node("NA", "econ.output", "北美", "gdp (NA)", weight=1 / 3, unit="USD"),
    Node("gdp_pc", "econ.output", "人均", "GDP per capita", weight=1 / 3, denominator="population",
         transform="log"),
    Node("growth", "econ.output", "增长", "Growth", weight=1 / 3, normalisation="goalposts",
         goal_low=-2.0, goal_high=8.0, source="=not a formula", note="+1 starts with a plus"),
    Node("exports", "econ.trade", "出口", "Exports", weight=1.0, normalisation="zscore"),
    Node("mortality", "soc.health", "死亡率", "Mortality", weight=1.0, direction=-1),
    Node("enrol", "soc.edu", "入学率", "Enrolment", weight=0.7),
    Node("literacy", "soc.edu", "识字率", "Literacy", weight=0.2),   # group sums to 0.9: red
)
LEAVES = ["NA", "gdp_pc", "growth", "exports", "mortality", "enrol", "literacy"]
UNIT_IDS = ["NA", "None", "null", "nan", "A&B"]
UNITS = pd.DataFrame({
    "name_zh": ["纳米比亚", "无", "空", "非数", "甲乙"],
    "name_en": ["Namibia", "=None", "null land", "NaN town", "A & B"],
    "region": ["Africa", "X", None, "=SUM(A1)", "Y"],
    "population": [2.5, 10.0, np.nan, 0.5, 7.0],
}, index=pd.Index(UNIT_IDS, dtype=object))
DATA = pd.DataFrame(np.arange(35, dtype=float).reshape(5, 7) + 0.125, columns=LEAVES,
                    index=UNITS.index)
DATA.iloc[1, 2] = np.nan
GIVEN = pd.DataFrame({"econ": [50.0, 60.5, 70.25, np.nan, 10.0], "soc": [1.0, 2.0, 3.0, 4.0, 5.0],
                      "published": [30.0, 40.0, 50.0, 60.0, 70.0]}, index=UNITS.index)
SETTINGS: dict[str, object] = {"name_zh": "测试指数", "name_en": "Test index", "input": "given",
                               "tiers": "score:80,60", "tier_labels": "A;B;C", "efficacy_a": 50,
                               "missing": "group_mean:region", "rank_decimals": None}


def _write(path: Path, **kw: Any) -> Path:
    args: dict[str, Any] = dict(nodes=NODES, units=UNITS, settings=SETTINGS, data=DATA, given=GIVEN,
                                readme=[("=AI_INDEX(\"北京\") in English", "中文说明")],
                                data_note="SYNTHETIC TEST DATA")
    args.update(kw)
    write_workbook(path, **args)
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("scaffold") / "book.xlsx")


def _rows(ws: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def _comment(cell: Any) -> str:
    assert cell.comment is not None, cell.coordinate
    return str(cell.comment.text)


def _table(ws: Any) -> tuple[list[str], list[list[Any]]]:
    rows = _rows(ws)
    return [str(h) for h in rows[0]], rows[1:]


def test_sheet_order(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["README", "Settings", "Framework", "Units", "Data", "Given", "Scores",
                             "Ranking", "Tiers", "WeightsUsed", "Problems", "Log"]


def test_framework_round_trip(book: Path) -> None:
    ws = openpyxl.load_workbook(book)["Framework"]
    header, rows = _table(ws)
    assert header == [*FRAMEWORK_COLUMNS, SIBLING_SUM]
    parents = {n.parent for n in NODES}
    back = []
    for row in rows:
        v = dict(zip(header, row, strict=True))
        is_leaf = v["id"] not in parents
        assert (v["direction"] is not None) == is_leaf      # direction only on leaves
        for col in ("id", "parent", "name_zh", "name_en", "normalisation", "denominator",
                    "transform", "aggregation", "weighting", "unit", "source", "note"):
            assert v[col] is None or isinstance(v[col], str)
        back.append(Node(
            id=v["id"], parent=v["parent"], name_zh=v["name_zh"] or "", name_en=v["name_en"] or "",
            weight=v["weight"], direction=int(v["direction"]) if v["direction"] is not None else 1,
            normalisation=v["normalisation"], goal_low=v["goal_low"], goal_high=v["goal_high"],
            denominator=v["denominator"], transform=v["transform"], aggregation=v["aggregation"],
            weighting=v["weighting"], unit=v["unit"] or "", source=v["source"] or "",
            note=v["note"] or ""))
    assert tuple(back) == NODES


def test_sibling_sum_cached_values(book: Path) -> None:
    formulas = openpyxl.load_workbook(book)["Framework"]
    values = openpyxl.load_workbook(book, data_only=True)["Framework"]
    col = [*FRAMEWORK_COLUMNS, SIBLING_SUM].index(SIBLING_SUM) + 1
    by_hand = {"cdi": 0.6 + 0.4, "econ": 0.5 + 0.5, "soc": 0.0, "econ.output": 1 / 3 + 1 / 3 + 1 / 3,
               "econ.trade": 1.0, "soc.health": 1.0, "soc.edu": 0.7 + 0.2}
    for r, node in enumerate(NODES, start=2):
        cell = formulas.cell(r, col)
        if node.parent is None:
            assert cell.value is None
            continue
        assert cell.data_type == "f"
        assert str(cell.value).upper().startswith("=SUMIF(")
        assert values.cell(r, col).value == pytest.approx(by_hand[node.parent], abs=1e-12)
    rules = [rule for cf in formulas.conditional_formatting for rule in cf.rules]
    assert any("ABS(" in f and "1E-6" in f.upper() for rule in rules for f in rule.formula)


def test_units_round_trip(book: Path) -> None:
    ws = openpyxl.load_workbook(book)["Units"]
    header, rows = _table(ws)
    assert header == ["id", "name_zh", "name_en", "region", "population"]
    assert [r[0] for r in rows] == UNIT_IDS
    for r in rows:
        assert isinstance(r[0], str)
    back = pd.DataFrame([r[1:] for r in rows], columns=header[1:],
                        index=pd.Index([r[0] for r in rows], dtype=object))
    back["population"] = back["population"].astype(float)
    pd.testing.assert_frame_equal(back, UNITS, check_dtype=False)
    # '=...' text stays text
    assert ws["C3"].value == "=None" and ws["C3"].data_type == "s"
    assert ws["D5"].value == "=SUM(A1)" and ws["D5"].data_type == "s"


def _scores_frame(ws: Any) -> pd.DataFrame:
    header, rows = _table(ws)
    assert header[0] == "unit"
    frame = pd.DataFrame([[np.nan if v is None else v for v in r[1:]] for r in rows],
                         columns=header[1:], index=pd.Index([r[0] for r in rows], dtype=object),
                         dtype=float)
    return frame


def test_data_and_given_round_trip(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    pd.testing.assert_frame_equal(_scores_frame(wb["Data"]), DATA)
    assert wb["Data"]["D3"].value is None                     # NaN → blank cell
    pd.testing.assert_frame_equal(_scores_frame(wb["Given"]), GIVEN)
    assert wb["Given"]["B2"].number_format == "0.00"
    assert wb["Data"]["B2"].number_format == "General"
    for c in range(2, 9):
        assert "SYNTHETIC TEST DATA" in _comment(wb["Data"].cell(1, c))


def test_empty_data_sheet(tmp_path: Path) -> None:
    path = _write(tmp_path / "nodata.xlsx", data=None, given=None)
    wb = openpyxl.load_workbook(path)
    assert "Given" not in wb.sheetnames
    assert _rows(wb["Data"]) == [["unit", *LEAVES]]
    assert _rows(wb["Ranking"])[0] == ["rank", "unit", "name_zh", "name_en", "score", "tier",
                                       "econ", "soc"]


def test_settings_round_trip(book: Path) -> None:
    header, rows = _table(openpyxl.load_workbook(book)["Settings"])
    assert header == ["key", "value", "note"]
    back = {r[0]: r[1] for r in rows}
    assert list(back)[:len(SETTINGS)] == list(SETTINGS)
    assert set(back) == set(KNOWN_KEYS)
    for k in KNOWN_KEYS:
        assert back[k] == SETTINGS.get(k, SETTING_DEFAULTS[k]), k
    assert all(r[2] for r in rows)                            # every key explained
    settings, problems, _notes = parse_settings(back)
    assert problems == []
    assert settings.tiers.labels == ("A", "B", "C") and settings.efficacy_a == 50


def test_defaults_match_the_engine() -> None:
    settings, problems, notes = parse_settings(SETTING_DEFAULTS)
    assert problems == [] and notes == []
    from xl_aiindex.model import Settings
    assert settings == Settings()


def _validations(ws: Any) -> list[tuple[str, str | None, str]]:
    return [(dv.type, dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation]


def _list(formula: str | None) -> list[str]:
    assert formula is not None
    return formula.strip('"').split(",")


def test_validations_follow_the_registries(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    fw = _validations(wb["Framework"])
    header = [*FRAMEWORK_COLUMNS, SIBLING_SUM]

    def at(col: str) -> list[tuple[str, str | None, str]]:
        letter = get_column_letter(header.index(col) + 1)
        return [v for v in fw if v[2].startswith(f"{letter}2:")]

    assert [_list(v[1]) for v in at("direction")] == [["1", "-1", "正向", "负向"]]
    assert [_list(v[1]) for v in at("normalisation")] == [sorted(NORMALISERS)]
    assert [_list(v[1]) for v in at("aggregation")] == [sorted(AGGREGATORS)]
    assert [_list(v[1]) for v in at("weighting")] == [sorted(WEIGHTINGS)]
    weight = at("weight")
    assert len(weight) == 1 and weight[0][0] == "decimal"
    dv = next(d for d in wb["Framework"].data_validations.dataValidation
              if str(d.sqref).startswith("E2:"))
    assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"

    settings_rows = {r[0]: i for i, r in enumerate(_rows(wb["Settings"]), start=1)}
    sv = {v[2]: _list(v[1]) for v in _validations(wb["Settings"])}
    assert {k: sv[f"B{settings_rows[k]}"] for k in CHOICES} == {k: list(v) for k, v in CHOICES.items()}

    for sheet, last_col in (("Data", "H"), ("Given", "D")):
        dvs = wb[sheet].data_validations.dataValidation
        assert len(dvs) == 1 and dvs[0].type == "decimal" and dvs[0].prompt
        assert str(dvs[0].sqref).startswith(f"B2:{last_col}")


def test_look(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    for name in ("Settings", "Framework", "Units", "Data", "Given", "Scores", "Log"):
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        a1 = ws["A1"]
        assert a1.font.bold and a1.font.color.rgb.endswith("FFFFFF")
        assert a1.fill.fgColor.rgb.endswith("1F4E78")
    fw = wb["Framework"]
    for c in range(1, len(FRAMEWORK_COLUMNS) + 2):
        text = _comment(fw.cell(1, c))
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text)      # Chinese
        assert "/ " in text and any(ch.isascii() and ch.isalpha() for ch in text)  # and English
    assert fw.column_dimensions["A"].width > 8


def test_text_is_never_a_formula(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    assert wb["README"]["A2"].value == '=AI_INDEX("北京") in English'
    assert wb["README"]["A2"].data_type == "s"
    fw = wb["Framework"]
    row = 2 + [n.id for n in NODES].index("growth")
    source = [*FRAMEWORK_COLUMNS].index("source") + 1
    assert fw.cell(row, source).value == "=not a formula" and fw.cell(row, source).data_type == "s"
    with zipfile.ZipFile(book) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        with_formulas = [n for n in sheets if "<f>" in z.read(n).decode()]
    assert with_formulas == ["xl/worksheets/sheet3.xml"]     # only Framework's sibling_sum


def test_result_headers(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    inner_then_leaves = [n.id for n in NODES[1:]]
    assert _rows(wb["Scores"]) == [["unit", "name_zh", "name_en", *inner_then_leaves, "cdi",
                                    "coverage"]]
    assert _rows(wb["Ranking"]) == [["rank", "unit", "name_zh", "name_en", "score", "tier", "econ",
                                     "soc", "published", "diff"]]
    assert _rows(wb["Tiers"]) == [["tier", "label", "units", "count"]]
    assert _rows(wb["WeightsUsed"]) == [["node", "child", "method", "weight", "weight_in_total"]]
    assert _rows(wb["Problems"]) == [["sheet", "cell", "unit", "node", "problem"]]
    assert _rows(wb["Log"]) == [["time", "command", "version", "file", "input", "units", "status",
                                 "inputs_hash", "notes"]]


def test_reproducible(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.xlsx").read_bytes()
    b = _write(tmp_path / "b.xlsx").read_bytes()
    assert a == b
    props = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert props.created is not None and props.created.year == 2020


# ---------------------------------------------------------------------------------------------
# CSV readers


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_framework_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path / "tree.csv",
                "id,parent,name_zh,name_en,weight,direction,normalisation,goal_low,goal_high,"
                "denominator,transform,aggregation,weighting,unit,source,note,sibling_sum\n"
                "top,,总,Total,,,,,,,,Geometric,,,,,\n"
                "a,top,甲,A,0.5,,,,,,,,equal,,,,1\n"
                "NA,a,,,,-1,goalposts,0,10,population,log,,,%,src,\"x, y\",\n"
                "\n"
                "null,a,,,,1,,,,,,,,,,,\n"
                "b,top,乙,B,0.5,1,,,,,,,,,,,1\n")
    nodes = read_framework_csv(path)
    assert [n.id for n in nodes] == ["top", "a", "NA", "null", "b"]
    assert nodes[0].parent is None and nodes[0].aggregation == "geometric"
    assert nodes[2] == Node("NA", "a", weight=None, direction=-1, normalisation="goalposts",
                            goal_low=0.0, goal_high=10.0, denominator="population", transform="log",
                            unit="%", source="src", note="x, y")
    assert nodes[1].weighting == "equal" and nodes[4].weight == 0.5


def test_read_framework_csv_minimal(tmp_path: Path) -> None:
    nodes = read_framework_csv(_csv(tmp_path / "t.csv", "\ufeffID , Parent\nr,\nx,r\ny,r\n"))
    assert nodes == (Node("r", None), Node("x", "r"), Node("y", "r"))


def test_read_framework_csv_parent_case(tmp_path: Path) -> None:
    nodes = read_framework_csv(_csv(tmp_path / "c.csv", "id,parent,weight\nRoot,,\nx, ROOT ,1\n"))
    assert nodes[1].parent == "Root"


def _problems(call: Any, path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ProblemsFound) as info:
        call(path)
    return [(p.sheet, p.cell, p.problem) for p in info.value.problems]


def test_read_framework_csv_problems(tmp_path: Path) -> None:
    path = _csv(tmp_path / "tree.csv",
                "id,parent,weight,direction,normalisation\n"   # row 1
                "root,,,,\n"                                   # row 2
                "a,root,0.5,,\n"                               # row 3
                "a,root,0.5,,\n"                               # row 4: duplicate id
                "b,root,half,,\n"                              # row 5: weight not a number
                "c,root,0.1,2,\n"                              # row 6: direction 2
                "d,root,0.1,,magic\n"                          # row 7: unknown method
                "e,ghost,0.1,,\n")                             # row 8: unknown parent
    problems = _problems(read_framework_csv, path)
    assert all(p[0] == "tree.csv" for p in problems)
    cells = {p[1]: p[2] for p in problems}
    assert "used twice" in cells["A4"] and "A3" in cells["A4"]
    assert "'half' is not a number" in cells["C5"] and "weight" in cells["C5"]
    assert "1" in cells["D6"] and "-1" in cells["D6"]
    assert "magic" in cells["E7"] and "minmax" in cells["E7"]
    assert "ghost" in cells["B8"]
    assert len(problems) == 5
    with pytest.raises(ProblemsFound, match=r"Sheet 'tree.csv', cell C5: node b, column weight"):
        read_framework_csv(path)


def test_read_framework_csv_missing_column_and_empty(tmp_path: Path) -> None:
    problems = _problems(read_framework_csv, _csv(tmp_path / "x.csv", "id;parent\nr;\n"))
    assert problems[0][0] == "x.csv" and "parent" in problems[0][2] and "commas" in problems[0][2]
    problems = _problems(read_framework_csv, _csv(tmp_path / "e.csv", ""))
    assert problems == [("e.csv", "A1", problems[0][2])]
    problems = _problems(read_framework_csv, _csv(tmp_path / "r.csv", "id,parent\na,b\nb,a\n"))
    assert problems[0][0] == "r.csv" and "exactly one node" in problems[0][2]


def test_read_units_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path / "units.csv",
                "id,name_zh,name_en,region,population,code\n"
                "NA,纳米比亚,Namibia,Africa,2.5,01\n"
                "None,无,None,,10,02\n"
                "null,空,Null,Asia,,10\n")
    units = read_units_csv(path)
    assert list(units.index) == ["NA", "None", "null"]
    assert list(units.columns) == ["name_zh", "name_en", "region", "population", "code"]
    assert units.loc["None", "name_en"] == "None" and units.loc["None", "region"] == ""
    assert units["population"].dtype == float and math.isnan(units.loc["null", "population"])
    assert list(units["code"]) == ["01", "02", "10"]             # leading zeros: text


def test_read_units_csv_problems(tmp_path: Path) -> None:
    path = _csv(tmp_path / "units.csv", "name_zh,id\n甲,a\n乙,A\n丙,\n")
    problems = _problems(read_units_csv, path)
    assert [(p[0], p[1]) for p in problems] == [("units.csv", "B3"), ("units.csv", "B4")]
    assert "used twice" in problems[0][2] and "B2" in problems[0][2]
    problems = _problems(read_units_csv, _csv(tmp_path / "u2.csv", "name,x\na,b\n"))
    assert problems[0][0] == "u2.csv" and "id" in problems[0][2]


def test_csv_to_workbook(tmp_path: Path) -> None:
    nodes = read_framework_csv(_csv(tmp_path / "t.csv", "id,parent,weight\nr,,\nx,r,0.5\ny,r,0.5\n"))
    units = read_units_csv(_csv(tmp_path / "u.csv", "id,name_zh,name_en\nNA,甲,A\nnull,乙,B\n"))
    path = tmp_path / "new.xlsx"
    write_workbook(path, nodes=nodes, units=units, settings={})
    wb = openpyxl.load_workbook(path)
    assert [r[0] for r in _rows(wb["Units"])] == ["id", "NA", "null"]
    assert _rows(wb["Data"]) == [["unit", "x", "y"]]
    assert [r[0] for r in _rows(wb["Settings"])[1:]] == list(KNOWN_KEYS)


# ---------------------------------------------------------------------------------------------
# the 2020 reference workbooks


def _build_module() -> ModuleType:
    path = REPO / "workbooks" / "build_workbooks.py"
    spec = importlib.util.spec_from_file_location("build_workbooks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_workbooks", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("ref")
    paths: tuple[Path, Path] = _build_module().write_inputs(out)
    return paths


def test_seed_copies_match_test_data() -> None:
    for name in ("framework.csv", "published_scores_2020.csv"):
        assert (REPO / "workbooks" / "seed" / name).read_bytes() == (DATA_DIR / name).read_bytes()


@pytest.mark.parametrize("which", [0, 1])
def test_reference_inputs(built: tuple[Path, Path], which: int) -> None:
    wb = openpyxl.load_workbook(built[which])
    published = pd.read_csv(DATA_DIR / "published_scores_2020.csv")

    header, fw = _table(wb["Framework"])
    nodes = [dict(zip(header, r, strict=True)) for r in fw]
    assert len(nodes) == 38                    # root + 5 + 12 + 20
    by_id = {n["id"]: n for n in nodes}
    depth = {}
    for n in nodes:
        d, cur = 0, n
        while cur["parent"] is not None:
            cur, d = by_id[cur["parent"]], d + 1
        depth[n["id"]] = d
    assert sorted(depth.values()).count(1) == 5 and list(depth.values()).count(2) == 12
    assert list(depth.values()).count(3) == 20 and nodes[0]["id"] == "index"
    assert {n["id"]: n["weight"] for n in nodes if depth[n["id"]] == 1} == {
        "environment": 0.15, "funding": 0.20, "rnd": 0.25, "infrastructure": 0.20, "outcomes": 0.20}
    sums: dict[str, float] = {}
    for n in nodes[1:]:
        sums[n["parent"]] = sums.get(n["parent"], 0.0) + n["weight"]
    assert all(abs(s - 1) < 1e-9 for s in sums.values())
    leaves = [n for n in nodes if depth[n["id"]] == 3]
    assert all(n["direction"] == 1 and n["unit"] for n in leaves)
    assert all("示意" in n["note"] for n in nodes if depth[n["id"]] >= 2)

    header, units = _table(wb["Units"])
    assert header == ["id", "name_zh", "name_en", "region", "population"]
    assert len(units) == 30 and units[0][:3] == ["beijing", "北京", "Beijing"]
    assert [u[1] for u in units] == list(published["city"])
    assert {u[3] for u in units} <= {"华北", "华东", "华南", "华中", "西南", "西北", "东北"}
    assert all(isinstance(u[4], int | float) and u[4] > 100 for u in units)
    assert "approximate" in _comment(wb["Units"]["E1"])

    given = _scores_frame(wb["Given"])
    # the data workbook (synthetic scores) has no printed totals to set beside them
    dims = ["environment", "funding", "rnd", "infrastructure", "outcomes"]
    assert list(given.columns) == dims + ["published"] * (which == 0)
    expected = published.set_index(given.index)[dims + ["total"] * (which == 0)]
    assert np.array_equal(given.to_numpy(), expected.to_numpy(dtype=float))

    data = _scores_frame(wb["Data"])
    assert data.shape == (30, 20) and list(data.index) == list(given.index)
    assert not data.isna().any().any() and (data > 0).all().all()
    assert all("SYNTHETIC" in _comment(wb["Data"].cell(1, c)) for c in range(1, 22))
    readme = " ".join(str(v) for r in _rows(wb["README"]) for v in r if v)
    for needle in ("ILLUSTRATIVE", "示意", "INFERRED", "PUBLISHED", "=AI_INDEX(\"北京\")",
                   "=AI_RANK(\"Shanghai\")", "=AI_TIER(\"郑州\")", "=AI_SUBINDEX(\"北京\",\"rnd\")",
                   "77.74", "79.55", "xl-aiindex recalc workbooks/"):
        assert needle in readme, needle

    settings = {r[0]: r[1] for r in _rows(wb["Settings"])[1:]}
    assert settings["input"] == ("given", "data")[which]
    assert settings["normalisation"] == ("minmax", "efficacy")[which]
    assert settings["name_en"] == "China City AI Development Index 2020"
    assert settings["tier_labels"] == "第一梯队;第二梯队;第三梯队" and settings["rank_decimals"] is None
    parsed, problems, notes = parse_settings(settings)
    assert problems == [] and notes == []


def test_reference_build_is_deterministic(tmp_path: Path) -> None:
    module = _build_module()
    a = module.write_inputs(tmp_path / "a")
    b = module.write_inputs(tmp_path / "b")
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()


def test_reference_model_computes() -> None:
    """The 2020 inputs run through the engine: given reproduces the table; data resembles it."""
    module = _build_module()
    from xl_aiindex.pipeline import build_index

    nodes = module.framework_nodes()
    published = module.published_table()
    units = module.units_table(published)
    given = module.given_table(published)
    data = module.synthetic_data(nodes, given)
    totals = {}
    for mode in ("given", "data"):
        settings, problems, _ = parse_settings(module.settings_for(mode))
        assert problems == []
        totals[mode] = build_index(IndexModel(nodes, settings, units, data, given)).total
    assert (totals["given"] - given["published"]).abs().max() <= 0.01
    rho = totals["data"].corr(given["published"], method="spearman")
    assert 0.7 < rho < 1.0


def test_reference_build_with_recalc(tmp_path: Path) -> None:
    paths = _build_module().build(tmp_path)
    for path in paths:
        wb = openpyxl.load_workbook(path)
        assert len(_rows(wb["Ranking"])) == 31


def _committed_versions(path: Path, tmp_path: Path) -> list[Path]:
    """The shipped workbook as git stores it (its staged version) and, when it differs, the
    file in the working tree. A user who follows the README and recalculates the shipped
    workbook in place changes the working file only: the committed one is what is tested."""
    import subprocess

    versions = [path]
    rel = path.relative_to(REPO).as_posix()
    try:
        staged = subprocess.run(["git", "-C", str(REPO), "show", f":{rel}"], capture_output=True,
                                check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return versions   # not a git checkout (an unpacked archive): the file is all there is
    if staged != path.read_bytes():
        copy = tmp_path / "staged" / path.name
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(staged)
        versions.insert(0, copy)
    return versions


def _sheet_cells(path: Path) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    # array formulas are objects: compare their text and range
    return {name: [[(v.ref, v.text) if hasattr(v, "text") and hasattr(v, "ref") else v
                    for v in row] for row in book[name].iter_rows(values_only=True)]
            for name in book.sheetnames}


def test_committed_workbooks_are_what_the_build_script_writes(tmp_path: Path) -> None:
    """Rebuilding gives the committed workbooks, cell for cell on every sheet (hidden ones too):
    the shipped files are neither stale nor edited by hand. The version git stores counts (a
    README reader's in-place recalc changes only the working file); a rebuilt but not yet
    staged file passes too, so a developer can test before committing."""
    paths = _build_module().build(tmp_path / "built")
    for built in (*paths, paths[0].with_suffix(".xlsm")):
        want = _sheet_cells(built)
        versions = _committed_versions(REPO / "workbooks" / built.name, tmp_path)
        found = [_sheet_cells(v) for v in versions]
        if all(_cells_differ(f, want) for f in found):
            have = found[0]
            assert list(have) == list(want), built.name
            for name in want:
                assert not _cells_differ({name: have[name]}, {name: want[name]}), \
                    f"{built.name}: sheet {name}: {_cells_differ({name: have[name]}, {name: want[name]})}"


_NUMBER = re.compile(r"(?<![A-Za-z_$])\d+(?:\.\d*)?(?:[Ee][+-]?\d+)?")


def _same_value(a: Any, b: Any) -> bool:
    """Equal, numbers within 1e-9 relative (another machine's BLAS kernel changes the last
    bits), numbers inside formula text too; the fingerprint store's digests are of those
    numbers, so they are compared by position only."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str) and a.startswith("=") and b.startswith("="):
        na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
        return (_NUMBER.sub("#", a) == _NUMBER.sub("#", b) and len(na) == len(nb)
                and all(math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)
                        for x, y in zip(na, nb, strict=True)))
    return bool(a == b)


def _cells_differ(have: dict[str, list[list[Any]]], want: dict[str, list[list[Any]]]) -> str:
    """Where two workbooks' cells differ ("" when they do not), by :func:`_same_value`."""
    if list(have) != list(want):
        return f"sheets {list(have)} != {list(want)}"
    for name in want:
        h, w = have[name], want[name]
        if len(h) != len(w):
            return f"{name}: {len(h)} rows != {len(w)}"
        for r, (hr, wr) in enumerate(zip(h, w, strict=True), start=1):
            if len(hr) != len(wr):
                return f"{name} row {r}: {len(hr)} cells != {len(wr)}"
            for c, (a, b) in enumerate(zip(hr, wr, strict=True), start=1):
                digest = name == "_xl_aiindex" and c == 4 and r > 1 and hr[1] in (
                    "digest", "rows", "cols", "diags") and wr[1] == hr[1]
                if not digest and not _same_value(a, b):
                    return f"{name} row {r} column {c}: {a!r} != {b!r}"
    return ""


def test_no_formula_of_the_shipped_workbooks_depends_on_the_last_bits_of_a_float() -> None:
    """Numbers the build embeds in formulas carry at most 10 significant digits: another CPU's
    BLAS kernel changes the 16th digit of a fitted weight, and the shipped file must not."""
    for name in ("city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx",
                 "city_ai_index_2020.xlsm"):
        cells = _sheet_cells(REPO / "workbooks" / name)
        for sheet, rows in cells.items():
            for row in rows:
                for v in row:
                    if isinstance(v, str) and v.startswith("="):
                        for number in _NUMBER.findall(v):
                            digits = number.split("e")[0].split("E")[0].replace(".", "").lstrip("0")
                            assert len(digits) <= 10, f"{name}!{sheet}: {v}"


def test_workbook_comparison_allows_the_last_bits_and_nothing_more() -> None:
    base = {"S": [["=ABS(C14-0.1501571388)<1E-6", 92.92853612345678, "x"]]}
    other = {"S": [["=ABS(C14-0.1501571388000001)<1E-6", 92.92853612345679, "x"]]}
    assert _cells_differ(other, base) == ""
    edited = {"S": [["=ABS(C14-0.1501581388)<1E-6", 92.92853612345678, "x"]]}
    assert "row 1 column 1" in _cells_differ(edited, base)
    assert "row 1 column 2" in _cells_differ({"S": [[base["S"][0][0], 92.93, "x"]]}, base)
