"""Hand edits after a LibreOffice or WPS save (issue 19 §5): those programs save numbers with 15
significant digits (LibreOffice rounds the shortest round-trip digits half up:
``62.11533941154995`` is saved as ``62.11533941155``); the result sheets re-saved that way are
not edited by hand, while a score changed in its 4th significant digit still is."""

from __future__ import annotations

import decimal
import re
import zipfile
from pathlib import Path

import pytest
from conftest import run
from lo_harness import recalculate
from test_faults import big_workbook

from xl_aiindex.workbook import io as wio
from xl_aiindex.workbook.canonical import canonical_read_value, canonical_spec_cell
from xl_aiindex.workbook.check import check_file
from xl_aiindex.workbook.fingerprint import find_edits, fingerprint_grid
from xl_aiindex.workbook.package import Package
from xl_aiindex.workbook.sheetspec import Cell

RESULT_SHEETS = ("Scores", "Ranking", "Tiers", "WeightsUsed")
_LO_DIGITS = decimal.Context(prec=15, rounding=decimal.ROUND_HALF_UP)
# a numeric cell: no type, or t="n"; its value
_NUMBER_CELL = re.compile(r'(<c\b(?:(?!\bt=)[^>])*?(?:\bt="n"[^>]*)?>(?:<f>[^<]*</f>)?<v>)'
                          r"([^<]+)(</v>)")


def fifteen_digits(text: str) -> str:
    """A number as LibreOffice saves it: its shortest digits rounded half up to 15."""
    x = float(text)
    return repr(float(_LO_DIGITS.create_decimal(repr(x))))


def rewrite_numbers(book: Path, sheets=RESULT_SHEETS, edit=fifteen_digits) -> int:
    """Rewrite every number of ``sheets`` with ``edit``; returns how many changed."""
    with Package(book) as package:
        parts = {package.part(n): n for n in sheets if package.part(n)}
    with zipfile.ZipFile(book) as z:
        entries = [(i, z.read(i)) for i in z.infolist()]
    changed = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal changed
        new = edit(m.group(2))
        changed += new != m.group(2) and float(new) != float(m.group(2))
        return m.group(1) + new + m.group(3)

    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            if info.filename in parts:
                data = _NUMBER_CELL.sub(sub, data.decode()).encode()
            z.writestr(info, data)
    return changed


def test_fifteen_digits_at_a_rounding_boundary_is_the_same_cell():
    # the 13th-15th digits of these sit at the boundary of 12-digit rounding
    for x, saved in [(62.11533941154995, "62.11533941155"), (19.93974546965005,
                     "19.9397454696501"), (5.197257806244995, "5.197257806245")]:
        assert fifteen_digits(repr(x)) == saved
        written = fingerprint_grid("Scores", [[canonical_spec_cell(Cell(x))]])
        assert find_edits(written, [[canonical_read_value(float(saved))]]) == []
        # an edit in the 4th significant digit is one
        edited = [[canonical_read_value(float(saved) * 1.001)]]
        assert [e.cell for e in find_edits(written, edited)] == ["A1"]


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory) -> Path:
    book = big_workbook(tmp_path_factory.mktemp("lo") / "book.xlsx", units=600, indicators=20)
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0, r.output
    return book


def _a_score_cell(book: Path) -> tuple[str, float]:
    with Package(book) as package:
        xml = package.read(package.part("Scores") or "").decode()
    m = re.search(r'<c r="(D1[0-9])"[^>]*><v>([^<]+)</v>', xml)
    assert m is not None
    return m.group(1), float(m.group(2))


def test_a_15_digit_round_trip_is_no_hand_edit(recalculated, tmp_path):
    book = tmp_path / "resaved.xlsx"
    book.write_bytes(recalculated.read_bytes())
    assert rewrite_numbers(book) > 100       # the values did move
    loaded = wio.load_workbook(book)
    assert loaded.stored is not None
    assert wio.hand_edits(loaded, None) == []
    assert check_file(book).fresh
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0, r.output


def test_a_real_edit_after_a_15_digit_round_trip_is_caught(recalculated, tmp_path):
    book = tmp_path / "edited.xlsx"
    book.write_bytes(recalculated.read_bytes())
    cell, value = _a_score_cell(book)
    rewrite_numbers(book)
    target = fifteen_digits(repr(value))
    changed = repr(float(target) * 1.002)   # the 4th significant digit
    with Package(book) as package:
        part = package.part("Scores")
    with zipfile.ZipFile(book) as z:
        entries = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            if info.filename == part:
                data = re.sub(rf'(<c r="{cell}"[^>]*><v>)[^<]+(</v>)'.encode(),
                              rb"\g<1>" + changed.encode() + rb"\g<2>", data)
            z.writestr(info, data)
    edits = wio.hand_edits(wio.load_workbook(book), None)
    assert [(e.sheet, e.cell) for e in edits] == [("Scores", cell)]
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 1
    assert f"Sheet 'Scores', cell {cell}: edited by hand since the last recalc" in r.output


@pytest.mark.libreoffice
def test_a_libreoffice_save_is_no_hand_edit(recalculated, tmp_path):
    (saved,) = recalculate([recalculated], tmp_path)
    loaded = wio.load_workbook(saved)
    assert loaded.stored is not None     # LibreOffice keeps the very hidden store
    assert wio.hand_edits(loaded, None) == []
    assert check_file(saved).fresh
    cell, value = _a_score_cell(saved)
    r = run("recalc", saved, "--top", "0")
    assert r.exit_code == 0, r.output
    # and an edit made in LibreOffice is still one
    (again,) = recalculate([saved], tmp_path / "again")
    import openpyxl

    wb = openpyxl.load_workbook(again)
    wb["Scores"][cell].value = wb["Scores"][cell].value * 1.002
    wb.save(again)
    edits = wio.hand_edits(wio.load_workbook(again), None)
    assert [(e.sheet, e.cell) for e in edits] == [("Scores", cell)]


def test_text_with_excel_escapes_is_no_hand_edit(tmp_path, small):
    # the fast reader decodes _xHHHH_ escapes itself: decoding them again would turn the
    # literal text "_x0042_" (written escaped as "_x005F_x0042_") into "B", a false edit
    from conftest import write_book

    small["Units"][1][2] = "Al_x0041_pha\r\nz"
    small["Units"][2][2] = "Tab\there _x005F_x0042_"
    book = write_book(tmp_path / "escapes.xlsx", small)
    assert run("recalc", book, "--top", "0").exit_code == 0
    loaded = wio.load_workbook(book)
    assert loaded.stored is not None
    assert wio.hand_edits(loaded, None) == []
    assert run("recalc", book, "--top", "0").exit_code == 0
