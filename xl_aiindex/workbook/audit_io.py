"""``xl-aiindex audit``: read a workbook, audit its index (:mod:`xl_aiindex.audit`) and write the
``Audit`` result sheet (one row per node below the root)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..audit import Audit, audit
from ..model import IndexResult
from .io import compute, load_workbook, workbook_lock, write_sheets
from .results import AUDIT_SHEET
from .sheetspec import HEADER, INTEGER, PRECISE, TEXT, Cell, SheetSpec, Style

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
               write: bool = True) -> tuple[IndexResult, Audit]:
    """Audit the workbook at ``src``; with ``write``, write the Audit sheet to ``dst`` (None: in
    place), atomically, every other sheet kept. Raises what ``recalc`` raises on bad inputs."""
    src_path = Path(src)
    dst_path = Path(dst) if dst is not None else src_path
    if not write:
        result = compute(load_workbook(src_path))
        return result, audit(result)
    dst_path.parent.mkdir(parents=True, exist_ok=True)   # the lock file goes beside it
    with workbook_lock(dst_path):
        result = compute(load_workbook(src_path))
        report = audit(result)
        write_sheets(src_path, dst_path, [audit_sheet(report)])
    return result, report
