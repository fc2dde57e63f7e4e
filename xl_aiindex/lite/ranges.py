"""The input sheets as xlwings Lite hands them over: 2-D lists of cell values -> the reader.

A Lite function receives its arguments and nothing else, so :func:`~xl_aiindex.lite.AI_MODEL`
gets each input sheet as a range (a 2-D list: numbers, texts, booleans, ``None`` or ``""`` for
a blank, ``"#N/A"``-style texts for error cells). :class:`RangeBook` presents those lists as a
:class:`~xl_aiindex.workbook.grid.BookSource` under the input sheets' names, so the desktop
reader (:func:`~xl_aiindex.workbook.inputs.read_inputs`: header row, typed values, every
problem with its cell) reads them exactly as it reads a file or an open Excel book. The ranges
start at A1 (the defined names ``xl-aiindex excel --lite`` adds do), so a problem names the same
cell as on the desktop; blank rows and columns after the table (the slack the names leave for
new rows) are dropped, as a file's reader never sees them.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from ..contract import DATA, FRAMEWORK, GIVEN, SETTINGS, UNITS, key
from ..workbook.grid import Grid

#: The Settings key that says whether the fourth range is Data or Given.
INPUT_KEY = "input"


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (
        isinstance(v, float) and math.isnan(v))


def _cell(v: Any) -> Any:
    """One value as the desktop readers give it: a blank is None (Office.js sends ``""``), a
    whole float stays a float (the reader's ``text()`` shows ``3.0`` as ``3``)."""
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item") and not isinstance(v, str | bytes):  # a numpy scalar
        v = v.item()
    return v


def rows_of(values: Any) -> list[list[Any]]:
    """A range's value as a rectangular 2-D list without trailing blank rows and columns.

    Accepts what Lite may pass: a 2-D list, a 1-D list (one row), a scalar (one cell), None.
    """
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        values = [[values]]
    elif values and not all(isinstance(r, list | tuple) for r in values):
        values = [list(values)]
    rows = [[_cell(v) for v in r] for r in values]
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    while width and all(len(r) < width or _blank(r[width - 1]) for r in rows):
        width -= 1
    return [(r + [None] * width)[:width] for r in rows]


def input_kind(settings: list[list[Any]]) -> str:
    """``data`` or ``given``: the Settings ``input`` value as written (anything else counts as
    ``data``, whose reader then reports the bad value with its cell)."""
    for row in settings[1:]:
        if len(row) >= 2 and key(row[0]) == INPUT_KEY:
            return "given" if key(row[1]) == "given" else "data"
    return "data"


class ValuesBook:
    """Sheets given as values (name -> rows, anchored at A1) as a book the reader can read."""

    def __init__(self, sheets: dict[str, list[list[Any]]]):
        # a sheet with nothing in it is a sheet the workbook does not have (the reader then
        # says which sheet is missing, as it does for a file)
        self.sheets = {name: rows_of(r) for name, r in sheets.items()}
        self.sheets = {name: r for name, r in self.sheets.items() if r}

    def sheet_names(self) -> list[str]:
        """The sheets given, in the order given."""
        return list(self.sheets)

    def grid(self, name: str) -> Grid:
        """The cells of sheet ``name`` (values only: Lite passes no formulas)."""
        return Grid(name, [list(r) for r in self.sheets[name]])

    def fingerprint(self) -> str:
        """A hash of every value of every sheet: equal values, equal fingerprint."""
        h = hashlib.sha256()
        for name, rows in self.sheets.items():
            h.update(repr((key(name), [[(type(v).__name__, v) for v in r] for r in rows]))
                     .encode())
        return h.hexdigest()


def input_sheets(settings: Any, framework: Any, units: Any, data_or_given: Any,
                 given: Any = None) -> dict[str, Any]:
    """The sheets of ``AI_MODEL``'s arguments by name: the fourth range is Data or Given as
    Settings ``input`` says; ``given`` is Given beside Data (ignored with input = given)."""
    sheets = {SETTINGS: settings, FRAMEWORK: framework, UNITS: units}
    if input_kind(rows_of(settings)) == "given":
        sheets[GIVEN] = data_or_given
    else:
        sheets[DATA] = data_or_given
        if given is not None:
            sheets[GIVEN] = given
    return sheets


class RangeBook(ValuesBook):
    """The input ranges of one ``AI_MODEL`` call as a book the reader can read.

    ``settings``, ``framework``, ``units``: the ranges of those sheets; ``data_or_given``: the
    Data sheet when Settings ``input`` is ``data``, the Given sheet when it is ``given``;
    ``given``: optionally the Given sheet as well when ``input`` is ``data`` (its ``published``
    column then appears in the Ranking, as on the desktop).
    """

    def __init__(self, settings: Any, framework: Any, units: Any, data_or_given: Any,
                 given: Any = None):
        super().__init__(input_sheets(settings, framework, units, data_or_given, given))
