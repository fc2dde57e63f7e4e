"""What a recalc keeps of a result sheet it replaces (its protection) and where the Log stops
(Excel's last row and column): through the command line, as a user meets them."""

from pathlib import Path

import openpyxl
from conftest import run
from openpyxl.worksheet.protection import SheetProtection

from xl_aiindex.workbook.ooxml import RowAppend, package_parts, splice_sheets


def _recalculated(book: Path, tmp_path: Path) -> Path:
    out = tmp_path / "book.xlsx"
    r = run("recalc", book, "-o", out)
    assert r.exit_code == 0, r.output
    return out


def test_recalc_keeps_the_protection_of_a_result_sheet(small_book, tmp_path):
    path = _recalculated(small_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Ranking"]
    ws.protection.sheet = True
    ws.protection.password = "secret"       # openpyxl stores Excel's legacy 16-bit hash
    ws.protection.formatColumns = False     # the user allowed resizing columns
    wb.save(path)
    expected_hash = openpyxl.load_workbook(path)["Ranking"].protection.password
    assert expected_hash and expected_hash != "secret"

    r = run("recalc", path)
    assert r.exit_code == 0, r.output

    wb = openpyxl.load_workbook(path)
    protection = wb["Ranking"].protection
    assert protection.sheet is True
    assert protection.password == expected_hash
    assert protection.formatColumns is False
    assert wb["Ranking"]["B2"].value == "e"           # the sheet was rewritten all the same
    assert wb["Scores"].protection.sheet is False     # nothing protected that was not


def test_protection_is_written_at_its_schema_place(small_book, tmp_path):
    """CT_Worksheet order: sheetData, sheetCalcPr, sheetProtection, …, autoFilter, …"""
    path = _recalculated(small_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["Ranking"].protection = SheetProtection(sheet=True, algorithmName="SHA-512",
                                               hashValue="aGFzaA==", saltValue="c2FsdA==",
                                               spinCount=100000)
    wb.save(path)
    assert run("recalc", path).exit_code == 0
    parts = package_parts(path)
    wb2 = openpyxl.load_workbook(path)
    part = next(n for n in parts if n.startswith("xl/worksheets/sheet")
                and b"<sheetProtection" in parts[n])
    xml = parts[part].decode()
    assert xml.index("</sheetData>") < xml.index("<sheetProtection") < xml.index("<autoFilter")
    assert 'hashValue="aGFzaA=="' in xml and 'spinCount="100000"' in xml
    assert wb2["Ranking"].protection.hashValue == "aGFzaA=="


def _log_with(path: Path, cell: str, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    wb["Log"][cell] = value
    wb.save(path)


def test_a_full_log_refuses_the_recalc_and_changes_nothing(small_book, tmp_path):
    path = _recalculated(small_book, tmp_path)
    _log_with(path, "A1048576", "the last row")
    before = path.read_bytes()
    r = run("recalc", path)
    assert r.exit_code != 0
    assert "sheet 'Log' is full: row 1,048,576 holds a value" in r.output
    assert "delete or move old Log rows" in r.output
    assert "the workbook was not changed" in r.output
    assert path.read_bytes() == before


def test_a_log_header_reaching_xfd_refuses_a_new_column(small_book, tmp_path):
    path = _recalculated(small_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    log = wb["Log"]
    log.delete_cols(9)                     # the Log lost its inputs_hash column…
    log["XFD1"] = "my note"               # …and the user wrote a note in the last column
    wb.save(path)
    before = path.read_bytes()
    r = run("recalc", path)
    assert r.exit_code != 0
    assert "sheet 'Log' is full" in r.output and "XFD" in r.output
    assert "inputs_hash" in r.output
    assert path.read_bytes() == before


def test_row_append_below_the_last_row_is_refused_by_the_splicer(small_book, tmp_path):
    path = _recalculated(small_book, tmp_path)
    _log_with(path, "C1048576", 1.5)
    out = tmp_path / "out.xlsx"
    try:
        splice_sheets(path, out, [], appends=[RowAppend("Log", {0: "x"})])
    except ValueError as e:
        assert str(e) == ("sheet 'Log' is full: row 1,048,576 holds a value; delete or move "
                          "old Log rows")
    else:
        raise AssertionError("a row was appended below row 1,048,576")
    assert not out.exists()
