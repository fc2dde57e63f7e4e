"""The sheets of the macro-enabled workbook, read from the XML: code names of sheets added to a
book with a VBA project (issue #21), row heights copied and the Examples table unsplit (#23)."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import REPO, run
from oletools.olevba import VBA_Parser
from test_excel_rebuild import user_book

from xl_aiindex.workbook.excel_vba import _xlwings_dir
from xl_aiindex.workbook.ooxml import splice_sheets
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec
from xl_aiindex.workbook.vba_project import read_project
from xl_aiindex.workbook.xlsm import build_xlsm

REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its worksheet XML, in workbook order."""
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = dict(re.findall(r'Id="(\w+)"[^>]*Target="([^"]+)"',
                               z.read("xl/_rels/workbook.xml.rels").decode()))
        return {name: z.read("xl/" + rels[rid].removeprefix("/xl/")).decode()
                for name, rid in re.findall(r'<sheet name="([^"]*)"[^>]*r:id="(\w+)"', wb)}


def code_name(xml: str) -> str | None:
    m = re.search(r'<sheetPr\b[^>]*\bcodeName="([^"]*)"', xml)
    return m.group(1) if m else None


def olevba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def assert_one_module_per_sheet(path: Path) -> dict[str, str]:
    """Every worksheet has a code name of its own, and the project a document module of that
    name (read by olevba); returns sheet -> code name."""
    names = {sheet: code_name(xml) for sheet, xml in sheet_parts(path).items()}
    assert None not in names.values(), names
    assert len(set(names.values())) == len(names)
    modules = olevba_modules(path)
    for sheet, code in names.items():
        assert code in modules, (sheet, code)
        assert 'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"' in modules[code]
    return names  # type: ignore[return-value]


@pytest.fixture(scope="module")
def without_charts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference workbook without Charts, Compare and the store: `excel` adds them."""
    folder = tmp_path_factory.mktemp("nocharts")
    book = openpyxl.load_workbook(REFERENCE)
    for name in ("Charts", "Compare", "_xl_aiindex"):
        del book[name]
    book.save(folder / "book.xlsx")
    return build_xlsm(folder / "book.xlsx", folder / "book.xlsm")


def test_sheets_spliced_into_the_built_workbook_get_code_names(without_charts: Path) -> None:
    names = assert_one_module_per_sheet(without_charts)
    order = list(names)
    # the copied sheets and the two added ones first (Sheet1…), the spliced ones after them
    assert order[-3:] == ["Charts", "Compare", "_xl_aiindex"]
    assert [names[n] for n in order] == [f"Sheet{i}" for i in range(1, len(order) + 1)]
    # the spliced sheets keep what they had: the charts of Charts
    assert "<drawing " in sheet_parts(without_charts)["Charts"]


def test_recalc_of_a_users_xlsm_gives_new_sheets_code_names(tmp_path: Path) -> None:
    """A user's .xlsm with only input sheets: recalc appends the result sheets, each with a
    code name and a module; the user's modules stay as they were."""
    book = user_book(tmp_path / "book.xlsm", picture=False)
    with zipfile.ZipFile(book) as z:
        before = read_project(z.read("xl/vbaProject.bin"))
    out = run("recalc", book)
    assert out.exit_code == 0, out.output
    names = assert_one_module_per_sheet(book)
    assert {"Scores", "Ranking", "_xl_aiindex"} <= set(names)
    with zipfile.ZipFile(book) as z:
        after = read_project(z.read("xl/vbaProject.bin"))
    for module, source in before.sources.items():
        assert after.sources[module] == source, module
    assert set(after.sources) == set(before.sources) | set(names.values())
    # a second recalc replaces the sheets: code names and project unchanged
    again = run("recalc", book)
    assert again.exit_code == 0, again.output
    assert assert_one_module_per_sheet(book) == names
    with zipfile.ZipFile(book) as z:
        assert read_project(z.read("xl/vbaProject.bin")).sources == after.sources


def test_a_project_that_cannot_be_written_again_is_left_alone(tmp_path: Path) -> None:
    """xlwings' quickstart workbook (saved by Excel) references MSForms, which the writer
    cannot carry: a sheet spliced into it leaves the project byte for byte as it was."""
    src = Path(shutil.copy(_xlwings_dir() / "quickstart_standalone.xlsm", tmp_path / "q.xlsm"))
    splice_sheets(src, tmp_path / "out.xlsm", [SheetSpec("Added", [[Cell("a")], [Cell(1.0)]])])
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(tmp_path / "out.xlsm") as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")
    assert code_name(sheet_parts(tmp_path / "out.xlsm")["Added"]) is None


def rows_with_height(xml: str) -> dict[int, str]:
    """Row number -> its height, for the rows with a custom height."""
    return {int(r): ht for r, ht in re.findall(r'<row r="(\d+)"[^>]*? ht="([\d.]+)" customHeight="1"',
                                                xml)}


def test_row_heights_are_copied_and_examples_has_no_tall_row(tmp_path: Path) -> None:
    """#23: README's 48-point rows stay 48 points in the .xlsm, and no row of the Examples
    sheet is made tall (a 150-point row used to split its table)."""
    out = build_xlsm(REFERENCE, tmp_path / "book.xlsm")
    source = {name: rows_with_height(xml) for name, xml in sheet_parts(REFERENCE).items()}
    built = sheet_parts(out)
    readme = source["README"]
    assert sum(1 for ht in readme.values() if float(ht) == 48) >= 3
    for name, heights in source.items():
        got = rows_with_height(built[name])
        assert {r: float(h) for r, h in got.items()} == {r: float(h) for r, h in heights.items()}, name
    assert rows_with_height(built["Examples"]) == {}
    # the note beside the table: one short line per row, within the table's rows
    examples = openpyxl.load_workbook(out)["Examples"]
    note = [c.value for c in examples["F"] if c.value]
    last_example = max(r for r in range(2, examples.max_row + 1)
                       if examples.cell(r, 4).value is not None)
    assert 3 <= len(note) <= 6 and all(len(line) < 110 for line in note)
    assert max(c.row for c in examples["F"] if c.value) <= last_example
    assert any("Ctrl+Alt+F9" in line for line in note)
