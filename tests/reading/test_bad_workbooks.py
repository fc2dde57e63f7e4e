"""Workbooks that are broken, odd or hostile: each gives its exact message and exit code, never
a traceback (exit 2 and one ``Error:`` line when the file cannot be read; exit 1 and one line
per problem, with sheet and cell, when its contents are wrong), and the file is not changed."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import run, write_book

from xl_aiindex.workbook import grid, package

DTD_REFUSED = ("holds an XML document type declaration (DTD), which workbook parts never have: "
               "refused as a possible entity-expansion attack")


def check(book: Path, code: int, expected: str, commands=("validate", "recalc")) -> None:
    """Every command gives ``expected`` (the whole output) and exit ``code``; the file and its
    folder are left as they were."""
    before = book.read_bytes()
    names = sorted(p.name for p in book.parent.iterdir())
    for command in commands:
        r = run(command, book)
        assert (r.exit_code, r.output) == (code, expected), command
        assert "Traceback" not in r.output
    assert book.read_bytes() == before
    assert sorted(p.name for p in book.parent.iterdir()) == names


def problems(*lines: str) -> str:
    n = len(lines)
    return f"{n} problem{'s' if n != 1 else ''} found:\n" + "".join(line + "\n" for line in lines)


def rewrite_part(book: Path, part: str, edit) -> Path:
    """Replace one part of the package by ``edit(old_bytes)``."""
    with zipfile.ZipFile(book) as z:
        entries = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            z.writestr(info, edit(data) if info.filename == part else data)
    return book


# --------------------------------------------------------------------------------------------
# not a workbook at all


@pytest.mark.parametrize("name, content, what", [
    ("book.xlsx", bytes(range(256)) * 4, "is not a zip package, not an .xlsx/.xlsm workbook"),
    ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
     "is a password-protected workbook or a legacy .xls file (OLE2 format): save it "
     "unencrypted as .xlsx"),
    ("export.xlsx", b"unit,x1\nbeijing,1\n", "is a text file (CSV?), not an .xlsx/.xlsm workbook"),
    ("empty.xlsx", b"", "is an empty file, not an .xlsx/.xlsm workbook"),
    ("cut.xlsx", b"PK\x03\x04" + b"\x00" * 60, "is a damaged zip package (File is not a zip file)"),
])
def test_not_a_workbook(tmp_path, name, content, what):
    book = tmp_path / name
    book.write_bytes(content)
    check(book, 2, f"Error: {book}: {what}\n")


def test_zip_that_is_not_a_workbook(tmp_path):
    book = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("readme.txt", "hello")
    check(book, 2, f"Error: {book}: is a zip package but not an Excel workbook (no "
                   "xl/workbook.xml)\n")


def test_password_protected_workbook_as_excel_saves_it(tmp_path):
    # Excel encrypts into an OLE2 compound file whatever the extension
    book = tmp_path / "secret.xlsx"
    book.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 8 + b"EncryptionInfo" + b"\0" * 400)
    check(book, 2, f"Error: {book}: is a password-protected workbook or a legacy .xls file "
                   "(OLE2 format): save it unencrypted as .xlsx\n")


def test_missing_file(tmp_path):
    r = run("recalc", tmp_path / "nope.xlsx")
    assert (r.exit_code, r.output) == (2, f"Error: {tmp_path / 'nope.xlsx'}: no such file\n")


def test_debug_shows_the_traceback(tmp_path):
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"not a workbook at all")
    r = run("validate", book, "--debug")
    assert r.exit_code == 2
    assert "Traceback (most recent call last)" in r.output
    assert r.output.endswith(f"Error: {book}: is a text file (CSV?), not an .xlsx/.xlsm workbook\n")


# --------------------------------------------------------------------------------------------
# limits and hostile packages


def test_zip_bomb_by_compression_ratio(tmp_path, small):
    book = write_book(tmp_path / "bomb.xlsx", small)
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as z, \
            z.open("xl/media/padding.bin", "w", force_zip64=True) as w:
        block = b"\0" * (1 << 20)
        for _ in range(60):
            w.write(block)
    with zipfile.ZipFile(book) as z:
        total = sum(i.file_size for i in z.infolist())
        packed = sum(i.compress_size for i in z.infolist())
    assert total > 60_000_000 and total / packed > 200
    check(book, 2, f"Error: {book}: unpacks to {total:,} bytes (limit 1,000,000,000; compression "
                   f"ratio {total / packed:.0f}): refused as a possible zip bomb\n")


def test_zip_bomb_by_size(tmp_path, small, monkeypatch):
    book = write_book(tmp_path / "huge.xlsx", small)
    with zipfile.ZipFile(book) as z:
        total = sum(i.file_size for i in z.infolist())
        packed = sum(i.compress_size for i in z.infolist())
    monkeypatch.setattr(package, "MAX_UNCOMPRESSED_BYTES", total - 1)
    check(book, 2, f"Error: {book}: unpacks to {total:,} bytes (limit {total - 1:,}; compression "
                   f"ratio {total / packed:.0f}): refused as a possible zip bomb\n")


def test_sheet_over_the_cell_limit(tmp_path, small, monkeypatch):
    book = write_book(tmp_path / "big.xlsx", small)
    monkeypatch.setattr(grid, "MAX_SHEET_CELLS", 30)   # Settings 10 x 2 fits; Framework 8 x 7 not
    check(book, 2, f"Error: {book}: sheet 'Framework' is larger than the limit of 30 cells (8 "
                   "rows × 7 columns)\n")


def test_a_lying_dimension_hides_no_cell(tmp_path, small):
    # some programs write <dimension ref="A1"/> whatever the size: every cell is still read
    book = write_book(tmp_path / "dim.xlsx", small)
    rewrite_part(book, "xl/worksheets/sheet4.xml",
                 lambda d: re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1"/>', d))
    r = run("validate", book)
    assert (r.exit_code, r.output) == (
        0, f"OK: {book}: no problems (5 units, 4 indicators, 7 nodes, input = data)\n")
    # and a giant claimed dimension over a small sheet is no reason to refuse it
    rewrite_part(book, "xl/worksheets/sheet4.xml",
                 lambda d: d.replace(b'<dimension ref="A1"/>', b'<dimension ref="A1:XFD1048576"/>'))
    assert run("validate", book).exit_code == 0


_DTD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [\n'
        b'<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">\n'
        + b"".join(b'<!ENTITY %s "%s">\n' % (bytes([c]), b"&%s;" % bytes([c - 1]) * 10)
                   for c in range(ord("b"), ord("j")))
        + b"]>\n")


def test_entity_expansion_in_a_sheet(tmp_path, small):
    book = write_book(tmp_path / "laughs.xlsx", small)
    rewrite_part(book, "xl/worksheets/sheet4.xml", lambda d: _DTD + d.replace(
        b"<t>a</t>", b"<t>&i;</t>", 1))
    check(book, 2, f"Error: {book}: part xl/worksheets/sheet4.xml {DTD_REFUSED}\n")


def test_entity_expansion_in_the_workbook_part(tmp_path, small):
    book = write_book(tmp_path / "laughs.xlsx", small)
    rewrite_part(book, "xl/workbook.xml", lambda d: _DTD.replace(b"worksheet", b"workbook")
                 + d.replace(b'name="Units"', b'name="&i;"'))
    check(book, 2, f"Error: {book}: part xl/workbook.xml {DTD_REFUSED}\n")


def test_entity_expansion_past_the_prolog_check(tmp_path, small, monkeypatch):
    # the prolog check is the first guard; the XML parsers (defusedxml) are the second
    monkeypatch.setattr(package, "part_with_dtd", lambda z: None)
    book = write_book(tmp_path / "laughs.xlsx", small)
    rewrite_part(book, "xl/worksheets/sheet4.xml", lambda d: _DTD + d.replace(
        b"<t>a</t>", b"<t>&i;</t>", 1))
    check(book, 2, f"Error: {book}: the workbook {DTD_REFUSED}\n")


def test_damaged_sheet_xml(tmp_path, small):
    book = write_book(tmp_path / "damaged.xlsx", small)
    rewrite_part(book, "xl/worksheets/sheet4.xml", lambda d: d[: len(d) // 2])
    r = run("validate", book)
    assert r.exit_code == 2
    assert r.output.startswith(f"Error: {book}: sheet 'Data' cannot be read (")
    assert r.output.count("\n") == 1


# --------------------------------------------------------------------------------------------
# contents: located problems


def test_renamed_sheet_suggests_the_name(tmp_path, small):
    small["Framwork"] = small.pop("Framework")
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Framework': the workbook has no sheet 'Framework' (did you mean 'Framwork'? "
        "sheet names must be exactly 'Framework'); its sheets: Settings, Units, Data, Framwork"))


def test_missing_units_sheet_is_one_problem(tmp_path, small):
    small.pop("Units")
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Units': the workbook has no sheet 'Units'; its sheets: Settings, Framework, Data"))


def test_sheet_names_ignore_case_and_spaces(tmp_path, small):
    small[" data "] = small.pop("Data")
    small["FRAMEWORK"] = small.pop("Framework")
    r = run("recalc", write_book(tmp_path / "b.xlsx", small), "--top", "0")
    assert r.exit_code == 0, r.output


def test_blank_rows_inside_tables(tmp_path, small):
    small["Units"].insert(3, [None] * 5)
    small["Framework"].insert(2, [None, "  ", None, None, None, None, None])
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Framework', cell A3: row 3 is blank inside the table: delete it (a blank row ends "
        "nothing; data continues below)",
        "Sheet 'Units', cell A4: row 4 is blank inside the table: delete it (a blank row ends "
        "nothing; data continues below)"))


def test_numbers_stored_as_text_are_read_with_a_note(tmp_path, small):
    # a percentage on the scale of the column's other values (4500% = 45 among 10…1234): a
    # share among them (45%) is a problem of mixed scales (tests/reading/test_chinese_input.py)
    for row, text in zip(range(2, 6), ["90.5", "1,234", "4500%", "９０"], strict=True):
        small["Data"][row][1] = text
    r = run("validate", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 0
    assert r.output.splitlines()[:4] == [
        "note: Sheet 'Data', cell B3: text '90.5' read as the number 90.5",
        "note: Sheet 'Data', cell B4: text '1,234' read as the number 1234",
        "note: Sheet 'Data', cell B5: text '4500%' read as the number 45",
        "note: Sheet 'Data', cell B6: text '９０' read as the number 90"]


def test_text_that_is_not_a_number(tmp_path, small):
    small["Data"][2][1] = "1,5"
    small["Data"][3][1] = "abc"
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Data', cell B3: unit b, indicator x1: text '1,5' is not a number",
        "Sheet 'Data', cell B4: unit c, indicator x1: text 'abc' is not a number"))


def test_line_breaks_in_cells_keep_one_problem_per_line(tmp_path, small):
    small["Data"][0][1] = "x1\nraw"      # typed with Alt+Enter
    small["Data"][2][2] = "4\r\n5"
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Data', cell C3: unit b, indicator x2: text '4↵5' is not a number",
        "Sheet 'Data': indicator x1 (指标一) has no column in Data (header 'x1' expected in row 1)"))


def test_dates_and_booleans_where_numbers_belong(tmp_path, small):
    small["Data"][2][1] = datetime(2024, 5, 1)
    small["Data"][3][1] = True
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Data', cell B3: unit b, indicator x1: the date/time 2024-05-01 00:00:00 is not a "
        "number (is the cell formatted as a date?)",
        "Sheet 'Data', cell B4: unit c, indicator x1: TRUE is not a number"))


def test_error_values_in_input_cells(tmp_path, small):
    # (#N/A in Data is a missing-value marker: tests/reading/test_chinese_input.py)
    small["Data"][2][1] = "#VALUE!"
    small["Framework"][2][4] = "#DIV/0!"
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Framework', cell E3: node d1: weight: holds the error value #DIV/0!",
        "Sheet 'Data', cell B3: unit b, indicator x1: holds the error value #VALUE!"))


def test_formula_without_a_stored_value(tmp_path, small):
    small["Data"][2][1] = "=10+10"   # openpyxl writes the formula, and no value
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Data', cell B3: unit b, indicator x1: holds a formula with no stored value (the "
        "file was written by a program and never calculated): open and save it in a spreadsheet "
        "application"))


def test_duplicate_and_variant_unit_ids(tmp_path, small):
    small["Units"].append(["a", "甲2", "Alpha2", "north", 1])
    small["Units"].append([" B ", "乙3", "Beta3", "north", 1])
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Units', cell A7: unit id 'a' repeats 'a' in A2: ids must be unique",
        "Sheet 'Units', cell A8: unit id 'B' differs only in case, width or spaces from 'b' in A3: ids "
        "must be unique"))


def test_duplicate_unit_names(tmp_path, small):
    small["Units"][2][1] = "甲"
    small["Units"][3][2] = " alpha "
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Units', cell B3: unit b: name_zh '甲' is also the name_zh of unit a; names must "
        "tell units apart (UDFs accept a unit by name)",
        "Sheet 'Units', cell C4: unit c: name_en 'alpha' is also the name_en of unit a; names "
        "must tell units apart (UDFs accept a unit by name)"))


def test_tree_with_a_cycle_and_an_orphan(tmp_path, small):
    small["Framework"][2][1] = "x1"
    check(write_book(tmp_path / "b.xlsx", small), 1, problems(
        "Sheet 'Framework', cell B3: node d1 (维度一) is in a cycle: d1 -> x1 -> d1"))
    small["Framework"][2][1] = "index"
    small["Framework"][4][1] = "nowhere"
    check(write_book(tmp_path / "c.xlsx", small), 1, problems(
        "Sheet 'Framework', cell B5: node x1 (指标一) has parent 'nowhere', which is not a node "
        "id (orphan node)"))


def test_merged_cells_inside_a_table(tmp_path, small):
    book = write_book(tmp_path / "merged.xlsx", small)
    wb = openpyxl.load_workbook(book)
    wb["Data"].merge_cells("B3:C3")
    wb["Data"].merge_cells("H1:J2")       # beside the table: a title, not the table's business
    wb["Units"].merge_cells("D2:D3")      # two units of one region
    wb.save(book)
    check(book, 1, problems(
        "Sheet 'Units', cell D2: merged cells D2:D3 inside the table: unmerge them",
        "Sheet 'Data', cell B3: merged cells B3:C3 inside the table: unmerge them"))


def test_merged_cells_tag_split_across_read_chunks(tmp_path, small):
    # the sheet XML is scanned in 1 MiB chunks: a <mergeCell> tag straddling two is still seen
    book = write_book(tmp_path / "m.xlsx", small)

    def pad(d: bytes) -> bytes:
        head = d[: d.index(b"</sheetData>") + len(b"</sheetData>")]
        opening = b'<mergeCells count="1">'
        size = (1 << 20) - 8 - len(head) - len(opening) - len(b"<!---->")
        return (head + b"<!--" + b"x" * size + b"-->" + opening + b'<mergeCell ref="D4:E4"/>'
                b"</mergeCells>" + d[len(head):])

    rewrite_part(book, "xl/worksheets/sheet4.xml", pad)
    with zipfile.ZipFile(book) as z:
        assert z.read("xl/worksheets/sheet4.xml").index(b"<mergeCell ") == (1 << 20) - 8
    check(book, 1, problems(
        "Sheet 'Data', cell D4: merged cells D4:E4 inside the table: unmerge them"))


# --------------------------------------------------------------------------------------------
# ids that other tools take for missing values, and text that looks like a formula


def _units_named(small, ids: list[str]) -> None:
    small["Units"] = [small["Units"][0]] + [
        [u, f"单位{i}", f"Unit {i}", "north", 10 * (i + 1)] for i, u in enumerate(ids)]
    small["Data"] = [small["Data"][0]] + [
        [u, 10 * (i + 1), 5 - i, i + 1, 100 * (i + 1)] for i, u in enumerate(ids)]


def test_na_like_ids_stay_units(tmp_path, small):
    ids = ["NA", "None", "null", "N/A", "nan"]
    _units_named(small, ids)
    book = write_book(tmp_path / "na.xlsx", small)
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0, r.output
    ranking = list(openpyxl.load_workbook(book)["Ranking"].iter_rows(values_only=True))
    assert sorted(row[1] for row in ranking[1:]) == sorted(ids)
    scores = list(openpyxl.load_workbook(book)["Scores"].iter_rows(values_only=True))
    assert [row[0] for row in scores[1:]] == ids


def test_text_starting_like_a_formula_is_written_as_text(tmp_path, small):
    names = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-2", "=1+1"]
    book = write_book(tmp_path / "inj.xlsx", small)
    wb = openpyxl.load_workbook(book)
    for row, name in enumerate(names, start=2):
        for col in "BC":
            cell = wb["Units"][f"{col}{row}"]
            cell.value = name + (" zh" if col == "B" else "")
            cell.data_type = "s"   # the user typed text (as Excel stores '=… typed after a ')
    wb.save(book)
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(book) as z:
        wbx = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        for sheet in ("Scores", "Ranking", "Tiers"):
            rid = re.search(rf'<sheet name="{sheet}" sheetId="\d+" [^>]*r:id="(rId\d+)"', wbx)
            assert rid is not None
            target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels)
            assert target is not None
            xml = z.read("xl/" + target.group(1).lstrip("/").removeprefix("xl/")).decode()
            assert "<f>" not in xml and "<f " not in xml, sheet
    wb = openpyxl.load_workbook(book)
    for sheet, col in (("Scores", 2), ("Ranking", 3)):
        cells = [row[col] for row in wb[sheet].iter_rows(min_row=2)]
        assert {c.value for c in cells} == set(names)
        assert {c.data_type for c in cells} == {"s"}
    tiers = " ".join(str(c.value) for row in wb["Tiers"].iter_rows(min_row=2) for c in row)
    assert '=HYPERLINK("http://x","y") zh' in tiers and "@SUM(A1) zh" in tiers
    assert {c.data_type for c in wb["Tiers"]["C"][1:]} == {"s"}

