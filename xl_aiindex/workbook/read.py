"""Read the input sheets of the workbook contract into an :class:`IndexModel`.

The sheet names and column keys come from :mod:`~xl_aiindex.contract`. Every problem found names its sheet and cell; problems the engine finds later (which
know only units and nodes) get their cell from the :class:`Locator` built here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from ..contract import (  # noqa: F401 (FRAMEWORK_COLUMNS, key: re-exported, their old home)
    AHP_PREFIX,
    ALIASES_COLUMN,
    BUDGET_PREFIX,
    DATA,
    ERROR_VALUES,
    FRAMEWORK,
    FRAMEWORK_COLUMNS,
    GIVEN,
    PUBLISHED_COLUMN,
    SETTINGS,
    SETTINGS_COLUMNS,
    UNIT_COLUMN,
    UNITS,
    UNITS_COLUMNS,
    YEAR_COLUMN,
    key,
)
from ..errors import Problem, ProblemsFound
from ..i18n import _, normalise_language, set_workbook_language
from ..model import IndexModel, Node
from ..settings import parse_settings
from .cells import address, column_letter, direction_sign, text  # noqa: F401 (re-exported)
from .data_checks import (
    PercentCell,
    ValueLog,
    marker_key,
    marker_note,
    mixed_scale_problems,
    unit_error_notes,
)
from .grid import BookSource, Grid
from .number_text import parse_number
from .ownership import sheet_name_problems

_NUMERIC_FRAMEWORK = ("weight", "direction", "goal_low", "goal_high")
_METHOD_FRAMEWORK = ("normalisation", "aggregation", "weighting", "transform")


_CELL_REF = re.compile(r"^([A-Za-z]{1,3})([0-9]{1,7})$")


def _range_bounds(ref: str) -> tuple[int, int, int, int] | None:
    """``"B3:C4"`` -> 0-based ``(first col, first row, last col, last row)``; None if malformed."""
    corners = []
    for part in ref.split(":")[:2]:
        m = _CELL_REF.match(part.strip())
        if m is None:
            return None
        col = 0
        for ch in m.group(1).upper():
            col = col * 26 + ord(ch) - 64
        corners.append((col - 1, int(m.group(2)) - 1))
    (c1, r1), (c2, r2) = corners[0], corners[-1]
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


@dataclass
class SheetLocator:
    """Where things are on one input sheet: the sheet's real name, rows by key, columns by key."""

    name: str
    rows: dict[str, int] = field(default_factory=dict)
    cols: dict[str, int] = field(default_factory=dict)


@dataclass
class Locator:
    """Finds the cell of a problem the engine reports by unit, node and field."""

    sheets: dict[str, SheetLocator] = field(default_factory=dict)

    def locate(self, p: Problem) -> Problem:
        """``p`` with its cell (and the sheet's real name) filled in where they can be found."""
        loc = self.sheets.get(key(p.sheet))
        if loc is None:
            return p
        from dataclasses import replace

        p = replace(p, sheet=loc.name)
        if p.cell:
            return p
        unit_key = p.unit if p.year is None else panel_row_key(p.unit, p.year)
        row_key = {key(FRAMEWORK): p.node, key(SETTINGS): p.field}.get(key(p.sheet), unit_key)
        col_key = "value" if key(p.sheet) == key(SETTINGS) else (p.field or p.node)
        row = loc.rows.get(row_key.lower()) if row_key else None
        col = loc.cols.get(col_key.lower()) if col_key else None
        if row is None and col is None:
            return p
        if row is None:
            row = 0  # a column's problem: point at its header
        if col is None:
            col = 0
        return p.at(address(row, col))


def panel_row_key(unit: str, year: int) -> str:
    """How a panel row (Data/Given with a ``year`` column) is found by unit and year."""
    return f"{unit}|{year}"


@dataclass
class _Table:
    grid: Grid
    header: dict[str, int]          # key -> column
    rows: list[int]                 # grid rows holding data (after the header, blank rows skipped)


def _as_written(value: float) -> float:
    """A number as the cell holds it: a whole number as an ``int`` (``1``, ``-1``, ``2``), any
    other kept as is, so that a message quotes ``1.9`` as typed, never a rounded ``0``."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


class _Reader:
    def __init__(self, source: BookSource):
        self.source = source
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.locator = Locator()
        self.names: dict[str, str] = {}
        for n in source.sheet_names():
            first = self.names.setdefault(key(n), n)
            if first != n:
                self.bad(n, "", _("the workbook has two sheets named '{first}' and '{second}', "
                                  "which read as the same sheet (names match ignoring case and "
                                  "surrounding spaces): rename or delete one").format(
                                      first=first, second=n))
        self.missing: set[str] = set()   # required sheets the workbook lacks (by key)
        #: texts of a Data or Given cell read as a missing value (Settings missing_markers)
        self.markers: set[str] = set()
        #: what reading Data and Given noticed (cells read as missing, percentages), by sheet key
        self.value_logs: dict[str, ValueLog] = {}

    # ---- generic ----
    def bad(self, sheet: str, cell: str, problem: str, unit: str = "", node: str = "") -> None:
        self.problems.append(Problem(sheet, cell, unit, node, problem))

    def table(self, wanted: str, required: bool, needed_columns: Iterable[str] = ()) -> _Table | None:
        real = self.names.get(key(wanted))
        if real is None:
            if required:
                have = ", ".join(self.source.sheet_names())
                close = get_close_matches(key(wanted), list(self.names), n=1, cutoff=0.6)
                if close:
                    problem = _("the workbook has no sheet '{sheet}' (did you mean '{close}'? sheet "
                                "names must be exactly '{sheet}'); its sheets: {sheets}")
                else:
                    problem = _("the workbook has no sheet '{sheet}'; its sheets: {sheets}")
                self.bad(wanted, "", problem.format(
                    sheet=wanted, close=self.names[close[0]] if close else "", sheets=have))
                self.missing.add(key(wanted))
            return None
        grid = self.source.grid(real)
        loc = SheetLocator(real)
        self.locator.sheets[key(wanted)] = loc
        if not grid.values:
            self.bad(real, "A1", _("sheet '{sheet}' is empty: it needs a header row").format(
                sheet=real))
            return None
        header: dict[str, int] = {}
        for c, v in enumerate(grid.values[0]):
            k = key(v)
            if not k:
                continue
            if k in header:
                self.bad(real, address(0, c), _("column '{column}' appears twice in the header "
                                                "(also {cell})").format(
                                                    column=text(v), cell=address(0, header[k])))
                continue
            header[k] = c
        loc.cols.update(header)
        for col in needed_columns:
            if col not in header:
                self.bad(real, address(0, len(grid.values[0])),
                         _("sheet '{sheet}' has no column '{column}' in its header row "
                           "(columns: {columns})").format(
                             sheet=real, column=col,
                             columns=", ".join(text(v) for v in grid.values[0] if text(v))))
        last_col = max(header.values(), default=-1)
        for m in grid.merged:
            bounds = _range_bounds(m)
            # a merge beside or below the table (a title, a note) is not the table's business
            if bounds is not None and bounds[0] <= last_col and bounds[1] < len(grid.values):
                self.bad(real, address(bounds[1], bounds[0]),
                         _("merged cells {cells} inside the table: unmerge them").format(
                             cells=m))
        rows: list[int] = []
        blank_run: list[int] = []
        for r in range(1, len(grid.values)):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in grid.values[r]):
                blank_run.append(r)
                continue
            if len(blank_run) == 1:
                b = blank_run[0]
                self.bad(real, address(b, 0), _("row {row} is blank inside the table: delete it "
                                                "(a blank row ends nothing; data continues "
                                                "below)").format(row=b + 1))
            elif blank_run:
                self.bad(real, address(blank_run[0], 0),
                         _("rows {first}–{last} are blank inside the table: delete them (blank "
                           "rows end nothing; data continues below, in row {row})").format(
                             first=blank_run[0] + 1, last=blank_run[-1] + 1, row=r + 1))
            blank_run = []
            rows.append(r)
        return _Table(grid, header, rows)

    def cell(self, t: _Table, r: int, col: str, what: str = "") -> Any:
        c = t.header.get(col)
        if c is None:
            return None
        row = t.grid.values[r]
        v = row[c] if c < len(row) else None
        if v is None and (r, c) in t.grid.formulas:
            why = _("holds a formula with no stored value (the file was written by a program "
                    "and never calculated): open and save it in a spreadsheet application")
            self.bad(t.grid.name, address(r, c),
                     _("{what}: {why}").format(what=what, why=why) if what else why)
            return _UNSET
        if isinstance(v, str) and v.strip() in ERROR_VALUES:
            why = _("holds the error value {value}").format(value=v.strip())
            self.bad(t.grid.name, address(r, c),
                     _("{what}: {why}").format(what=what, why=why) if what else why)
            return _UNSET
        return v

    def number(self, t: _Table, r: int, col: str, what: str) -> float | None:
        # fast path, the case of nearly every cell: a plain finite number
        c = t.header.get(col)
        row = t.grid.values[r]
        if c is not None and c < len(row):
            v = row[c]
            if type(v) is float and v - v == 0.0:
                return v
        v = self.cell(t, r, col, what)
        if v is _UNSET:
            return None
        n, why = parse_number(v)
        c = t.header[col]
        if n is None and why:
            self.bad(t.grid.name, address(r, c), _("{what}: {why}").format(what=what, why=why))
        elif why:
            self.notes.append(_("Sheet '{sheet}', cell {cell}: {problem}").format(
                sheet=t.grid.name, cell=address(r, c), problem=why))
        return n

    def value(self, t: _Table, r: int, col: str, label: str, log: ValueLog, unit: str,
              canonical: str) -> float | None:
        """A Data or Given value: :meth:`number`, except that a missing-value marker (``—``,
        ``暂无``, ``N/A``…) is read as missing and noted in ``log``, as is a percentage.
        ``label``: the template (``{unit}``, ``{node}``) of the cell's name in a problem,
        filled in only for a cell that is not a plain number."""
        c = t.header[col]
        row = t.grid.values[r]
        v = row[c] if c < len(row) else None
        if type(v) is float and v - v == 0.0:   # nearly every cell: a plain finite number
            return v
        what = label.format(unit=unit, node=canonical)
        if isinstance(v, str):
            if v.strip() and marker_key(v) in self.markers:
                log.marked[address(r, c)] = v.strip()
                return None
            n = self.number(t, r, col, what)
            if n is not None and marker_key(v).endswith("%"):
                log.percents.append(PercentCell(unit, canonical, address(r, c), v.strip(), n))
            return n
        return self.number(t, r, col, what)

    # ---- sheets ----
    def settings(self) -> dict[str, Any]:
        t = self.table(SETTINGS, True, SETTINGS_COLUMNS)
        raw: dict[str, Any] = {}
        if t is None or "key" not in t.header or "value" not in t.header:
            return raw
        loc = self.locator.sheets[key(SETTINGS)]
        for r in t.rows:
            k = key(_known(self.cell(t, r, "key")))
            if not k:
                continue
            if k in raw:
                self.bad(t.grid.name, address(r, t.header["key"]),
                         _("setting '{key}' appears twice (also row {row})").format(
                             key=k, row=loc.rows[k] + 1))
                continue
            v = self.cell(t, r, "value")
            raw[k] = None if v is _UNSET else v
            loc.rows[k] = r
        return raw

    def framework(self) -> list[Node]:
        t = self.table(FRAMEWORK, True, ("id", "parent", "weight"))
        if t is None or "id" not in t.header:
            return []
        loc = self.locator.sheets[key(FRAMEWORK)]
        nodes = []
        for r in t.rows:
            raw_id = self.cell(t, r, "id")
            if raw_id is _UNSET:
                continue   # its error value is reported
            node_id = text(raw_id)
            if not node_id:
                self.bad(t.grid.name, address(r, t.header["id"]), _("a Framework row has no id"))
                continue
            if node_id.lower() not in loc.rows:
                loc.rows[node_id.lower()] = r
            values: dict[str, Any] = {}
            for col in _NUMERIC_FRAMEWORK:
                if col in t.header:
                    sign = direction_sign(self.cell(t, r, col)) if col == "direction" else None
                    values[col] = sign if sign is not None else \
                        self.number(t, r, col, _("node {node}: {column}").format(
                            node=node_id, column=col))
            for col in ("name_zh", "name_en", "unit", "source", "note", "denominator"):
                v = self.cell(t, r, col)
                values[col] = "" if v is _UNSET else text(v)
            for col in _METHOD_FRAMEWORK:
                v = self.cell(t, r, col)
                values[col] = (key(v) or None) if v is not _UNSET else None
            direction = values.get("direction")
            parent = text(_known(self.cell(t, r, "parent"))) or None
            nodes.append(Node(
                id=node_id, parent=parent, name_zh=values["name_zh"], name_en=values["name_en"],
                weight=values.get("weight"),
                direction=1 if direction is None else _as_written(direction),
                normalisation=values["normalisation"], goal_low=values.get("goal_low"),
                goal_high=values.get("goal_high"), denominator=values["denominator"] or None,
                transform=values["transform"], aggregation=values["aggregation"],
                weighting=values["weighting"], unit=values["unit"], source=values["source"],
                note=values["note"]))
        # parent ids match node ids case-insensitively: use the node's own spelling
        canonical = {n.id.lower(): n.id for n in nodes}
        return [n if n.parent is None else
                Node(**{**n.__dict__, "parent": canonical.get(n.parent.lower(), n.parent)})
                for n in nodes]

    def units(self) -> pd.DataFrame:
        t = self.table(UNITS, True, UNITS_COLUMNS)
        if t is None or "id" not in t.header:
            return pd.DataFrame(columns=["name_zh", "name_en"])
        loc = self.locator.sheets[key(UNITS)]
        ids: list[str] = []
        records: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        extra = [k for k in t.header if k not in ("id",)]
        for r in t.rows:
            raw_id = self.cell(t, r, "id")
            if raw_id is _UNSET:
                continue   # its error value is reported
            unit_id = text(raw_id)
            c = t.header["id"]
            if not unit_id:
                self.bad(t.grid.name, address(r, c), _("a Units row has no id"))
                continue
            norm = id_key(unit_id)
            if norm in seen:
                first = seen[norm]
                same = text(t.grid.values[first][c]) == unit_id
                self.bad(t.grid.name, address(r, c),
                         (_("unit id '{unit}' repeats '{other}' in {cell}: ids must be unique")
                          if same else
                          _("unit id '{unit}' differs only in case, width or spaces from '{other}' "
                            "in {cell}: ids must be unique")).format(
                             unit=unit_id, other=text(t.grid.values[first][c]),
                             cell=address(first, c)),
                         unit=unit_id)
                continue
            seen[norm] = r
            loc.rows[unit_id.lower()] = r
            ids.append(unit_id)
            rec: dict[str, Any] = {}
            for k in extra:
                v = self.cell(t, r, k)
                rec[k] = None if v is _UNSET else (v.strip() if isinstance(v, str) else v)
            for k in ("name_zh", "name_en"):
                rec[k] = text(rec.get(k))
            records.append(rec)
        frame = pd.DataFrame(records, index=pd.Index(ids, dtype=object, name="unit"),
                             columns=["name_zh", "name_en", *[k for k in extra
                                                               if k not in ("name_zh", "name_en")]])
        self._check_unit_names(t, frame)
        return frame

    def _check_unit_names(self, t: _Table, frame: pd.DataFrame) -> None:
        for col in ("name_zh", "name_en"):
            if col not in t.header:
                continue
            seen: dict[str, str] = {}
            for unit_id, name in frame[col].items():
                k = " ".join(str(name).split()).lower()
                if not k:
                    continue
                if k in seen:
                    r = self.locator.sheets[key(UNITS)].rows[str(unit_id).lower()]
                    self.bad(t.grid.name, address(r, t.header[col]),
                             _("unit {unit}: {column} '{name}' is also the {column} of unit "
                               "{other}; names must tell units apart (UDFs accept a unit by "
                               "name)").format(unit=unit_id, column=col, name=name,
                                               other=seen[k]),
                             unit=str(unit_id))
                else:
                    seen[k] = str(unit_id)
        if ALIASES_COLUMN in t.header:
            self._check_aliases(t, frame)

    def _check_aliases(self, t: _Table, frame: pd.DataFrame) -> None:
        """An alias must name one unit: one that is another unit's name or alias is a problem
        naming both rows (one that is another unit's id is the engine's, as any name's)."""
        from ..lookup import match_key, split_aliases

        rows = self.locator.sheets[key(UNITS)].rows
        owner: dict[str, tuple[str, str]] = {}   # match key -> (unit, what it is of that unit)
        for col in ("name_zh", "name_en"):
            for unit_id, name in frame[col].items():
                if str(name).strip():
                    owner.setdefault(match_key(str(name)), (str(unit_id), col))
        c = t.header[ALIASES_COLUMN]
        for unit_id, cell in frame[ALIASES_COLUMN].items():
            for alias in split_aliases(cell):
                k = match_key(alias)
                other, what = owner.setdefault(k, (str(unit_id), ALIASES_COLUMN))
                if other != str(unit_id):
                    r = rows[str(unit_id).lower()]
                    self.bad(t.grid.name, address(r, c), _(
                        "unit {unit}: alias '{alias}' is also the {what} of unit {other} (row "
                        "{other_row}): an alias must name one unit; remove it from one of the "
                        "two rows ({row} and {other_row})").format(
                            unit=unit_id, alias=alias, what=what, other=other,
                            other_row=rows[other.lower()] + 1, row=r + 1), unit=str(unit_id))

    def scores_sheet(self, wanted: str, units: pd.DataFrame, node_ids: list[str],
                     only_nodes: bool) -> pd.DataFrame | None:
        """Data or Given: ``unit`` + one numeric column per node id (+ ``published`` for Given)."""
        t = self.table(wanted, False, (UNIT_COLUMN,))
        if t is None or UNIT_COLUMN not in t.header:
            return None
        loc = self.locator.sheets[key(wanted)]
        by_key = {key(n): n for n in node_ids}
        columns: dict[str, str] = {}  # header key -> canonical column
        for k in t.header:
            if k in ("unit", YEAR_COLUMN):
                continue
            if k in by_key:
                columns[k] = by_key[k]
            elif k == PUBLISHED_COLUMN and wanted == GIVEN:
                columns[k] = PUBLISHED_COLUMN
        for k, canonical in columns.items():
            loc.cols[canonical.lower()] = t.header[k]
        if YEAR_COLUMN in t.header:   # a panel's years: formula mode reads them (per_year)
            loc.cols.setdefault(YEAR_COLUMN, t.header[YEAR_COLUMN])
        if wanted == DATA and only_nodes:
            ignored = [k for k in t.header if k not in ("unit", YEAR_COLUMN) and k not in columns]
            if ignored:
                self.notes.append(_("Sheet '{sheet}': column(s) {columns} are not indicator ids "
                                    "of the Framework: ignored").format(
                                        sheet=t.grid.name, columns=", ".join(ignored)))
        unit_ids = {id_key(u): str(u) for u in units.index}
        names: dict[str, str] = {}
        for col in ("name_zh", "name_en"):
            for u, n in units[col].items():
                if str(n).strip():
                    names.setdefault(" ".join(str(n).split()).lower(), str(u))
        index: list[str] = []
        years: list[int] = []
        panel = YEAR_COLUMN in t.header
        records: list[Sequence[float | None]] = []
        seen: dict[str, int] = {}
        log = self.value_logs.setdefault(key(wanted), ValueLog(t.grid.name))
        # translated once per sheet, not once per cell (a 3,000 × 200 sheet: 600,000 lookups)
        cell_label = (_("unit {unit}, indicator {node}") if wanted == DATA else
                      _("unit {unit}, node {node}"))
        plain_row = _plain_numbers([t.header[k] for k in columns], blanks=not t.grid.formulas)
        for r in t.rows:
            raw_unit = self.cell(t, r, "unit")
            given_id = text(raw_unit) if raw_unit is not _UNSET else ""
            c = t.header["unit"]
            if not given_id:
                self.bad(t.grid.name, address(r, c), _("row {row} of '{sheet}' has no unit "
                                                     "id").format(row=r + 1, sheet=t.grid.name))
                continue
            unit_id = unit_ids.get(id_key(given_id))
            if unit_id is None and key(UNITS) in self.missing:
                continue   # no Units sheet (already reported): no id can be checked
            if unit_id is None:
                by_name = names.get(" ".join(given_id.split()).lower())
                close = get_close_matches(given_id.lower(), list(unit_ids), n=1, cutoff=0.6)
                problem = (_("unit '{given}' is not an id in Units; that is the name of unit "
                             "'{unit}': use its id") if by_name else
                           _("unit '{given}' is not an id in Units; did you mean '{unit}'?")
                           if close else _("unit '{given}' is not an id in Units"))
                self.bad(t.grid.name, address(r, c), problem.format(
                    given=given_id, unit=by_name or (unit_ids[close[0]] if close else "")),
                         unit=given_id)
                continue
            row_key = unit_id.lower()
            if panel:
                year = self.year(t, r)
                if year is None:
                    continue
                row_key = panel_row_key(row_key, year)
                years.append(year)
            if row_key in seen:
                again = (_("unit '{unit}' has a second row in {year} here (first in row {row})")
                         if panel else
                         _("unit '{unit}' has a second row here (first in row {row})"))
                self.bad(t.grid.name, address(r, c), again.format(
                    unit=unit_id, year=year if panel else "", row=seen[row_key] + 1),
                         unit=unit_id)
                if panel:
                    years.pop()
                continue
            seen[row_key] = r
            loc.rows[row_key] = r
            index.append(unit_id)
            plain = plain_row(t.grid.values[r])
            records.append(plain if plain is not None else
                           [self.value(t, r, k, cell_label, log, unit_id, canonical)
                            for k, canonical in columns.items()])
        rows_index = (pd.MultiIndex.from_arrays([pd.Index(index, dtype=object), years],
                                                names=["unit", YEAR_COLUMN]) if panel
                      else pd.Index(index, dtype=object, name="unit"))
        values = np.array(records, dtype=float).reshape(len(records), len(columns))
        return pd.DataFrame(values, index=rows_index, columns=list(columns.values()))

    def year(self, t: _Table, r: int) -> int | None:
        """The ``year`` cell of a panel row: a whole number (a problem naming the cell if not)."""
        c = t.header[YEAR_COLUMN]
        v = self.cell(t, r, YEAR_COLUMN, "year")
        if v is _UNSET:
            return None
        n, _unit = parse_number(v)
        if n is None or not float(n).is_integer() or not 1 <= n <= 9999:
            shown = text(v) if v is not None and text(v) else _("blank")
            self.bad(t.grid.name, address(r, c),
                     _("year {value}: a year is a whole number such as 2021").format(value=shown))
            return None
        return int(n)

    def matrices(self, prefix: str, node_ids: list[str]) -> dict[str, pd.DataFrame]:
        """``AHP_<node>`` (square, ids in row 1 and column A) or ``Budget_<node>`` (expert rows)."""
        out: dict[str, pd.DataFrame] = {}
        by_key = {key(n): n for n in node_ids}
        for real in self.source.sheet_names():
            k = key(real)
            if not k.startswith(key(prefix) + "_"):
                continue
            node = by_key.get(k[len(prefix) + 1:])
            if node is None:
                self.notes.append(_("sheet '{sheet}' names no node of the Framework: "
                                    "ignored").format(sheet=real))
                continue
            grid = self.source.grid(real)
            if not grid.values:
                continue
            header = [text(v) for v in grid.values[0][1:]]
            rows, labels = [], []
            for r in range(1, len(grid.values)):
                row = grid.values[r]
                if not any(v is not None for v in row):
                    continue
                labels.append(text(row[0]))
                vals = []
                for c in range(1, len(header) + 1):
                    v = row[c] if c < len(row) else None
                    n, why = parse_number(v)
                    if n is None:
                        self.bad(real, address(r, c), why or _("blank: a number is needed"))
                    vals.append(n)
                rows.append(vals)
            cols = [by_key.get(key(h), h) for h in header]
            frame = pd.DataFrame(rows, columns=cols, dtype=float)
            if prefix == AHP_PREFIX:
                frame.index = pd.Index([by_key.get(key(label), label) for label in labels])
            out[node] = frame
        return out


_UNSET: Any = object()


def _known(v: Any) -> Any:
    """A cell value, or None for one whose error value or missing cached value is reported."""
    return None if v is _UNSET else v


def id_key(value: Any) -> str:
    """How ids are told apart: text, Unicode-compatibility normalised (full-width ``ａ`` is
    ``a``), spaces collapsed, case-insensitive."""
    return " ".join(unicodedata.normalize("NFKC", text(value)).split()).casefold()


def _check_values(reader: _Reader, units: pd.DataFrame, nodes: list[Node],
                  data: pd.DataFrame | None, given: pd.DataFrame | None) -> None:
    """Notes and problems on Data's and Given's values that need their cells: the cells read
    as missing because of their text (one note a sheet), percentages among values on another
    scale (problems), and values a unit error may have put 100 times away from the rest (notes,
    Data only)."""
    labels = {n.id: n.label for n in nodes}

    def unit_label(unit: str) -> str:
        name = str(units.at[unit, "name_zh"] or units.at[unit, "name_en"] or "") \
            if unit in units.index else ""
        return f"{unit} ({name})" if name and name != unit else unit

    def node_label(node: str) -> str:
        return labels.get(node, node)

    for sheet, frame in ((DATA, data), (GIVEN, given)):
        log = reader.value_logs.get(key(sheet))
        if log is None or frame is None:
            continue
        note = marker_note(log)
        if note:
            reader.notes.append(note)
        reader.problems.extend(mixed_scale_problems(log, frame, unit_label, node_label))
    if data is not None and key(DATA) in reader.locator.sheets:
        loc = reader.locator.sheets[key(DATA)]

        def cell(unit: str, column: str) -> str:
            return address(loc.rows[unit.lower()], loc.cols[column.lower()])

        reader.notes.extend(unit_error_notes(loc.name, data, list(data.columns), cell,
                                             unit_label, node_label))


def read_model(source: BookSource) -> tuple[IndexModel, Locator, list[str]]:
    """Read every input sheet of ``source`` into an :class:`IndexModel`.

    Returns the model, the locator (to place the engine's problems in cells) and notes (text
    read as numbers, columns ignored). Raises :class:`ProblemsFound` with every problem found
    in the sheets, each naming its sheet and cell.
    """
    reader = _Reader(source)
    raw_settings = reader.settings()
    # the workbook's language governs every message about it from here on (unless --lang)
    set_workbook_language(normalise_language(text(raw_settings.get("language"))) or None)
    settings, setting_problems, setting_notes = parse_settings(raw_settings)
    reader.markers = {marker_key(m) for m in settings.missing_markers if m.strip()}
    setting_problems += sheet_name_problems(settings)   # sheet_charts…: names the book takes
    reader.notes.extend(setting_notes)
    nodes = reader.framework()
    units = reader.units()
    node_ids = [n.id for n in nodes]
    leaves = [n.id for n in nodes if n.id not in {m.parent for m in nodes}]
    data = reader.scores_sheet(DATA, units, leaves, True) if settings.input == "data" else None
    given = reader.scores_sheet(GIVEN, units, node_ids, False)
    ahp = reader.matrices(AHP_PREFIX, node_ids)
    budgets = reader.matrices(BUDGET_PREFIX, node_ids)
    _check_values(reader, units, nodes, data, given)
    problems = reader.problems + [reader.locator.locate(p) for p in setting_problems]
    model = IndexModel(tuple(nodes), settings, units, data, given, ahp, budgets)
    if problems:
        # Also report what the engine's static checks see (weights, tree, methods), so one run
        # lists every problem; a cell already reported keeps its first (more specific) problem.
        from ..panel import is_panel, panel_years, year_model
        from ..pipeline import check_model

        # a panel's static checks are a year's (every year has the same tree and settings)
        checked = model
        if is_panel(data if settings.input == "data" else given) and \
                len(data if settings.input == "data" else given):  # type: ignore[arg-type]
            checked = year_model(model, panel_years(model)[-1])
        _tree, more, _notes = check_model(checked)
        seen = {(p.sheet, p.cell) for p in problems if p.cell}
        for p in (reader.locator.locate(m) for m in more):
            if key(p.sheet) in reader.missing:
                continue   # consequences of a missing sheet, already reported
            if not p.cell or (p.sheet, p.cell) not in seen:
                problems.append(p)
                seen.add((p.sheet, p.cell))
        raise ProblemsFound(problems)
    return model, reader.locator, reader.notes


def _plain_numbers(cols: list[int], blanks: bool
                   ) -> Callable[[Sequence[Any]], Sequence[float | None] | None]:
    """A function giving a row's cells in columns ``cols`` when every one is a plain finite
    number or (``blanks``: the sheet has no formula, whose cell may be blank for want of a
    stored value) blank, which is what :meth:`_Reader.value` returns for them; else None, and
    the row is read cell by cell. Tells a row at once (issue 20: a 3,000 × 200 Data sheet is
    600,000 cells, nearly all of them plain numbers or blanks)."""
    if not cols:
        return lambda row: ()
    pick = itemgetter(*cols)
    last = max(cols)
    allowed = {float, type(None)} if blanks else {float}

    def plain(row: Sequence[Any]) -> Sequence[float | None] | None:
        if len(row) <= last:
            return None
        cells = pick(row) if len(cols) > 1 else (row[cols[0]],)
        kinds = set(map(type, cells))
        if not kinds <= allowed:
            return None
        total = sum(cells) if kinds == {float} else sum([v for v in cells if v is not None])
        return cells if total - total == 0.0 else None   # NaN or ±inf somewhere: one by one

    return plain
