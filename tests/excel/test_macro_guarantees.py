"""The macros keep the guarantees ``recalc`` keeps (headless, and through the fake Excel).

1. Log is appended to, one row placed by its header; nothing else of Log is written.
2. A sheet with a result sheet's name that the tool did not write is refused, nothing written.
3. The Validate macro fingerprints the Problems sheet, so ``recalc`` sees it typed over.
4. The headless reader checks a sheet's extent before it builds a grid.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import Sheets, write_book
from openpyxl.comments import Comment
from test_macros import FakeBook, values

from udfs import HeadlessBook
from udfs.cache import CACHE
from udfs.macros import run_rebuild, run_validate
from xl_aiindex.errors import HandEditsFound, UnreadableWorkbook
from xl_aiindex.workbook.fingerprint import read_store
from xl_aiindex.workbook.io import recalc_file
from xl_aiindex.workbook.xlwings_book import XlwingsBook


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    CACHE.invalidate()


#: A Log the user rearranged: columns reordered, a column of their own (``checked_by``), a
#: row of their own with a formula, and a comment on a header cell.
USER_LOG = [
    ["command", "time", "checked_by", "status", "version", "file", "input", "units", "notes",
     "inputs_hash"],
    ["recalc", "2026-01-02T03:04:05+00:00", "Wang", "ok", "0.1", "old.xlsx", "data", 5, None,
     None],
    ["note", None, "=UPPER(\"li\")", None, None, None, None, None, "audited by hand", None],
]


def user_log_book(tmp_path: Path, small: Sheets) -> Path:
    path = write_book(tmp_path / "book.xlsx", {**small, "Log": USER_LOG})
    book = openpyxl.load_workbook(path)
    book["Log"]["C1"].comment = Comment("who checked the run", "Wang")
    book.save(path)
    return path


# ---- 1. Log: one row appended, by header ----

def test_rebuild_appends_one_log_row_by_header_and_keeps_the_users_log(
        tmp_path: Path, small: Sheets) -> None:
    path = user_log_book(tmp_path, small)
    report = run_rebuild(HeadlessBook(path))
    assert report.result is not None and report.sheets[-1] == "Log"
    book = openpyxl.load_workbook(path)        # formulas as formulas
    log = [list(r) for r in book["Log"].iter_rows(values_only=True)]
    assert log[:3] == USER_LOG                  # header, the user's rows and formula kept
    assert book["Log"]["C1"].comment is not None
    assert book["Log"]["C1"].comment.text == "who checked the run"
    assert len(log) == 4
    new = dict(zip(USER_LOG[0], log[3], strict=True))
    assert new["command"] == "rebuild_results" and new["status"] == "ok"
    assert new["file"] == "book.xlsx" and new["units"] == 5 and new["input"] == "data"
    assert new["checked_by"] is None            # the user's column: not written
    assert len(new["inputs_hash"]) == 16 and new["time"].startswith("20")
    # the next recalc reads the Log the same way and appends below it
    recalc_file(path)
    assert [r[0] for r in values(path, "Log")[1:]] == ["recalc", "note", "rebuild_results",
                                                       "recalc"]


def test_rebuild_with_problems_appends_too(tmp_path: Path, small: Sheets) -> None:
    small["Data"][2][1] = "n/a"
    path = user_log_book(tmp_path, small)
    report = run_rebuild(HeadlessBook(path))
    assert report.result is None and report.sheets == ("Problems", "Log")
    log = values(path, "Log")
    assert log[:2] == USER_LOG[:2] and log[2][8] == USER_LOG[2][8]
    assert (log[3][0], log[3][3], log[3][2]) == ("rebuild_results", "1 problem", None)


def test_through_excel_only_the_new_row_and_missing_header_cells_are_written(
        tmp_path: Path, small: Sheets) -> None:
    rows: list[list[Any]] = [r[:9] for r in USER_LOG]      # no inputs_hash column yet
    fake = FakeBook(write_book(tmp_path / "book.xlsx", {**small, "Log": rows}))
    log = fake.sheets["Log"]
    log.notes[(1, 3)] = "who checked the run"
    log.formulas[(3, 3)] = '=UPPER("li")'
    log.cells[(3, 3)] = "LI"
    run_rebuild(XlwingsBook(fake))
    assert log.cleared == 0 and log.notes == {(1, 3): "who checked the run"}
    assert log.formulas == {(3, 3): '=UPPER("li")'}
    table = fake.table("Log")
    assert table[0] == [*USER_LOG[0][:9], "inputs_hash"]   # the missing header cell added
    assert [r[:9] for r in table[1:3]] == [[*USER_LOG[1][:2], "Wang", *USER_LOG[1][3:9]],
                                           [*USER_LOG[2][:2], "LI", *USER_LOG[2][3:9]]]
    new = dict(zip(table[0], table[3], strict=True))
    assert (new["command"], new["status"], new["checked_by"]) == ("rebuild_results", "ok", None)
    assert len(new["inputs_hash"]) == 16


# ---- 2. a sheet the tool did not write is refused ----

def test_rebuild_refuses_a_users_sheet_with_a_result_name(tmp_path: Path, small: Sheets) -> None:
    path = write_book(tmp_path / "book.xlsx",
                      {**small, "Tiers": [["my own notes"], [None, "keep me"]]})
    before = {n: values(path, n) for n in ("Tiers", "Log") if n in
              openpyxl.load_workbook(path, read_only=True).sheetnames}
    hb = HeadlessBook(path)
    report = run_rebuild(hb)
    first = ("Sheet 'Tiers', cell A1: sheet 'Tiers' was not written by xl-aiindex (it holds 'my "
             "own notes' in A1), but rebuild_results writes its results to a sheet of this name "
             "and would replace it: rename your sheet (or delete it); only xl-aiindex recalc "
             "--force replaces it")
    assert hb.messages == [("error", "nothing was written: 1 problem with the sheets it writes; "
                                     f"see the Problems sheet. First: {first}")]
    assert report.sheets == ("Problems",) and [str(p) for p in report.problems] == [first]
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "Scores" not in names and "Ranking" not in names and "Log" not in names
    assert {n: values(path, n) for n in before} == before
    assert values(path, "Problems") == [["sheet", "cell", "unit", "node", "problem"],
                                        ["Tiers", "A1", "", "", first.split(": ", 1)[1]]]


def test_validate_refuses_a_users_problems_sheet_and_writes_nothing(
        tmp_path: Path, small: Sheets) -> None:
    path = write_book(tmp_path / "book.xlsx", {**small, "Problems": [["my to-do list"]]})
    stamp = path.stat().st_mtime_ns, path.read_bytes()
    hb = HeadlessBook(path)
    run_validate(hb)
    assert hb.messages == [("error", (
        "nothing was written: 1 problem with the sheets it writes. First: Sheet 'Problems', "
        "cell A1: sheet 'Problems' was not written by xl-aiindex (it holds 'my to-do list' in "
        "A1), but validate_inputs writes its results to a sheet of this name and would replace "
        "it: rename your sheet (or delete it); only xl-aiindex recalc --force replaces it"))]
    assert (path.stat().st_mtime_ns, path.read_bytes()) == stamp


def test_rebuild_after_recalc_replaces_the_tools_own_sheets(small_book: Path) -> None:
    recalc_file(small_book)                        # fingerprints every sheet it writes
    hb = HeadlessBook(small_book)
    assert run_rebuild(hb).result is not None and hb.messages[-1][0] == "info"
    assert [r[1] for r in values(small_book, "Log")[1:]] == ["recalc", "rebuild_results"]


# ---- 3. the Validate macro fingerprints Problems ----

def test_a_problems_sheet_typed_over_after_validate_is_caught_by_recalc(small_book: Path) -> None:
    run_validate(HeadlessBook(small_book))
    book = openpyxl.load_workbook(small_book)
    assert book["_xl_aiindex"].sheet_state == "veryHidden"
    stored = read_store([list(r) for r in book["_xl_aiindex"].iter_rows(values_only=True)])
    assert stored is not None and set(stored.sheets) == {"problems"}
    book["Problems"]["E2"] = "call Li about city e"     # typed over by hand
    book.save(small_book)
    with pytest.raises(HandEditsFound) as e:
        recalc_file(small_book)
    assert [str(p) for p in e.value.problems] == [
        "Sheet 'Problems', cell E2: edited by hand since the last recalc (was empty, now 'call "
        "Li about city e'): recalc would overwrite it; use --force to overwrite"]


def test_validate_keeps_the_fingerprints_recalc_stored(small_book: Path) -> None:
    recalc_file(small_book)
    run_validate(HeadlessBook(small_book))
    rows = [list(r) for r in openpyxl.load_workbook(small_book)["_xl_aiindex"]
            .iter_rows(values_only=True)]
    stored = read_store(rows)
    assert stored is not None and {"scores", "ranking", "problems"} <= set(stored.sheets)
    assert stored.inputs_hash                          # the rebuild's hash is kept
    recalc_file(small_book)                            # nothing edited: nothing refused


# ---- 4. the headless reader checks the extent first ----

def test_headless_book_refuses_a_far_cell_before_building_a_grid(small_book: Path) -> None:
    book = openpyxl.load_workbook(small_book)
    book["Data"]["XFD1048576"] = 1
    book.save(small_book)
    start = time.perf_counter()
    with pytest.raises(UnreadableWorkbook) as e:
        HeadlessBook(small_book).grid("Data")
    assert str(e.value) == (f"{small_book}: sheet 'Data' is larger than the limit of "
                            "20,000,000 cells (1,048,576 rows × 16,384 columns)")
    report = run_validate(HeadlessBook(small_book))
    assert time.perf_counter() - start < 5
    assert [str(p) for p in report.problems] == [
        f"Workbook: the workbook cannot be read: {small_book}: sheet 'Data' is larger than the "
        "limit of 20,000,000 cells (1,048,576 rows × 16,384 columns)"]
