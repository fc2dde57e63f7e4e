"""A result sheet described independently of any writer (openpyxl, OOXML splice, xlwings).

The result-sheet builders (:mod:`xl_aiindex.workbook.results`) produce :class:`SheetSpec`;
each writer renders it. Keeping the description apart lets the headless CLI, the Excel macros
and the surgical writer produce the same cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

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
        return max((len(r) for r in self.rows), default=0)


HEADER = Style(bold=True, fill="1F4E78", font_color="FFFFFF", wrap=True, align="center",
               border_bottom=True)
TEXT = Style()
NUMBER = Style(num_format="0.00")
PRECISE = Style(num_format="0.0000")
INTEGER = Style(num_format="0")
PERCENT = Style(num_format="0%")

#: Tier fills, best first (green, amber, orange, then greys); more tiers reuse the last.
TIER_FILLS = ("C6EFCE", "FFEB9C", "F8CBAD", "D9D9D9", "EDEDED", "F2F2F2")


def tier_style(base: Style, tier: int) -> Style:
    """``base`` with the fill of tier ``tier`` (1-based); unchanged for 0 (no tier)."""
    if tier <= 0:
        return base
    fill = TIER_FILLS[min(tier, len(TIER_FILLS)) - 1]
    return Style(base.num_format, base.bold, fill, base.font_color, base.wrap, base.align,
                 base.border_bottom)
