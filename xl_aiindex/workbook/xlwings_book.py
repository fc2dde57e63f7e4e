"""The workbook as the Excel macros and UDFs see it: a "book" interface and its xlwings implementation.

:class:`MacroBook` is everything :mod:`udfs` needs from a workbook: read a sheet into a
:class:`~xl_aiindex.workbook.source.Grid` (it extends :class:`~xl_aiindex.workbook.source.BookSource`,
so :func:`~xl_aiindex.workbook.read.read_model` reads it), write result sheets described as
:class:`~xl_aiindex.workbook.sheetspec.SheetSpec`, tell the user something. Two implementations:

* :class:`XlwingsBook` (here): a live workbook open in Excel, through an ``xlwings.Book``;
* ``udfs.books.HeadlessBook``: a workbook file, read with
  :class:`~xl_aiindex.workbook.source.OpenpyxlSource` and written with
  :func:`xl_aiindex.workbook.io.write_sheets` (atomic), so the same macro code runs in CI.

Nothing here imports xlwings at import time: :class:`XlwingsBook` only uses the ``xlwings.Book``
object it is given (duck-typed, so tests can hand it a fake), and :meth:`XlwingsBook.caller`
imports xlwings when a macro asks for the calling workbook.

Writing a sheet into Excel (:meth:`XlwingsBook.write_sheets`): calculation is set to manual and
screen updating off while writing (one recalculation at the end, not one per sheet); an existing
sheet is cleared in place, never deleted, so formulas elsewhere that point at it (``=Ranking!E2``)
keep working; the values go in one block assignment; each formatting setting (a number format, a
fill, bold…) is applied once over the union of the cells that have it; then column widths, links, header notes, and — where the platform allows
it (Windows) — freeze panes, autofilter, tab colour and the header's bottom border.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from ..contract import key
from ..errors import UnreadableWorkbook
from ..i18n import _
from .ooxml import RowAppend
from .read import address, column_letter
from .sheetspec import HEADER, Cell, SheetSpec, Style
from .source import MAX_SHEET_CELLS, BookSource, Grid


class MacroBook(BookSource, Protocol):
    """A workbook the UDFs read and the macros rewrite (an open Excel book, or a file)."""

    @property
    def key(self) -> str:
        """Identifies the workbook in the UDF cache (its full path)."""
        ...

    @property
    def name(self) -> str:
        """The file name, as the Log sheet records it."""
        ...

    def write_sheets(self, sheets: Sequence[SheetSpec], activate: str | None = None,
                     very_hidden: Sequence[str] = (), appends: Sequence[RowAppend] = ()
                     ) -> None:
        """Write (create or replace) each sheet and append each row of ``appends`` (the Log:
        only that row's cells and the header cells it lacks are written, every other cell
        of the sheet kept); then show sheet ``activate``, if given. Sheets named in
        ``very_hidden`` are made very hidden (the hand-edit fingerprints)."""
        ...

    def sheet_kinds(self) -> dict[str, str]:
        """Each sheet's kind by name (``worksheet``, ``chartsheet``…), as
        :func:`~xl_aiindex.workbook.ooxml.sheet_kinds` names them; what cannot be told is
        left out (taken for a worksheet)."""
        ...

    def notify(self, message: str, level: str = "info") -> None:
        """Tell the user: ``info`` (status bar) or ``error`` (a message box)."""
        ...


# ---- reading ----

def _as_2d(value: Any, shape: tuple[int, int]) -> list[list[Any]]:
    """An xlwings/COM value (scalar, 1-D or 2-D, lists or tuples) as a list of rows of ``shape``."""
    rows, cols = shape
    if not isinstance(value, list | tuple):
        return [[value]]
    if value and isinstance(value[0], list | tuple):
        return [list(r) for r in value]
    flat = list(value)
    if rows == 1:
        return [flat]
    if cols == 1:
        return [[v] for v in flat]
    return [flat]


def _excel_shape(rng: Any) -> tuple[int, int]:
    shape = getattr(rng, "shape", None)
    if isinstance(shape, tuple) and len(shape) == 2:
        return int(shape[0]), int(shape[1])
    return 1, 1


# ---- writing ----

#: Text Excel would turn into something else when typed or assigned (a formula, a number, a date).
_RETYPED = re.compile(r"^\s*([=+\-@#]|(true|false)\s*$|[\d.,:/%\s]*\d[\d.,:/%eE+\-\s]*$)",
                      re.IGNORECASE)
#: Longest union address handed to Excel in one call (Range("A1:A5,C1:C5") is limited to 255).
_MAX_UNION = 240


def excel_value(cell: Cell) -> Any:
    """What to assign to an Excel cell so it shows ``cell`` exactly.

    A formula gets its ``=``; text that Excel would re-type on assignment (``=x``, ``001``,
    ``1/2``, ``-3``) gets the apostrophe prefix Excel itself uses for "text as typed", which is
    not part of the cell's value; ``None`` and non-finite numbers are left blank.

    >>> excel_value(Cell("001")), excel_value(Cell("北京")), excel_value(Cell(None, formula="A1*2"))
    ("'001", '北京', '=A1*2')
    """
    if cell.formula:
        return "=" + cell.formula
    v = cell.value
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str) and _RETYPED.match(v):
        return "'" + v
    return v


def _runs(cells: Sequence[tuple[int, int]]) -> list[str]:
    """0-based cells as A1 ranges, one per run of consecutive rows within a column."""
    by_col: dict[int, list[int]] = {}
    for r, c in cells:
        by_col.setdefault(c, []).append(r)
    out: list[str] = []
    for c in sorted(by_col):
        rows = sorted(by_col[c])
        start = prev = rows[0]
        for r in [*rows[1:], -1]:  # -1 closes the last run
            if r == prev + 1:
                prev = r
                continue
            out.append(address(start, c) if start == prev else f"{address(start, c)}:{address(prev, c)}")
            start = prev = r
    return out


def union_addresses(cells: Sequence[tuple[int, int]]) -> list[str]:
    """The cells as comma-joined unions of runs, each short enough for one Excel ``Range`` call.

    >>> union_addresses([(1, 0), (2, 0), (3, 0), (1, 2)])
    ['A2:A4,C2']
    """
    chunks: list[str] = []
    current = ""
    for run in _runs(cells):
        if current and len(current) + 1 + len(run) > _MAX_UNION:
            chunks.append(current)
            current = run
        else:
            current = f"{current},{run}" if current else run
    if current:
        chunks.append(current)
    return chunks


def _bgr(hex_rgb: str) -> int:
    """'RRGGBB' as the BGR integer Excel's COM colour properties take."""
    r, g, b = int(hex_rgb[0:2], 16), int(hex_rgb[2:4], 16), int(hex_rgb[4:6], 16)
    return r + 256 * g + 65536 * b


class XlwingsBook:
    """A workbook open in Excel, read and written through xlwings.

    ``book`` is an ``xlwings.Book`` (or anything with the same small surface: ``name``,
    ``fullname``, ``sheets``, ``app``). Reading a sheet costs two calls into Excel (the used
    range's values and its formulas), whatever the sheet's size.

    Limitations: merged cells are not reported (the reader's "unmerge them" problem only
    appears headlessly); autofilter, tab colour, borders and freeze panes use Excel's Windows
    object model and are skipped where it is not available.
    """

    def __init__(self, book: Any):
        self.book = book

    @classmethod
    def caller(cls) -> XlwingsBook:
        """The workbook that called the running macro (``xlwings.Book.caller()``)."""
        import xlwings as xw  # only when a macro runs from Excel

        return cls(xw.Book.caller())

    @property
    def key(self) -> str:
        """``excel:`` and the workbook's full name (its path once saved)."""
        try:
            return "excel:" + str(self.book.fullname)
        except Exception:  # an unsaved or remote book may not tell its path
            return "excel:" + str(self.book.name)

    @property
    def name(self) -> str:
        """The workbook's file name."""
        return str(self.book.name)

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order."""
        return [str(s.name) for s in self.book.sheets]

    def grid(self, name: str) -> Grid:
        """The sheet's used range as a grid anchored at A1 (values as Excel shows them)."""
        sheet = self.book.sheets[name]
        rng = sheet.used_range
        shape = _excel_shape(rng)
        if shape[0] * shape[1] > MAX_SHEET_CELLS:  # e.g. formatting applied to whole columns
            raise UnreadableWorkbook(self.name, f"sheet '{name}' uses {shape[0]:,} rows × "
                                                f"{shape[1]:,} columns (limit {MAX_SHEET_CELLS:,} "
                                                "cells): clear the unused rows and columns")
        values = _as_2d(rng.options(ndim=2, err_to_str=True).value, shape)
        formulas = _as_2d(rng.formula, shape)
        top, left = int(rng.row) - 1, int(rng.column) - 1
        width = left + max((len(r) for r in values), default=0)
        grid: list[list[Any]] = [[None] * width for _ in range(top)]
        found: set[tuple[int, int]] = set()
        for i, row in enumerate(values):
            out = [None] * left + [_clean(v) for v in row]
            out += [None] * (width - len(out))
            grid.append(out)
            f_row = formulas[i] if i < len(formulas) else []
            for j, f in enumerate(f_row):
                if isinstance(f, str) and f.startswith("=") and len(f) > 1 and f != row[j]:
                    found.add((top + i, left + j))
        while grid and all(v is None for v in grid[-1]):
            grid.pop()
        return Grid(str(sheet.name), grid, {rc for rc in found if rc[0] < len(grid)})

    # ---- writing ----

    def sheet_kinds(self) -> dict[str, str]:
        """The worksheets, and the chart sheets Excel's Windows object model lists (xlwings'
        ``sheets`` holds worksheets only); elsewhere the worksheets alone."""
        kinds = {str(s.name): "worksheet" for s in self.book.sheets}
        with contextlib.suppress(Exception):
            charts = self.book.api.Charts   # chart sheets (Windows COM)
            for i in range(1, int(charts.Count) + 1):
                kinds.setdefault(str(charts.Item(i).Name), "chartsheet")
        return kinds

    def write_sheets(self, sheets: Sequence[SheetSpec], activate: str | None = None,
                     very_hidden: Sequence[str] = (), appends: Sequence[RowAppend] = ()
                     ) -> None:
        """Write each sheet (cleared in place when it exists, else added at the end), then
        append each row of ``appends`` (:meth:`_append`); sheets named in ``very_hidden`` end
        very hidden (not even listed by Unhide)."""
        with self._quiet():
            for spec in sheets:
                self._write(spec)
            for app in appends:
                self._append(app)
            for name in very_hidden:
                sheet = self._find(name)
                if sheet is None:
                    continue
                try:
                    sheet.api.Visible = 2   # xlSheetVeryHidden (Windows COM)
                except Exception:  # other platforms: plainly hidden is the best there is
                    with contextlib.suppress(Exception):
                        sheet.visible = False
        if activate is not None:
            sheet = self._find(activate)
            if sheet is not None:
                with contextlib.suppress(Exception):
                    sheet.activate()

    def notify(self, message: str, level: str = "info") -> None:
        """``info``: the status bar; ``error``: a message box (and the status bar)."""
        app = self.book.app
        with contextlib.suppress(Exception):
            app.status_bar = f"xl-aiindex: {message}"
        if level == "error":
            with contextlib.suppress(Exception):
                app.alert(message, title="xl-aiindex", mode="critical")

    def _find(self, name: str) -> Any:
        wanted = key(name)
        for s in self.book.sheets:
            if key(str(s.name)) == wanted:
                return s
        return None

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Manual calculation and no screen updates while writing; restored afterwards."""
        app = self.book.app
        saved: dict[str, Any] = {}
        for attr, value in (("screen_updating", False), ("calculation", "manual")):
            try:
                saved[attr] = getattr(app, attr)
                setattr(app, attr, value)
            except Exception:
                saved.pop(attr, None)
        try:
            yield
        finally:
            for attr, value in saved.items():
                with contextlib.suppress(Exception):
                    setattr(app, attr, value)

    def _write(self, spec: SheetSpec) -> None:
        sheet = self._find(spec.name)
        if sheet is None:
            sheets = self.book.sheets
            sheet = sheets.add(spec.name, after=sheets[len(sheets) - 1])
        else:
            sheet.clear()  # in place: references from other sheets stay valid
        width = spec.n_cols
        block = [[excel_value(c) for c in row] + [None] * (width - len(row)) for row in spec.rows]
        if block and width:
            sheet.range((1, 1)).value = block
        settings: dict[tuple[str, Any], list[tuple[int, int]]] = {}
        links: list[tuple[int, int, Cell]] = []
        for r, row in enumerate(spec.rows):
            for c, cell in enumerate(row):
                if cell.style is not None:
                    for setting in style_settings(cell.style):
                        settings.setdefault(setting, []).append((r, c))
                if cell.link:
                    links.append((r, c, cell))
        for (attr, value), cells in settings.items():  # one call per setting and union of cells
            for union in union_addresses(cells):
                _apply(sheet.range(union), attr, value)
        for c, w in spec.widths.items():
            with contextlib.suppress(Exception):
                sheet.range((1, c + 1)).column_width = w
        for r, c, cell in links:
            with contextlib.suppress(Exception):
                sheet.range((r + 1, c + 1)).add_hyperlink(
                    "#" + str(cell.link), text_to_display=str(cell.value or cell.link),
                    screen_tip=_("Go to {cell}").format(cell=cell.link))
        for c, note in spec.header_notes.items():
            with contextlib.suppress(Exception):
                target = sheet.range((1, c + 1))
                if target.note is not None:
                    target.note.text = note
                else:
                    target.add_note(note)
        self._windows_extras(sheet, spec)

    def _append(self, app: RowAppend) -> None:
        """Write ``app``'s row below the last row holding a value or formula, and its header
        cells where row 1 has none; nothing else of the sheet is touched (the user's columns,
        rows, notes and formulas stay). A missing sheet is added holding the header and the
        row. Each run of adjacent cells is one assignment."""
        sheet = self._find(app.sheet)
        if sheet is None:
            width = max([*app.header, *app.cells], default=-1) + 1
            head = [Cell(app.header.get(c), style=HEADER) for c in range(width)]
            row = [Cell(None if app.cells.get(c) == "" else app.cells.get(c))
                   for c in range(width)]
            self._write(SheetSpec(app.sheet.strip(), [head, row], dict(app.widths)))
            return
        grid = self.grid(str(sheet.name))
        used = [r for r, row in enumerate(grid.values) if any(v is not None for v in row)]
        last = max([*used, *(r for r, _ in grid.formulas)], default=-1)
        top = grid.values[0] if grid.values else []
        missing = {c: h for c, h in app.header.items()
                   if not (c < len(top) and top[c] is not None or (0, c) in grid.formulas)}
        if missing:
            _put_row(sheet, 0, missing)
            last = max(last, 0)
        _put_row(sheet, max(last + 1, 1), {c: v for c, v in app.cells.items()
                                           if v is not None and v != ""})

    def _windows_extras(self, sheet: Any, spec: SheetSpec) -> None:
        """Freeze panes, autofilter and tab colour: Excel's Windows object model only."""
        with contextlib.suppress(Exception):
            api = sheet.api
            if getattr(api, "AutoFilterMode", False):
                api.AutoFilterMode = False
            if spec.autofilter and spec.rows:
                sheet.range(f"A1:{column_letter(spec.n_cols - 1)}{len(spec.rows)}").api.AutoFilter()
        with contextlib.suppress(Exception):
            if spec.tab_color:
                sheet.api.Tab.Color = _bgr(spec.tab_color)
            else:
                sheet.api.Tab.ColorIndex = -4142  # xlColorIndexNone
        with contextlib.suppress(Exception):
            rows, cols = spec.freeze
            active = self.book.sheets.active
            sheet.activate()  # FreezePanes belongs to the window: show the sheet, then go back
            try:
                window = self.book.app.api.ActiveWindow
                window.FreezePanes = False
                if rows or cols:
                    window.SplitRow, window.SplitColumn = rows, cols
                    window.FreezePanes = True
            finally:
                active.activate()

def _put_row(sheet: Any, r: int, cells: dict[int, Any]) -> None:
    """Assign ``cells`` (0-based column -> value) to 0-based row ``r``: one assignment per
    run of adjacent columns, so no cell between them is written."""
    start: int | None = None
    run: list[Any] = []
    for c in [*sorted(cells), -2]:   # -2 closes the last run
        if start is not None and c == start + len(run):
            run.append(excel_value(Cell(cells[c])))
            continue
        if start is not None and run:
            sheet.range((r + 1, start + 1)).value = [run]
        if c >= 0:
            start, run = c, [excel_value(Cell(cells[c]))]


def style_settings(style: Style) -> list[tuple[str, Any]]:
    """The attributes of ``style`` that differ from a fresh cell's, as ``(attribute, value)``.

    >>> style_settings(Style(num_format="0.00", bold=True))
    [('number_format', '0.00'), ('font.bold', True)]
    """
    out: list[tuple[str, Any]] = []
    if style.num_format != "General":
        out.append(("number_format", style.num_format))
    if style.bold:
        out.append(("font.bold", True))
    if style.font_color:
        out.append(("font.color", "#" + style.font_color))
    if style.fill:
        out.append(("color", "#" + style.fill))
    if style.wrap:
        out.append(("wrap_text", True))
    if style.align:
        out.append(("horizontal_alignment", style.align))
    if style.indent:
        out.append(("indent", style.indent))
    if style.border_bottom:
        out.append(("border_bottom", True))
    return out


def _apply(rng: Any, attr: str, value: Any) -> None:
    """Set one formatting attribute on a range; what the platform lacks is skipped."""
    with contextlib.suppress(Exception):
        if attr.startswith("font."):
            setattr(rng.font, attr[5:], value)
        elif attr == "indent":
            rng.api.IndentLevel = value   # Windows; skipped where the platform lacks it
        elif attr == "border_bottom":
            rng.api.Borders(9).LineStyle = 1  # xlEdgeBottom, xlContinuous (Windows)
        else:
            setattr(rng, attr, value)


def _clean(value: Any) -> Any:
    """Excel's empty text (a cleared cell via some paths) reads as blank, like openpyxl's None."""
    if isinstance(value, str) and value == "":
        return None
    return value
