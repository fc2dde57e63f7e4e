"""Result cells edited by hand are listed, not silently overwritten; --force overwrites them.

The fingerprints of what recalc wrote live in the very hidden sheet ``_xl_aiindex``
(:mod:`xl_aiindex.workbook.fingerprint`); these tests edit a recalculated workbook with
openpyxl (which, like Excel, rewrites every part of the package) and recalc again.
"""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest
from conftest import run, write_book
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xl_aiindex.errors import HandEditsFound
from xl_aiindex.workbook import io
from xl_aiindex.workbook.canonical import canonical_grid, canonical_spec_cell
from xl_aiindex.workbook.fingerprint import (
    STORE_SHEET,
    find_edits,
    fingerprint_grid,
    fingerprint_sheet,
    read_store,
    result_fingerprint,
    store_sheet,
)
from xl_aiindex.workbook.ooxml import splice_sheets
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

TAIL = "recalc would overwrite it; use --force to overwrite"


@pytest.fixture
def recalculated(small_book: Path) -> Path:
    """The small workbook after one recalc (so it holds the fingerprints)."""
    r = run("recalc", small_book, "--top", "0")
    assert r.exit_code == 0, r.output
    return small_book


def edit(path: Path, cells: dict[tuple[str, str], object]) -> None:
    book = openpyxl.load_workbook(path)
    for (sheet, ref), value in cells.items():
        book[sheet][ref] = value
    book.save(path)


def edited_line(sheet: str, cell: str, values: str) -> str:
    return f"Sheet '{sheet}', cell {cell}: edited by hand since the last recalc ({values}): {TAIL}"


def test_first_recalc_stores_fingerprints_in_a_very_hidden_sheet(recalculated):
    book = openpyxl.load_workbook(recalculated)
    assert book.sheetnames[-1] == STORE_SHEET
    assert book[STORE_SHEET].sheet_state == "veryHidden"
    assert all(book[n].sheet_state == "visible" for n in book.sheetnames[:-1])
    # the next recalc finds nothing edited, replaces the store and keeps it very hidden
    assert run("recalc", recalculated, "--top", "0").exit_code == 0
    book = openpyxl.load_workbook(recalculated)
    assert book.sheetnames.count(STORE_SHEET) == 1
    assert book[STORE_SHEET].sheet_state == "veryHidden"


def test_edited_cell_is_named_with_old_and_new_value_and_nothing_written(recalculated, tmp_path):
    edit(recalculated, {("Ranking", "E3"): 90})
    before = recalculated.read_bytes()
    expected = "1 problem found:\n" + edited_line("Ranking", "E3", "was 75, now 90") + "\n"
    r = run("recalc", recalculated)
    assert (r.exit_code, r.output) == (1, expected)
    assert recalculated.read_bytes() == before
    out = tmp_path / "out.xlsx"
    r = run("recalc", recalculated, "-o", out)   # the output would lose the edit just as well
    assert (r.exit_code, r.output) == (1, expected)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.xlsx"]


def test_force_overwrites_and_the_next_recalc_is_quiet(recalculated):
    edit(recalculated, {("Ranking", "E3"): 90})
    r = run("recalc", recalculated, "--force", "--top", "0")
    assert r.exit_code == 0, r.output
    assert openpyxl.load_workbook(recalculated)["Ranking"]["E3"].value == 75
    assert run("recalc", recalculated, "--top", "0").exit_code == 0


def test_every_kind_of_edit(recalculated):
    edit(recalculated, {("Scores", "B2"): "x",          # text over text
                        ("Tiers", "F9"): "my note",     # a cell beside the table
                        ("WeightsUsed", "D3"): None,    # a cleared cell
                        ("Ranking", "A2"): "=1+1"})     # a formula over a number
    r = run("recalc", recalculated, "--top", "0")
    assert r.exit_code == 1
    assert r.output.splitlines() == [
        "4 problems found:",
        edited_line("Scores", "B2", "was '甲', now 'x'"),
        edited_line("Ranking", "A2", "was 1, now '=1+1'"),
        edited_line("Tiers", "F9", "was empty, now 'my note'"),
        edited_line("WeightsUsed", "D3", "was 0.4, now empty"),
    ]


def test_many_edits_are_counted_after_twenty(recalculated):
    edit(recalculated, {("Scores", f"{col}{row}"): -1 for col in "DEFGH" for row in range(2, 7)})
    r = run("recalc", recalculated, "--top", "0")
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[0] == "21 problems found:"
    # the terminal tells a long list of one kind in a few lines (xl_aiindex.problem_groups)
    assert all(line.startswith("Sheet 'Scores', cell ") for line in lines[1:4])
    assert lines[4] == ("Sheet 'Scores': … and 17 more like these (cells G2, H2, D3, E3, F3, G3, "
                        "H3, D4, …; validate --json lists every one)")
    assert lines[5] == ("Workbook: 5 more cells edited by hand since the last recalc (Scores): "
                        "recalc would overwrite them; use --force to overwrite")


def test_inputs_changed_too_edits_still_found_exactly(recalculated):
    # new data changes every score; the edited cells are still told apart (rows, columns and
    # diagonals), though their old values can no longer be known
    book = openpyxl.load_workbook(recalculated)
    for row in range(2, 7):
        book["Data"].cell(row, 2).value = book["Data"].cell(row, 2).value * 1.5 + row ** 2
    book["Ranking"]["E3"] = 90
    book["Scores"]["G5"] = 12.5
    book.save(recalculated)
    r = run("recalc", recalculated, "--top", "0")
    assert r.exit_code == 1
    assert r.output.splitlines()[1:] == [edited_line("Scores", "G5", "now 12.5"),
                                         edited_line("Ranking", "E3", "now 90")]


def test_input_changes_alone_are_not_hand_edits(recalculated):
    edit(recalculated, {("Data", "B2"): 11, ("Framework", "E3"): 0.5, ("Framework", "E4"): 0.5})
    r = run("recalc", recalculated, "--top", "0")
    assert r.exit_code == 0, r.output
    assert openpyxl.load_workbook(recalculated)["Framework"]["E3"].value == 0.5


def test_deleted_result_sheet_is_simply_written_again(recalculated):
    book = openpyxl.load_workbook(recalculated)
    del book["Tiers"]
    book.save(recalculated)
    assert run("recalc", recalculated, "--top", "0").exit_code == 0
    assert "Tiers" in openpyxl.load_workbook(recalculated).sheetnames


def test_result_sheets_without_fingerprints_are_refused_unless_forced(recalculated):
    # as written by an older version (no store sheet): nothing says the tool wrote them
    book = openpyxl.load_workbook(recalculated)
    del book[STORE_SHEET]
    book["Ranking"]["E3"] = 90
    book.save(recalculated)
    r = run("recalc", recalculated, "--top", "0")
    assert r.exit_code == 1
    lines = r.output.splitlines()
    # GroupRanking and Charts are optional (issue 19 §6): skipped with a note, not refused
    assert lines[0] == "4 problems found:"
    assert lines[2] == ("Sheet 'Ranking', cell A2: sheet 'Ranking' was not written by xl-aiindex "
                        "(it holds '1' in A2), but recalc writes its results to a sheet of this "
                        "name and would replace it: rename your sheet (or delete it), or use "
                        "--force to replace it")
    assert [line.split("'")[1] for line in lines[1:5]] == ["Scores", "Ranking", "Tiers",
                                                           "WeightsUsed"]
    assert run("recalc", recalculated, "--top", "0", "--force").exit_code == 0
    book = openpyxl.load_workbook(recalculated)
    assert book["Ranking"]["E3"].value == 75
    assert book[STORE_SHEET].sheet_state == "veryHidden"


def test_stale_fingerprints_are_ignored(recalculated):
    # the Log moved on (a macro or another program rewrote the results without fingerprints)
    book = openpyxl.load_workbook(recalculated)
    book["Log"].append(["2030-01-01T00:00:00", "rebuild", "0.1.0", "small.xlsx", "data", 5, "ok"])
    book["Ranking"]["E3"] = 90
    book.save(recalculated)
    assert run("recalc", recalculated, "--top", "0").exit_code == 0


def test_damaged_store_proves_nothing_and_only_force_replaces(recalculated):
    book = openpyxl.load_workbook(recalculated)
    book[STORE_SHEET]["D3"] = "not a format"
    book["Ranking"]["E3"] = 90
    book.save(recalculated)
    r = run("recalc", recalculated, "--top", "0")
    assert r.exit_code == 1 and "sheet 'Ranking' was not written by xl-aiindex" in r.output
    assert run("recalc", recalculated, "--top", "0", "--force").exit_code == 0


def test_library_raises_hand_edits_found(recalculated):
    edit(recalculated, {("Ranking", "E3"): 90})
    with pytest.raises(HandEditsFound) as info:
        io.recalc_file(recalculated)
    assert info.value.count == 1
    assert [p.cell for p in info.value.problems] == ["E3"]
    io.recalc_file(recalculated, force=True)


def test_formula_injection_text_is_no_false_edit(tmp_path, small):
    book = write_book(tmp_path / "inj.xlsx", small)
    wb = openpyxl.load_workbook(book)
    for ref, text in (("C2", '=HYPERLINK("http://x","y")'), ("C3", "@SUM(A1)")):
        wb["Units"][ref].value = text
        wb["Units"][ref].data_type = "s"   # text, not a formula
    wb.save(book)
    assert run("recalc", book, "--top", "0").exit_code == 0
    assert run("recalc", book, "--top", "0").exit_code == 0


# --------------------------------------------------------------------------------------------
# the fingerprint API (what the Excel macros call)

tricky_text = st.text(st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["_x0041_", "_x005F_x0041_", "a\r\nb\rc", "x\x01y", "=SUM(A1)", "+1", "-1", "@x", " ", "",
     "0042", "1e5", "#N/A", "TRUE", "x" * 33_000])
values = st.one_of(
    st.none(), st.booleans(), tricky_text,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2 ** 63), max_value=2 ** 63),
    st.sampled_from([0.1 + 0.2, -0.0, 1e308, 5e-324, 2 ** 53 + 1]),
)
cells = st.one_of(values.map(Cell), st.sampled_from(["SUM(A1:A2)", "=A1*2", "\x02B1"]).map(
    lambda f: Cell(1.0, formula=f)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(cells, max_size=6), min_size=1, max_size=6))
def test_fingerprint_of_what_is_written_matches_what_is_read_back(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("fp")
    src = tmp / "src.xlsx"
    if not src.exists():
        book = openpyxl.Workbook()
        book.active.title = "Input"
        book.save(src)
    spec = SheetSpec("Ranking", rows)
    out = tmp / "out.xlsx"
    splice_sheets(src, out, [spec])
    wb = openpyxl.load_workbook(out, read_only=True)
    ws = wb["Ranking"]
    ws.reset_dimensions()
    grid = canonical_grid(ws.iter_rows(values_only=True))
    wb.close()
    assert fingerprint_grid("Ranking", grid) == fingerprint_sheet(spec)
    # and after a save by another program (openpyxl: shared strings, numbers with 16 digits,
    # which turns the doubles nearest the largest one into infinity: left out)
    if any(isinstance(c.value, float) and abs(c.value) > 1e307 for row in rows for c in row):
        return
    openpyxl.load_workbook(out).save(out)
    wb = openpyxl.load_workbook(out, read_only=True)
    ws = wb["Ranking"]
    ws.reset_dimensions()
    resaved = canonical_grid(ws.iter_rows(values_only=True))
    wb.close()
    written = [[canonical_spec_cell(c) for c in row] for row in spec.rows]
    assert find_edits(fingerprint_sheet(spec), resaved, written) == []


def test_store_round_trip_and_find_edits():
    specs = [SheetSpec("Scores", [[Cell("unit"), Cell("index")], [Cell("a"), Cell(87.01)],
                                  [Cell("b"), Cell(math.pi)]]),
             SheetSpec("Ranking", [[Cell("rank")]] + [[Cell(i)] for i in range(1, 4000)])]
    fps = result_fingerprint(specs)
    store = store_sheet(fps, log_rows=3, log_time="2026-01-02T03:04:05")
    values = [[c.value for c in row] for row in store.rows]
    assert max(len(str(v)) for row in values for v in row) <= 32_767
    stored = read_store(values)
    assert stored is not None
    assert (stored.log_rows, stored.log_time) == (3, "2026-01-02T03:04:05")
    assert stored.sheets["scores"] == fps[0] and stored.sheets["ranking"] == fps[1]
    new = [[canonical_spec_cell(c) for c in row] for row in specs[0].rows]
    now = [row[:] for row in new]
    now[1][1] = "n:90"
    (e,) = find_edits(fps[0], now, new)
    assert (e.cell, e.was, e.now) == ("B2", "n:87.01", "n:90")
    assert e.message == f"edited by hand since the last recalc (was 87.01, now 90): {TAIL}"
    assert read_store([["sheet", "kind", "part", "value"], ["", "format", 0, "2"]]) is None
