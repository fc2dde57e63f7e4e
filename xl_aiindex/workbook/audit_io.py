"""``xl-aiindex audit``: read a workbook, audit its index (:mod:`xl_aiindex.audit`) and write the
``Audit`` result sheet (one row per node below the root)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..audit import Audit, audit
from ..model import IndexResult
from .io import Loaded, compute, load_workbook
from .results import AUDIT_SHEET
from .sheetspec import HEADER, INTEGER, PRECISE, TEXT, Cell, SheetSpec, Style
from .writer import Update, update_workbook

_TEXT = {"node", "parent", "name"}
_INTEGER = {"depth", "n", "missing"}
_WIDTHS = {"node": 16.0, "parent": 16.0, "name": 18.0, "flags": 90.0, "needs_treatment": 16.0,
           "weight_in_total": 16.0, "group_pc1_share": 16.0}


def _value(v: object) -> str | float | int | bool | None:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str | float | int | bool):
        return v
    return str(v)


def audit_sheet(report: Audit) -> SheetSpec:
    """The Audit sheet: :attr:`Audit.table`, flags (if any) in the last column."""
    table = report.table
    cols = list(table.columns)
    rows: list[list[Cell]] = [[Cell(c, style=HEADER) for c in cols]]
    for rec in table.itertuples(index=False):
        row = []
        for c, v in zip(cols, rec, strict=True):
            style: Style | None = PRECISE
            if c == "flags":
                style = Style(wrap=True)
            elif c in _TEXT:
                style = TEXT
            elif c in _INTEGER:
                style = INTEGER
            elif isinstance(_value(v), bool):
                style = None
            row.append(Cell(_value(v), style=style))
        rows.append(row)
    widths = {i: _WIDTHS.get(c, max(10.0, len(c) + 2.0)) for i, c in enumerate(cols)}
    return SheetSpec(AUDIT_SHEET, rows, widths, freeze=(1, 1))


def audit_file(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None,
               write: bool = True, *, force: bool = False, year: int | None = None
               ) -> tuple[IndexResult, Audit]:
    """Audit the workbook at ``src``; with ``write``, write the Audit sheet to ``dst`` (None: in
    place) through the one write path (:func:`~xl_aiindex.workbook.writer.update_workbook`):
    atomically, every other sheet kept, one Log row; a sheet ``Audit`` the tool did not write
    (or cells of it edited by hand) is refused unless ``force``. Raises what ``recalc`` raises
    on bad inputs and refused destinations. ``year``: the year of a panel to audit (None: the
    latest; :func:`~xl_aiindex.workbook.book.for_year`)."""
    src_path = Path(src)
    if not write:
        result = compute(load_workbook(src_path), year)
        return result, audit(result)

    def build(loaded: Loaded) -> Update[tuple[IndexResult, Audit]]:
        result = compute(loaded, year)
        report = audit(result)
        notes = loaded.notes + result.notes
        entry = {"input": loaded.model.settings.input, "units": int(len(result.scores)),
                 "status": "ok", "notes": "; ".join(notes)}
        return Update((result, report), [audit_sheet(report)], entry)

    return update_workbook(src_path, dst, build, command="audit", force=force)
