"""A result sheet described independently of any writer (openpyxl, OOXML splice, xlwings).

The result-sheet builders (:mod:`xl_aiindex.workbook.results`) produce :class:`SheetSpec`;
each writer renders it. Keeping the description apart lets the headless CLI, the Excel macros
and the surgical writer produce the same cells.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

from .charts import Drawing

CellValue = str | float | int | bool | None


@dataclass(frozen=True)
class Style:
    """How a cell looks. Hashable, so writers can cache one format per distinct style."""

    num_format: str = "General"
    bold: bool = False
    fill: str | None = None          # "RRGGBB"
    font_color: str | None = None    # "RRGGBB"
    wrap: bool = False
    align: str | None = None         # "left" | "center" | "right"
    border_bottom: bool = False
    indent: int = 0                  # characters of indent (left- or right-aligned text)


class Cell(NamedTuple):
    """One cell: a value (text is always written as text, never as a formula), an optional
    formula (without the leading ``=``) whose cached value is ``value``, a style and an
    optional link to a cell of the workbook (``"'Data'!D5"``).

    A named tuple rather than a dataclass: result sheets hold up to millions of cells, and a
    tuple is several times cheaper to build.
    """

    value: CellValue
    formula: str | None = None
    style: Style | None = None
    link: str | None = None


@dataclass(frozen=True)
class Column:
    """One column of a :class:`ColumnRows` table: its values below the header (a float array:
    NaN and ±inf give blank cells; or a sequence of plain cell values) and the style of every
    cell, or of each row when ``styles`` is given."""

    values: Any
    style: Style | None = None
    styles: Sequence[Style | None] | None = None


_new = tuple.__new__


class ColumnRows(Sequence[Sequence[Cell]]):
    """The rows of a big table held by column (a header row, then equal-length
    :class:`Column` s): no :class:`Cell` exists until a row is asked for, and the surgical writer
    formats each column at once. Reads as the list of rows it stands for (header first)."""

    def __init__(self, header: Sequence[Cell], columns: Sequence[Column]) -> None:
        lengths = {len(c.values) for c in columns}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        if len(header) != len(columns):
            raise ValueError(f"{len(header)} header cells for {len(columns)} columns")
        self.header = list(header)
        self.columns = list(columns)
        self.body_rows = lengths.pop() if lengths else 0

    def __len__(self) -> int:
        return 1 + self.body_rows

    def _row(self, i: int) -> list[Cell]:
        if i == 0:
            return list(self.header)
        out = []
        for col in self.columns:
            v = self._plain(col.values[i - 1])
            out.append(Cell(v, style=col.style if col.styles is None else col.styles[i - 1]))
        return out

    @overload
    def __getitem__(self, i: int) -> list[Cell]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[Cell]]: ...

    def __getitem__(self, i: int | slice) -> list[Cell] | list[list[Cell]]:
        if isinstance(i, slice):
            return [self._row(k) for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._row(i)

    def __iter__(self) -> Iterator[list[Cell]]:
        yield list(self.header)
        step = 1024   # rows made at a time: each column converted at once, memory bounded
        for lo in range(0, self.body_rows, step):
            hi = min(lo + step, self.body_rows)
            cols = []
            for col in self.columns:
                part = col.values[lo:hi]
                values = part.tolist() if hasattr(part, "tolist") else list(part)
                if getattr(getattr(part, "dtype", None), "kind", "") == "f":
                    values = [v if math.isfinite(v) else None for v in values]
                else:
                    values = [self._plain(v) for v in values]
                styles = col.styles[lo:hi] if col.styles is not None else [col.style] * (hi - lo)
                # tuple.__new__: a Cell without the keyword handling of Cell(...), 2× faster
                cols.append([_new(Cell, (v, None, st, None))
                             for v, st in zip(values, styles, strict=True)])
            yield from (list(r) for r in zip(*cols, strict=True))

    @staticmethod
    def _plain(v: Any) -> Any:
        if hasattr(v, "item"):   # numpy scalar
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        return v


@dataclass(frozen=True)
class SheetSpec:
    """A whole result sheet: one table, header in row 1."""

    name: str
    rows: Sequence[Sequence[Cell]]                   # row 1 (the header) first
    widths: Mapping[int, float] = field(default_factory=dict)   # 0-based column -> width (chars)
    freeze: tuple[int, int] = (1, 0)                 # rows, columns frozen
    autofilter: bool = True
    tab_color: str | None = None
    header_notes: Mapping[int, str] = field(default_factory=dict)  # 0-based column -> comment text
    #: native charts on the sheet (:mod:`~xl_aiindex.workbook.charts`): None keeps whatever
    #: drawing the sheet has (a user's chart on a result sheet survives); a Drawing replaces
    #: it, or is kept byte for byte when the parts are unchanged; an empty Drawing removes it
    drawing: Drawing | None = None

    @property
    def n_cols(self) -> int:
        """Width of the table."""
        if isinstance(self.rows, ColumnRows):
            return len(self.rows.columns)
        return max((len(r) for r in self.rows), default=0)


#: The one header style of every result sheet.
HEADER = Style(bold=True, fill="1F4E78", font_color="FFFFFF", wrap=True, align="center",
               border_bottom=True)
#: Text, indented one character: a gap after a right-aligned number to its left (``1 beijing``
#: would read as one string).
TEXT = Style(align="left", indent=1)
#: Text that wraps within its column (problems, notes, flags).
WRAPPED = Style(wrap=True, align="left", indent=1)
#: Scores at the default two decimals (a workbook's own: :func:`~xl_aiindex.workbook.
#: result_cells.score_style`).
NUMBER = Style(num_format="0.00")
#: Statistics (skewness, correlations, Sobol' indices).
PRECISE = Style(num_format="0.0000")
#: Ranks, counts, tiers.
INTEGER = Style(num_format="0")
#: Percentages.
PERCENT = Style(num_format="0%")
#: Probabilities and shares (99.9 % is not 100 %).
PROBABILITY = Style(num_format="0.0%")
#: Weights.
WEIGHT = Style(num_format="0.000")

#: Tier fills, best first (green, amber, orange, then greys); more tiers reuse the last.
TIER_FILLS = ("C6EFCE", "FFEB9C", "F8CBAD", "D9D9D9", "EDEDED", "F2F2F2")


@functools.lru_cache(maxsize=1024)
def tier_style(base: Style, tier: int) -> Style:
    """``base`` with the fill of tier ``tier`` (1-based); unchanged for 0 (no tier)."""
    if tier <= 0:
        return base
    fill = TIER_FILLS[min(tier, len(TIER_FILLS)) - 1]
    return Style(base.num_format, base.bold, fill, base.font_color, base.wrap, base.align,
                 base.border_bottom, base.indent)
