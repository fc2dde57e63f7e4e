"""``xl-aiindex audit``: read a workbook, audit its index (:mod:`xl_aiindex.audit`) and write the
``Audit`` result sheet (one row per node below the root)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..audit import Audit, audit
from ..errors import Problem
from ..model import IndexResult
from .io import Loaded, compute, load_workbook
from .result_cells import _TEXT_WIDTHS, _header, column_style, fit, yes_no
from .results import AUDIT_SHEET
from .sheetspec import TEXT, WRAPPED, Cell, SheetSpec
from .writer import Update, update_workbook


def _value(v: object) -> str | float | int | bool | None:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str | float | int | bool):
        return v
    return str(v)


def audit_sheet(report: Audit) -> SheetSpec:
    """The Audit sheet: :attr:`Audit.table`, flags (if any) in the last column; yes/no columns
    (``indicator``, ``needs_treatment``) as yes or no in the workbook's language, never a
    TRUE/FALSE beside numbers."""
    table = report.table
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    styles = {c: WRAPPED if c == "flags" else column_style(c) for c in cols}
    for rec in table.itertuples(index=False):
        row = []
        for c, v in zip(cols, rec, strict=True):
            value = _value(v)
            if isinstance(value, bool):
                row.append(Cell(yes_no(value), style=TEXT))
            else:
                row.append(Cell(value, style=styles[c]))
        rows.append(row)
    return SheetSpec(AUDIT_SHEET, rows, fit(rows, cols, _TEXT_WIDTHS), freeze=(1, 1))


def _cells(loaded: Loaded) -> Callable[[str, str], str]:
    """``(unit, indicator) -> 'Data!G12'``: where a raw value is (blank when unknown)."""
    def where(unit: str, node: str) -> str:
        p = loaded.locator.locate(Problem("Data", unit=unit, node=node, field=node))
        return f"{p.sheet}!{p.cell}" if p.cell else ""
    return where


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
        loaded = load_workbook(src_path)
        result = compute(loaded, year)
        return result, audit(result, _cells(loaded))

    def build(loaded: Loaded) -> Update[tuple[IndexResult, Audit]]:
        result = compute(loaded, year)
        report = audit(result, _cells(loaded))
        notes = loaded.notes + result.notes
        entry = {"input": loaded.model.settings.input, "units": int(len(result.scores)),
                 "status": "ok", "notes": "; ".join(notes)}
        return Update((result, report), [audit_sheet(report)], entry)

    return update_workbook(src_path, dst, build, command="audit", force=force)
