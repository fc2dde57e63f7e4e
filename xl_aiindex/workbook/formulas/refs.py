"""Formula text: constants, sheet references, the cells written, and the ``xlai_`` defined
names (:class:`Names`). Pure text: nothing here reads or writes a workbook."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..cells import column_letter
from ..ooxml import OWNED_PREFIX
from ..sheetspec import Cell

#: Functions a formula of this module may call (all evaluated by Excel 2010+ and LibreOffice 7.4).
FUNCTIONS = ("AND", "CHOOSE", "COUNT", "COUNTIF", "EXP", "IF", "INDEX", "ISNUMBER", "LN", "MATCH", "MAX",
             "MIN", "N", "NA", "RANK", "ROUND", "AVERAGE", "_xlfn.RANK.AVG", "_xlfn.STDEV.S",
             # panels (formulas/panel.py): ranks and counts within a year, per-year statistics
             # (MINIFS, MAXIFS: Excel 2019 / Microsoft 365, LibreOffice 5.2), Trends lookups
             "COUNTIFS", "IFERROR", "_xlfn.MINIFS", "_xlfn.MAXIFS")

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.]")

def num(v: float) -> str:
    """A constant as formula text: ``100``, ``0.25``, ``1.5E-07``, ``(-2)``."""
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"not a finite number: {v}")
    text = str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v).upper()
    return f"({text})" if v < 0 else text


def quote_sheet(name: str) -> str:
    """``'Data'``: a sheet name as a reference prefix (always quoted, quotes doubled)."""
    return "'" + name.replace("'", "''") + "'"


def column_range(sheet: str, col: int, first: int, last: int) -> str:
    """Absolute reference of 0-based column ``col``, 0-based grid rows ``first``..``last``."""
    c = column_letter(col)
    return f"{quote_sheet(sheet)}!${c}${first + 1}:${c}${last + 1}"


def block_range(sheet: str, col0: int, col1: int, first: int, last: int) -> str:
    """Absolute reference of a block of columns ``col0``..``col1`` (0-based, inclusive)."""
    return (f"{quote_sheet(sheet)}!${column_letter(col0)}${first + 1}:"
            f"${column_letter(col1)}${last + 1}")


def count_args(refs: Sequence[str]) -> str:
    """``COUNT(a,b,…)``, split into sums of COUNTs of at most 255 arguments."""
    parts = [f"COUNT({','.join(refs[i:i + 255])})" for i in range(0, len(refs), 255)]
    return "+".join(parts) if len(parts) == 1 else "(" + "+".join(parts) + ")"


def cached(v: Any) -> Any:
    """The cached value of a formula cell: the engine's number, or ``""`` for a blank result."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or v is pd.NA:
        return ""
    if hasattr(v, "item"):
        return v.item()
    return v


def with_value(cell: Cell, value: Any, formula: str | None = None) -> Cell:
    """``cell`` with another value and formula (style and link kept)."""
    return Cell(value, formula=formula, style=cell.style, link=cell.link)


class Names:
    """Allocates the defined names (unique case-insensitively, valid in Excel) and their
    references."""

    def __init__(self) -> None:
        self.refs: dict[str, str] = {}
        self._by_key: dict[tuple[str, str], str] = {}
        self._taken: set[str] = set()

    def add(self, kind: str, ident: str, ref: str) -> str:
        """The name of ``kind`` + ``ident`` (``xlai_data_I01``), referring to ``ref``."""
        key = (kind, ident)
        if key in self._by_key:
            name = self._by_key[key]
            self.refs[name] = ref
            return name
        base = OWNED_PREFIX + (f"{kind}_" if kind else "") + _NAME_CHARS.sub("_", ident)
        base = base[:240]
        name, i = base, 2
        while name.lower() in self._taken:
            name, i = f"{base}_{i}", i + 1
        self._taken.add(name.lower())
        self._by_key[key] = name
        self.refs[name] = ref
        return name

    def get(self, kind: str, ident: str) -> str:
        """A name added before."""
        return self._by_key[(kind, ident)]
