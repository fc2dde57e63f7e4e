"""The macros, run headlessly (HeadlessBook) and through the xlwings book on a fake Excel.

The same macro code runs on both books: the headless run must write exactly the cells that
``xl-aiindex recalc`` writes, and the xlwings run the same cells again.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import REPO, Sheets, write_book

from udfs import AI_INDEX, AI_RANK, AI_RANKING, HeadlessBook, rebuild_results, validate_inputs
from udfs.books import book_of_caller
from udfs.cache import CACHE
from udfs.macros import run_rebuild, run_validate
from xl_aiindex.errors import UnsafeWrite, XlAiIndexError
from xl_aiindex.workbook.io import recalc_file
from xl_aiindex.workbook.read import address, column_letter
from xl_aiindex.workbook.results import DIFF_NOTE
from xl_aiindex.workbook.xlwings_book import XlwingsBook, excel_value, union_addresses

REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"
RESULT_SHEETS = ("Scores", "Ranking", "Tiers", "WeightsUsed", "GroupRanking")


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    CACHE.invalidate()


def values(path: Path, sheet: str) -> list[list[Any]]:
    """A sheet's cell values as openpyxl reads them (trailing blank rows dropped)."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [list(r) for r in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def without_time(log: list[list[Any]]) -> list[list[Any]]:
    """Log rows without the columns that differ between two runs (time, command); an empty
    text and a blank cell are the same (Excel keeps no empty text in a cell)."""
    return [[None if v == "" else v for v in row[2:]] for row in log]


# ---- headless ----

@pytest.mark.parametrize("which", ["reference", "small"])
def test_headless_rebuild_writes_what_recalc_writes(which: str, tmp_path: Path, small: Sheets) -> None:
    src = REFERENCE if which == "reference" else write_book(tmp_path / "small.xlsx", small)
    by_cli = tmp_path / "by_recalc.xlsx"
    by_macro = tmp_path / "by_macro.xlsx"
    recalc_file(src, by_cli)
    book = HeadlessBook(src, out=by_macro)
    assert rebuild_results(book) is None  # what an Excel Sub gets
    for sheet in RESULT_SHEETS:
        assert values(by_macro, sheet) == values(by_cli, sheet), sheet
    cli_log, macro_log = values(by_cli, "Log"), values(by_macro, "Log")
    assert without_time(macro_log) == without_time(cli_log)
    assert macro_log[-1][1] == "rebuild_results" and cli_log[-1][1] == "recalc"
    assert book.messages[-1][0] == "info"
    assert book.messages[-1][1].startswith("rebuilt Scores, Ranking, Tiers, WeightsUsed")
    # the input sheets are copied untouched
    for sheet in ("Settings", "Framework", "Units", "Given"):
        if sheet in openpyxl.load_workbook(src, read_only=True).sheetnames:
            assert values(by_macro, sheet) == values(src, sheet)


def test_headless_rebuild_in_place_appends_to_log(small_book: Path) -> None:
    report = run_rebuild(HeadlessBook(small_book))
    assert report.sheets == ("Scores", "Ranking", "Tiers", "WeightsUsed", "GroupRanking",
                            "Charts", "Log")
    report = run_rebuild(HeadlessBook(small_book))
    log = values(small_book, "Log")
    assert len(log) == 3 and [r[1] for r in log[1:]] == ["rebuild_results"] * 2
    assert values(small_book, "Ranking")[1][:2] == [1, "e"]


def test_recalc_after_a_macro_rebuild_sees_no_hand_edits(tmp_path: Path) -> None:
    book = Path(shutil.copy(REFERENCE, tmp_path / "book.xlsx"))
    recalc_file(book)  # stores the fingerprints of the result sheets
    wb = openpyxl.load_workbook(book)
    wb["Given"]["B2"] = 100.0
    wb.save(book)
    run_rebuild(HeadlessBook(book))  # rewrites the results: not hand edits
    recalc_file(book)
    assert [r[1] for r in values(book, "Log")[-2:]] == ["rebuild_results", "recalc"]


def test_hand_edits_after_a_macro_rebuild_are_caught_by_recalc(tmp_path: Path) -> None:
    from xl_aiindex.errors import ProblemsFound

    book = Path(shutil.copy(REFERENCE, tmp_path / "book.xlsx"))
    run_rebuild(HeadlessBook(book))   # stores the fingerprints of what it wrote
    hidden = openpyxl.load_workbook(book)["_xl_aiindex"]
    assert hidden.sheet_state == "veryHidden"
    wb = openpyxl.load_workbook(book)
    wb["Ranking"]["E3"] = 90      # Shanghai's score, typed over by hand
    wb.save(book)
    with pytest.raises(ProblemsFound) as e:
        recalc_file(book)
    assert str(e.value.problems[0]) == (
        "Sheet 'Ranking', cell E3: edited by hand since the last recalc (was 87.0105, now 90): "
        "recalc would overwrite it; use --force to overwrite")


def test_rebuild_with_problems_leaves_the_results_and_lists_the_problems(small: Sheets,
                                                                          tmp_path: Path) -> None:
    good = write_book(tmp_path / "book.xlsx", small)
    run_rebuild(HeadlessBook(good))
    ranking_before = values(good, "Ranking")
    book = openpyxl.load_workbook(good)
    book["Data"]["B3"] = "n.a."   # (n/a is a missing-value marker)
    book["Data"]["C4"] = "?"
    book.save(good)
    hb = HeadlessBook(good)
    report = run_rebuild(hb)
    assert report.result is None and len(report.problems) == 2
    assert values(good, "Ranking") == ranking_before
    problems = values(good, "Problems")
    assert problems[0] == ["sheet", "cell", "unit", "node", "problem"]
    assert {(r[0], r[1]) for r in problems[1:]} == {("Data", "B3"), ("Data", "C4")}
    assert values(good, "Log")[-1][6] == "2 problems"
    assert hb.messages[-1][0] == "error" and hb.activated == "Problems"
    assert "2 problems in the inputs: nothing was recomputed" in hb.messages[-1][1]


def test_validate_inputs_links_every_problem(small: Sheets, tmp_path: Path) -> None:
    small["Data"][1][1] = "abc"
    small["Units"][3][0] = "b"  # a duplicate id
    path = write_book(tmp_path / "bad.xlsx", small)
    book = HeadlessBook(path)
    assert validate_inputs(book) is None
    rows = values(path, "Problems")
    assert rows[0] == ["sheet", "cell", "unit", "node", "problem"]
    cells = {(r[0], r[1]) for r in rows[1:]}
    assert ("Data", "B2") in cells and ("Units", "A4") in cells
    ws = openpyxl.load_workbook(path)["Problems"]
    for r in range(2, ws.max_row + 1):
        link = ws.cell(r, 2).hyperlink
        assert link is not None and link.location == f"'{ws.cell(r, 1).value}'!{ws.cell(r, 2).value}"
    assert book.messages == [("error", f"{len(rows) - 1} problems found: see the Problems sheet")]


def test_validate_inputs_without_problems(small_book: Path) -> None:
    book = HeadlessBook(small_book)
    report = run_validate(book)
    assert report.problems == () and report.result is not None
    assert values(small_book, "Problems") == [["sheet", "cell", "unit", "node", "problem"]]
    assert book.messages == [("info", "no problems found")]
    assert "Scores" not in openpyxl.load_workbook(small_book).sheetnames  # validate writes no results


def test_headless_rebuild_in_place_keeps_the_macros(tmp_path: Path) -> None:
    from xl_aiindex.workbook.xlsm import build_xlsm

    xlsm = build_xlsm(REFERENCE, tmp_path / "book.xlsm")
    with zipfile.ZipFile(xlsm) as z:
        vba = z.read("xl/vbaProject.bin")
        drawings = sorted(n for n in z.namelist() if n.startswith("xl/drawings/"))
        buttons = {n: z.read(n) for n in drawings
                   if n.endswith(".vml") and b'ObjectType="Button"' in z.read(n)}
    run_rebuild(HeadlessBook(xlsm))
    with zipfile.ZipFile(xlsm) as z:
        assert z.read("xl/vbaProject.bin") == vba
        kept = sorted(n for n in z.namelist() if n.startswith("xl/drawings/"))
        assert buttons and all(z.read(n) == b for n, b in buttons.items())
    # the buttons' VML drawing is kept byte for byte; the rebuild adds only the Charts and
    # Compare charts (build_xlsm's xlsxwriter copy has none) and the result sheets' header
    # notes (Ranking's, in place of the xlsxwriter copy's note)
    added = set(kept) - set(drawings)
    assert all(re.fullmatch(r"xl/drawings/(_rels/)?(drawing\d+\.xml(\.rels)?|vmlDrawing\d+\.vml)",
                            n) for n in added)
    assert len({n for n in drawings if n.endswith(".vml")} - set(kept)) == 1   # Ranking's
    ranking = openpyxl.load_workbook(xlsm)["Ranking"]
    assert [c.comment.text for c in ranking[1] if c.comment is not None] == [DIFF_NOTE]
    assert values(xlsm, "Ranking") == values(REFERENCE, "Ranking")
    assert values(xlsm, "Log")[-1][1] == "rebuild_results"


def test_headless_refuses_while_excel_has_the_file(small_book: Path) -> None:
    (small_book.parent / ("~$" + small_book.name)).write_text("owner")
    with pytest.raises(UnsafeWrite, match="open in Excel"):
        run_rebuild(HeadlessBook(small_book))


def test_macros_share_the_udf_cache(small_book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from udfs.cache import CACHE
    from xl_aiindex import pipeline

    calls: list[int] = []
    real = pipeline.build_index
    monkeypatch.setattr(pipeline, "build_index", lambda m: calls.append(1) or real(m))
    # a clock that moves 10 s at every look: each call is a new calculation (as on a loaded
    # machine), so the UDF re-reads the inputs and must find them unchanged by the macro
    now = iter(range(0, 10_000, 10))
    monkeypatch.setattr(CACHE, "clock", lambda: float(next(now)))
    book = HeadlessBook(small_book)
    run_validate(book)
    assert AI_RANK("e", caller=book) == 1
    assert len(calls) == 1  # the UDF reused the macro's build (same inputs)


def test_without_excel_a_macro_says_so() -> None:
    with pytest.raises(XlAiIndexError, match="this macro works on the Excel workbook that runs it"):
        rebuild_results()


# ---- a fake Excel behind xlwings' object model ----

_A1 = re.compile(r"^\$?([A-Z]+)\$?(\d+)$")


def parse_a1(ref: str) -> tuple[int, int]:
    m = _A1.match(ref)
    assert m, ref
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


class FakeFont:
    def __init__(self, rng: FakeRange):
        self._rng = rng

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._rng.set_format("font." + name, value)


class FakeRange:
    """A rectangle (or union of rectangles) of a FakeSheet, 1-based."""

    def __init__(self, sheet: FakeSheet, areas: list[tuple[int, int, int, int]]):
        self.sheet = sheet
        self.areas = areas
        self._opts: dict[str, Any] = {}

    @property
    def row(self) -> int:
        return self.areas[0][0]

    @property
    def column(self) -> int:
        return self.areas[0][1]

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self.areas[0]
        return r2 - r1 + 1, c2 - c1 + 1

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r1, c1, r2, c2 in self.areas
                for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    def options(self, **opts: Any) -> FakeRange:
        out = FakeRange(self.sheet, self.areas)
        out._opts = opts
        return out

    @property
    def value(self) -> Any:
        r1, c1, r2, c2 = self.areas[0]
        rows = [[self.sheet.read(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if self._opts.get("ndim") == 2:
            return rows
        return rows[0][0] if self.shape == (1, 1) else rows

    @value.setter
    def value(self, block: Any) -> None:
        self.sheet.book.app.value_writes += 1
        r0, c0 = self.row, self.column
        if not isinstance(block, list):
            block = [[block]]
        for i, row in enumerate(block):
            for j, v in enumerate(row):
                self.sheet.write(r0 + i, c0 + j, v)

    @property
    def formula(self) -> Any:
        r1, c1, r2, c2 = self.areas[0]
        rows = tuple(tuple(self.sheet.formula(r, c) for c in range(c1, c2 + 1))
                     for r in range(r1, r2 + 1))
        return rows[0][0] if self.shape == (1, 1) else rows

    @property
    def font(self) -> FakeFont:
        return FakeFont(self)

    def set_format(self, name: str, value: Any) -> None:
        self.sheet.book.app.format_calls += 1
        for cell in self.cells():
            self.sheet.formats.setdefault(cell, {})[name] = value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("number_format", "color", "wrap_text", "horizontal_alignment"):
            self.set_format(name, value)
        elif name == "column_width":
            self.sheet.widths[self.column] = value
        else:
            object.__setattr__(self, name, value)

    def add_hyperlink(self, address: str, text_to_display: str | None = None,
                      screen_tip: str | None = None) -> None:
        self.sheet.links[(self.row, self.column)] = (address, text_to_display)

    @property
    def note(self) -> Any:
        return self.sheet.notes.get((self.row, self.column))

    def add_note(self, text: str) -> None:
        self.sheet.notes[(self.row, self.column)] = text

    @property
    def api(self) -> Any:
        raise AttributeError("no Windows object model here (as on macOS)")


class FakeSheet:
    def __init__(self, book: FakeBook, name: str):
        self.book = book
        self.name = name
        self.cells: dict[tuple[int, int], Any] = {}
        self.formulas: dict[tuple[int, int], str] = {}
        self.formats: dict[tuple[int, int], dict[str, Any]] = {}
        self.widths: dict[int, float] = {}
        self.links: dict[tuple[int, int], tuple[str, str | None]] = {}
        self.notes: dict[tuple[int, int], str] = {}
        self.cleared = 0

    def read(self, r: int, c: int) -> Any:
        v = self.cells.get((r, c))
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            return float(v)  # Excel hands every number over as a double
        return v

    def formula(self, r: int, c: int) -> str:
        if (r, c) in self.formulas:
            return self.formulas[(r, c)]
        v = self.cells.get((r, c))
        return "" if v is None else str(v)

    def write(self, r: int, c: int, v: Any) -> None:
        """As Excel takes an assigned value: '=…' a formula, "'…" text as typed, "" blank."""
        self.formulas.pop((r, c), None)
        if v is None or v == "":
            self.cells.pop((r, c), None)
        elif isinstance(v, str) and v.startswith("'"):
            self.cells[(r, c)] = v[1:]
        elif isinstance(v, str) and v.startswith("="):
            self.formulas[(r, c)] = v
            self.cells[(r, c)] = None
        elif isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v.strip()):
            self.cells[(r, c)] = float(v)  # what Excel does to "001"
        else:
            self.cells[(r, c)] = v

    @property
    def used_range(self) -> FakeRange:
        used = [k for k, v in self.cells.items() if v is not None] + list(self.formulas)
        if not used:
            return FakeRange(self, [(1, 1, 1, 1)])
        rows, cols = [r for r, _ in used], [c for _, c in used]
        return FakeRange(self, [(min(rows), min(cols), max(rows), max(cols))])

    def range(self, first: Any, second: Any = None) -> FakeRange:
        if isinstance(first, tuple):
            return FakeRange(self, [(first[0], first[1], first[0], first[1])])
        areas = []
        for part in first.split(","):
            ends = [parse_a1(p) for p in part.split(":")]
            (r1, c1), (r2, c2) = ends[0], ends[-1]
            areas.append((r1, c1, r2, c2))
        return FakeRange(self, areas)

    def clear(self) -> None:
        self.cleared += 1
        self.cells.clear()
        self.formulas.clear()
        self.formats.clear()
        self.links.clear()
        self.notes.clear()

    def activate(self) -> None:
        self.book.sheets.active = self

    @property
    def api(self) -> Any:
        raise AttributeError("no Windows object model here (as on macOS)")


class FakeSheets:
    def __init__(self, book: FakeBook):
        self.book = book
        self.items: list[FakeSheet] = []
        self.active: FakeSheet | None = None

    def __iter__(self) -> Any:
        return iter(list(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: int | str) -> FakeSheet:
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def add(self, name: str, after: FakeSheet | None = None) -> FakeSheet:
        sheet = FakeSheet(self.book, name)
        index = self.items.index(after) + 1 if after is not None else 0
        self.items.insert(index, sheet)
        return sheet


class FakeApp:
    def __init__(self) -> None:
        self.screen_updating = True
        self.calculation = "automatic"
        self.status_bar: Any = False
        self.alerts: list[tuple[str, str | None]] = []
        self.value_writes = 0
        self.format_calls = 0
        self.calculation_during_writes: set[str] = set()

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok",
              mode: str | None = None, callback: str | None = None) -> str:
        self.alerts.append((prompt, mode))
        return "ok"


class FakeBook:
    """What xlwings.Book offers that XlwingsBook uses, over in-memory sheets."""

    def __init__(self, path: Path):
        self.name = path.name
        self.fullname = str(path)
        self.app = FakeApp()
        self.sheets = FakeSheets(self)
        formulas = openpyxl.load_workbook(path)
        cached = openpyxl.load_workbook(path, data_only=True)
        for ws in formulas.worksheets:
            sheet = self.sheets.add(ws.title, after=self.sheets.items[-1] if self.sheets.items else None)
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is None:
                        continue
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        sheet.formulas[(cell.row, cell.column)] = cell.value
                        sheet.cells[(cell.row, cell.column)] = cached[ws.title].cell(cell.row, cell.column).value
                    else:
                        sheet.cells[(cell.row, cell.column)] = cell.value
        self.sheets.active = self.sheets.items[0]

    def table(self, name: str) -> list[list[Any]]:
        """A sheet's values as openpyxl would read them back (numbers compared as numbers)."""
        sheet = self.sheets[name]
        if not sheet.cells:
            return []
        rows = max(r for r, _ in sheet.cells)
        cols = max(c for _, c in sheet.cells)
        out = [[sheet.cells.get((r, c)) for c in range(1, cols + 1)] for r in range(1, rows + 1)]
        while out and all(v is None for v in out[-1]):
            out.pop()
        return out


def test_xlwings_book_reads_like_openpyxl(small_book: Path) -> None:
    fake = XlwingsBook(FakeBook(small_book))
    headless = HeadlessBook(small_book)
    assert fake.sheet_names() == headless.sheet_names()
    for name in fake.sheet_names():
        a, b = fake.grid(name), headless.grid(name)
        assert a.formulas == b.formulas
        assert [[None if v is None else (float(v) if isinstance(v, int) else v) for v in row]
                for row in b.values] == a.values


def test_xlwings_book_grid_is_anchored_at_a1(small_book: Path) -> None:
    book = FakeBook(small_book)
    sheet = book.sheets.add("Offset", after=book.sheets[len(book.sheets) - 1])
    sheet.cells[(3, 3)] = "x"
    sheet.cells[(4, 4)] = 2
    sheet.formulas[(4, 3)] = "=D4*2"
    sheet.cells[(4, 3)] = 4.0
    grid = XlwingsBook(book).grid("Offset")
    assert grid.values == [[None] * 4, [None] * 4, [None, None, "x", None], [None, None, 4.0, 2.0]]
    assert grid.formulas == {(3, 2)}


def test_macros_through_xlwings_write_what_recalc_writes(tmp_path: Path) -> None:
    by_cli = tmp_path / "by_recalc.xlsx"
    recalc_file(REFERENCE, by_cli)
    fake = FakeBook(REFERENCE)
    ranking_sheet = fake.sheets["Ranking"]
    book = XlwingsBook(fake)
    report = run_rebuild(book)
    assert report.result is not None
    for sheet in RESULT_SHEETS:
        assert fake.table(sheet) == values(by_cli, sheet), sheet
    assert without_time(fake.table("Log")) == without_time(values(by_cli, "Log"))
    # cleared in place, not deleted: formulas pointing at it keep working
    assert fake.sheets["Ranking"] is ranking_sheet and ranking_sheet.cleared == 1
    # one block assignment of values per sheet (4 result sheets, GroupRanking, Charts, Compare,
    # the emptied Problems sheet, the fingerprint store); Log is appended to, not rewritten:
    # the new row's cells in one run (its header has every column, the notes last, and the
    # blank notes cell is not written); formats once per style union, not per cell
    assert fake.app.value_writes == 10
    assert fake.app.format_calls < 100  # ~3,500 styled cells
    # number formats, tier fills, header style, widths
    scores = fake.sheets["Scores"]
    assert scores.formats[(1, 1)]["font.bold"] is True
    assert scores.formats[(1, 1)]["color"] == "#1F4E78"
    assert scores.formats[(2, 4)]["number_format"] == "0.00"
    root_col = fake.table("Scores")[0].index("index") + 1
    assert scores.formats[(2, root_col)]["color"] == "#C6EFCE"  # tier 1
    assert scores.widths[1] == 14.0
    # the writes ran with manual calculation and no screen updates, restored afterwards
    assert fake.app.calculation == "automatic" and fake.app.screen_updating is True
    assert fake.app.status_bar.startswith("xl-aiindex: rebuilt Scores")


def test_xlwings_validate_links_and_alerts(small: Sheets, tmp_path: Path) -> None:
    small["Data"][1][1] = "abc"
    fake = FakeBook(write_book(tmp_path / "bad.xlsx", small))
    run_validate(XlwingsBook(fake))
    problems = fake.sheets["Problems"]
    assert fake.table("Problems")[1][:2] == ["Data", "B2"]
    assert problems.links[(2, 2)] == ("#'Data'!B2", "B2")
    assert fake.app.alerts == [("1 problem found: see the Problems sheet", "critical")]
    assert fake.sheets.active is problems


def test_text_keeps_its_type_in_excel() -> None:
    assert excel_value_roundtrip("001") == "001"
    assert excel_value_roundtrip("=1+1") == "=1+1"
    assert excel_value_roundtrip("-3") == "-3"
    assert excel_value_roundtrip("北京") == "北京"
    assert excel_value_roundtrip(3.5) == 3.5
    assert union_addresses([(r, 0) for r in range(1, 400, 2)])[0].count(",") < 60
    assert all(len(u) <= 255 for u in union_addresses([(r, c) for r in range(0, 400, 2)
                                                        for c in range(30)]))


def excel_value_roundtrip(value: Any) -> Any:
    from xl_aiindex.workbook.sheetspec import Cell

    sheet = FakeSheet(None, "x")  # type: ignore[arg-type]
    sheet.write(1, 1, excel_value(Cell(value)))
    return sheet.cells.get((1, 1))


def test_udfs_read_the_calling_cells_book(small_book: Path) -> None:
    fake = FakeBook(small_book)
    caller = fake.sheets["Data"].range("H2")  # a cell of the workbook, as xlwings passes it
    assert isinstance(book_of_caller(caller), XlwingsBook)
    assert AI_RANK("Epsilon", caller=caller) == 1
    assert AI_INDEX("e", caller=caller) == AI_INDEX("e", caller=small_book)
    assert AI_RANKING(caller=caller)[0][:2] == ["rank", "unit"]


def test_addresses() -> None:
    assert address(0, 0) == "A1" and column_letter(27) == "AB"
    assert parse_a1("AB12") == (12, 28)


def test_a_huge_used_range_is_refused_not_read(small_book: Path) -> None:
    fake = FakeBook(small_book)
    fake.sheets["Data"].cells[(1_000_000, 100)] = "stray"
    text = AI_INDEX("e", caller=fake.sheets["Data"].range("H2"))
    assert text.startswith("#AI! cannot read the workbook: small.xlsx: sheet 'Data' uses 1,000,000 rows")
    assert text.endswith("clear the unused rows and columns")


def test_run_main_is_the_rebuild_macro(monkeypatch: pytest.MonkeyPatch, small_book: Path) -> None:
    from udfs import macros

    book = HeadlessBook(small_book)
    monkeypatch.setattr(macros, "book_of_macro", lambda b: book if b is None else b)
    macros.main()
    assert values(small_book, "Ranking")[1][:2] == [1, "e"]
    assert not hasattr(macros.main, "__xlfunc__")
