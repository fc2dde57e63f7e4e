"""Excel out of the box (issue 11): the `excel` command, the VBA the workbooks carry, the
dynamic-array form of every formula calling our functions, errors that are Excel errors with a
readable reason, and the Excel details (names, flags, the calculation-keyed cache)."""

from __future__ import annotations

import re
import shutil
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest
from conftest import REPO, run
from test_macros import FakeBook

from udfs import AI_INDEX, AI_SUBINDEX, AI_TIER, AI_WHY, use_book
from udfs.cache import CACHE
from udfs.why import ERRORS, error_code
from xl_aiindex.lookup import NameIndex, match_key
from xl_aiindex.workbook import excel_vba
from xl_aiindex.workbook.excel_vba import read_vba_modules, udf_wrappers, xlwings_bas

SHIPPED = REPO / "workbooks" / "city_ai_index_2020.xlsm"
REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"
EXCEL_SAVED = REPO / "tests" / "data" / "excel_saved_dynamic_array"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
FUNCTIONS = ("AI_INDEX", "AI_SUBINDEX", "AI_RANK", "AI_TIER", "AI_WEIGHT", "AI_RANKING",
             "AI_SCORES", "AI_RANK_INTERVAL", "AI_FIT_WEIGHTS", "AI_WHY")
MACROS = ("rebuild_results", "validate_inputs")


# ---- the command ----

def test_excel_command_writes_the_macro_workbook(tmp_path: Path) -> None:
    book = Path(shutil.copy(REFERENCE, tmp_path / "ref.xlsx"))
    result = run("excel", book)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Wrote {tmp_path / 'ref.xlsm'}: 10 functions and 2 macros in its VBA project "
        f"(xlwings {excel_vba.xlwings_version()}, standalone)\n"
        "Next: open it in Excel on Windows and enable macros (docs/excel.md)\n")
    again = run("excel", book)
    assert again.exit_code == 2
    assert again.output == (f"Error: {tmp_path / 'ref.xlsm'} exists: use --force to overwrite it, "
                            "or write to another file\n")
    assert run("excel", book, "--force").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["missing.xlsx"], "Error: {d}/missing.xlsx: no such file\n"),
    (["ref.xlsx", "-o", "out.xlsx"], "Error: {d}/out.xlsx: a macro-enabled workbook must end in .xlsm\n"),
    (["notes.xlsx"], "Error: {d}/notes.xlsx: is a text file (CSV?), not an .xlsx/.xlsm workbook\n"),
])
def test_excel_command_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    shutil.copy(REFERENCE, tmp_path / "ref.xlsx")
    (tmp_path / "notes.xlsx").write_text("a,b\n1,2\n")
    result = run("excel", *[str(tmp_path / a) if a.endswith(("xlsx", "xlsm")) else a for a in args])
    assert result.exit_code == 2
    assert result.output == message.format(d=tmp_path)


def test_excel_command_on_a_new_workbook(tmp_path: Path) -> None:
    """A workbook just made by `new` (Data blank) gets its macro workbook, with a note."""
    tree, units = tmp_path / "tree.csv", tmp_path / "units.csv"
    tree.write_text("id,parent,name_zh,name_en,weight,direction\nhdi,,人类发展,HDI,,\n"
                    "health,hdi,健康,Health,0.5,1\nwealth,hdi,财富,Wealth,0.5,1\n", encoding="utf-8")
    units.write_text("id,name_zh,name_en\na,甲,Alpha\nb,乙,Beta\n", encoding="utf-8")
    assert run("new", "--framework", tree, "--units", units, "-o", tmp_path / "n.xlsx").exit_code == 0
    result = run("excel", tmp_path / "n.xlsx", "-o", tmp_path / "n.xlsm")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[1].startswith("Note: the inputs have 4 problems (first: Sheet 'Data', cell B2: unit a")
    assert lines[1].endswith(f"the functions show results once they are fixed: xl-aiindex validate "
                             f"{tmp_path / 'n.xlsm'}")
    with zipfile.ZipFile(tmp_path / "n.xlsm") as z:
        modules = read_vba_modules(z.read("xl/vbaProject.bin"))
        sheets = {n: z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
    assert modules["xlwings_udfs"] == udf_wrappers()
    examples = next(x for x in sheets.values() if "AI_WHY" in x)
    assert 'AI_INDEX("a")' in examples and 'AI_SUBINDEX("a","health")' in examples
    check_dynamic(tmp_path / "n.xlsm")


# ---- the VBA the shipped workbook carries ----

def test_shipped_vba_decoded_by_olevba() -> None:
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(SHIPPED))
    modules = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    sheets = len(openpyxl.load_workbook(SHIPPED, read_only=True).sheetnames)
    # one document module per worksheet, as Excel names them
    assert set(modules) == {"ThisWorkbook", "xlwings", "xlwings_udfs", "Dictionary"} | {
        f"Sheet{i}" for i in range(1, sheets + 1)}
    udfs_vba = modules["xlwings_udfs"].replace("\r\n", "\n")
    assert udfs_vba == udf_wrappers().replace("\r\n", "\n")  # what the generator writes
    for name in FUNCTIONS:
        assert re.search(rf"^Function {name}\(", udfs_vba, re.M), name
    for name in MACROS:
        assert re.search(rf"^Sub {name}\(\)$", udfs_vba, re.M), name
    assert modules["xlwings"].replace("\r\n", "\n") == xlwings_bas().replace("\r\n", "\n")
    assert 'XLWINGS_VERSION As String = "' + excel_vba.xlwings_version() + '"' in modules["xlwings"]
    everything = "\n".join(modules.values())
    assert "SampleCall" not in everything and "Module1" not in modules
    with zipfile.ZipFile(SHIPPED) as z:
        vml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    buttons = re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)
    assert sorted(buttons) == sorted(MACROS)


def test_error_rule_is_the_same_in_vba_and_python() -> None:
    """XlAiIndexResult (VBA) and udfs.why.error_code (Python) turn the same texts into the same
    errors: the VBA's constants are read back and applied to sample answers."""
    helper = excel_vba.error_helper()
    codes = {int(c): e for e, c in excel_vba.ERROR_CODES.items()}
    by_prefix = dict(re.findall(r'If Left\$\(rest, \d+\) = "([^"]+)" Then XlAiIndexResult = CVErr\((\d+)\)', helper))

    def vba(answer: Any) -> str | None:  # the helper's logic, step by step, on its own constants
        if not isinstance(answer, str) or not answer.startswith("#AI! "):
            return None
        if answer.startswith("#AI! unknown "):
            return "#N/A"
        at = answer.find(" is the error value ")
        code = "#VALUE!"
        if at >= 0:
            rest = answer[at + len(" is the error value "):]
            for prefix, num in by_prefix.items():
                if rest.startswith(prefix):
                    code = codes[int(num)]
        return code

    assert '"#AI! unknown "' in helper and "CVErr(2042)" in helper and "CVErr(2015)" in helper
    samples = [92.9, "第三梯队", None, [[1, 2]], '#AI! unknown city "Pekin" — did you mean Beijing?',
               "#AI! city is the error value #DIV/0!", "#AI! node is the error value #N/A",
               "#AI! city is blank", "#AI! 1 problem in the workbook: …", "#AI! as_label must be TRUE"]
    assert [vba(s) for s in samples] == [error_code(s) for s in samples] == [
        None, None, None, None, "#N/A", "#DIV/0!", "#N/A", "#VALUE!", "#VALUE!", "#VALUE!"]


# ---- no silent @: dynamic-array formulas ----

def check_dynamic(path: Path) -> int:
    """Every formula calling our functions has cm= pointing to an XLDAPR block (as Excel writes
    it); returns how many."""
    with zipfile.ZipFile(path) as z:
        meta = ElementTree.fromstring(z.read("xl/metadata.xml"))
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
        sheets = [z.read(n) for n in z.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml$", n)]
    assert 'Target="metadata.xml"' in rels and "sheetMetadata+xml" in types
    type_names = [t.get("name") for t in meta.iter(MAIN + "metadataType")]
    dynamic = {i + 1 for i, bk in enumerate(meta.find(MAIN + "cellMetadata") or [])
               if type_names[int(bk[0].get("t")) - 1] == "XLDAPR"}
    future = meta.find(MAIN + "futureMetadata")
    assert future is not None and future.get("name") == "XLDAPR"
    props = future.find(".//{http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray}"
                        "dynamicArrayProperties")
    assert props is not None and props.get("fDynamic") == "1"
    count = 0
    for xml in sheets:
        for c in ElementTree.fromstring(xml).iter(MAIN + "c"):
            f = c.find(MAIN + "f")
            if f is None or not re.search(r"\bAI_[A-Z_]+\(", f.text or ""):
                continue
            count += 1
            assert c.get("cm") and int(c.get("cm")) in dynamic, (c.get("r"), f.text)
            assert f.get("t") == "array" and f.get("ref", "").split(":")[0] == c.get("r")
    return count


def test_every_udf_formula_is_dynamic_as_excel_writes_it() -> None:
    # the reference: a workbook Excel saved (XlsxWriter's test corpus), a one-cell dynamic formula
    excel_meta = (EXCEL_SAVED / "metadata.xml").read_bytes()
    cell = re.search(rb'<c r="A1"[^>]*><f[^>]*>', (EXCEL_SAVED / "sheet1.xml").read_bytes())
    assert cell is not None and cell.group(0) == b'<c r="A1" cm="1"><f t="array" ref="A1">'
    with zipfile.ZipFile(SHIPPED) as z:
        ours = z.read("xl/metadata.xml")
        sheets = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert ours.replace(b"\r\n", b"").replace(b"\n", b"") == excel_meta.replace(b"\r\n", b"")
    for m in re.finditer(rb'<c r="([A-Z]+\d+)"[^>]*><f[^>]*>[^<]*AI_', sheets):
        assert re.match(rb'<c r="([A-Z]+\d+)"(?: s="\d+")? cm="1"(?: t="\w+")?><f t="array" ref="\1">',
                        m.group(0)), m.group(0)
    assert check_dynamic(SHIPPED) == 20  # C2:C18, D18, and the two spilled tables


def test_very_hidden_sheet_stays_very_hidden() -> None:
    with zipfile.ZipFile(SHIPPED) as z:
        workbook = z.read("xl/workbook.xml").decode()
    assert re.search(r'<sheet name="_xl_aiindex" sheetId="\d+" state="veryHidden"', workbook)


# ---- errors behave like errors ----

def excel_cell(book: Path, sheet: str, address: str) -> Any:
    """A calling cell as xlwings passes it (sheet, its book, an address)."""
    fake = FakeBook(book)
    return SimpleNamespace(sheet=SimpleNamespace(book=fake, name=sheet), address=address)


def test_ai_why_tells_the_reason_of_an_error_cell() -> None:
    ERRORS.clear()
    cell = excel_cell(REFERENCE, "Examples", "$C$5")
    answer = AI_INDEX("Pekin", caller=cell)
    assert error_code(answer) == "#N/A"
    why = SimpleNamespace(sheet=cell.sheet, address="$C$5")
    assert AI_WHY(why) == 'unknown city "Pekin" — did you mean Beijing or Kunming?'
    assert AI_INDEX("北京", caller=cell) == pytest.approx(92.9285)  # fixed: the reason goes
    assert AI_WHY(why) == "no xl-aiindex error in Examples!$C$5 (recalculate with F9 if it shows one)"
    assert AI_WHY("C5") == "give AI_WHY a reference to one cell, e.g. =AI_WHY(C5)"


@pytest.mark.parametrize(("value", "code"), [("#DIV/0!", "#DIV/0!"), ("#N/A", "#N/A"),
                                             ("#REF!", "#REF!")])
def test_error_arguments_arrive_as_errors(value: str, code: str) -> None:
    """err_to_str gives "#DIV/0!" for an error cell: the answer is that error, not a blank."""
    with use_book(REFERENCE):
        answer = AI_SUBINDEX(value, "rnd")
        assert answer == f"#AI! city is the error value {value}"
        assert error_code(answer) == code
        assert error_code(AI_SUBINDEX("北京", value)) == code


@pytest.mark.parametrize(("flag", "expected"), [
    (True, "第三梯队"), (1, "第三梯队"), (1.0, "第三梯队"), (False, 3), (0, 3), (None, 3),
    ("TRUE", '#AI! as_label must be TRUE, FALSE, 1 or 0, not "TRUE"'),
    ("yes", '#AI! as_label must be TRUE, FALSE, 1 or 0, not "yes"'),
    (2, "#AI! as_label must be TRUE, FALSE, 1 or 0, not 2"),
    ("#N/A", "#AI! as_label is the error value #N/A"),
])
def test_tier_flag_is_true_false_one_or_zero(flag: Any, expected: Any) -> None:
    with use_book(REFERENCE):
        assert AI_TIER("郑州", flag) == expected


# ---- names ----

@pytest.mark.parametrize("name", ["北京市", "北京", " 北 京 市 ", "北\u200b京", "\ufeffBeijing",
                                  "Bei\u200djing", "ＢＥＩＪＩＮＧ"])
def test_city_names_resolve(name: str) -> None:
    with use_book(REFERENCE):
        assert AI_INDEX(name) == pytest.approx(92.9285)


def test_traditional_characters_resolve() -> None:
    with use_book(REFERENCE):
        assert AI_INDEX("廣州") == AI_INDEX("广州")
        assert AI_INDEX("廣州市") == AI_INDEX("广州")
        assert AI_SUBINDEX("北京", "研發能力") == AI_SUBINDEX("北京", "rnd")
    assert match_key("臺灣") == match_key("台湾")


def test_a_unit_named_with_the_suffix_is_found_without_it() -> None:
    from xl_aiindex.workbook.io import load_workbook

    model = load_workbook(REFERENCE).model
    units = model.units.copy()
    units.loc["beijing", "name_zh"] = "北京市"
    index = NameIndex.of(model.__class__(**{**model.__dict__, "units": units}), "unit")
    assert index.find("北京") == index.find("北京市")
    assert index.get("市") is None


# ---- the cache: one read per calculation, however long ----

@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    CACHE.invalidate()
    monkeypatch.setattr(CACHE, "clock", lambda: now[0])
    monkeypatch.setattr(CACHE, "reads", 0)
    return now


def test_a_long_calculation_reads_the_inputs_once(tmp_path: Path, clock: list[float]) -> None:
    book = Path(shutil.copy(REFERENCE, tmp_path / "ref.xlsx"))
    fake = FakeBook(book)
    cells = [SimpleNamespace(sheet=SimpleNamespace(book=fake, name="S"), address=f"$A${r}")
             for r in range(1, 201)]
    for c in cells:  # 200 cells, 0.3 s apart: 60 s in all, one calculation
        assert AI_INDEX("北京", caller=c) == pytest.approx(92.9285)
        clock[0] += 0.3
    assert CACHE.reads == 1
    # the same cell calling again is the next calculation (e.g. after an edit): read again
    fake.sheets["Given"].cells[(2, 2)] = 100.0
    assert AI_INDEX("北京", caller=cells[0]) == pytest.approx(92.9285 + 0.15 * (100 - 90.54))
    assert CACHE.reads == 2
    clock[0] += 0.1
    assert AI_INDEX("北京", caller=cells[1]) == pytest.approx(92.9285 + 0.15 * (100 - 90.54))
    assert CACHE.reads == 2


# ---- packaging ----

def test_xlwings_version_floor_and_licences() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # pinned to the embedded VBA's version (tests/project/test_floors.py checks which)
    assert any(d.startswith("xlwings==") for d in project["dependencies"])
    assert project["license"] == "MIT"
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    notice = (REPO / "LICENSES" / "xlwings-BSD-3-Clause.txt").read_text(encoding="utf-8")
    assert "Zoomer Analytics" in notice and "Redistribution and use" in notice
