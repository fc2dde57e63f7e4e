"""What the formula-mode builder knows while it writes the result sheets
(:class:`FormulaState`): the result, where the units are on the input sheets
(:class:`InputRows`), the Scores layout, and the names, Calc columns, CalcStats rows, input
cells read and problems found so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import Problem
from ...model import IndexResult
from ...tree import IndicatorTree, build_tree
from ..read import Locator
from ..results import score_columns
from ..sheetspec import Cell
from .refs import Names, column_range

if TYPE_CHECKING:
    from .panel import PanelLayout


@dataclass
class InputRows:
    """Where the units are on an input sheet: its name, the first and last grid row of the
    unit rows, each unit's position (1-based) within them, and its columns by key."""

    sheet: str
    first: int
    last: int
    pos: dict[str, int]
    cols: dict[str, int]

    def range(self, key: str) -> tuple[int, str]:
        """Column ``key`` (any case): its index and the absolute reference of its unit rows."""
        col = self.cols[key.lower()]
        return col, column_range(self.sheet, col, self.first, self.last)


def input_rows(locator: Locator, sheet: str, units: Sequence[str]) -> InputRows | None:
    """Where ``units`` are on input ``sheet`` (None when the sheet or every unit is absent)."""
    loc = locator.sheets.get(sheet.lower())
    if loc is None:
        return None
    grid_rows = {u: loc.rows[u.lower()] for u in units if u.lower() in loc.rows}
    if not grid_rows:
        return None
    first, last = min(grid_rows.values()), max(grid_rows.values())
    return InputRows(loc.name, first, last, {u: r - first + 1 for u, r in grid_rows.items()},
                 dict(loc.cols))


class FormulaState:
    """The formula-mode builder's state: ``result`` and where its inputs are (``locator``);
    ``numeric_check``: check that the input cells the formulas read hold numbers (in the
    workbook file ``source``)."""

    def __init__(self, result: IndexResult, locator: Locator, numeric_check: bool,
                 source: Path | None, panel: PanelLayout | None = None):
        self.result = result
        #: a panel's layout (:mod:`.panel`; ``result`` is then the unit-years stacked)
        self.panel = panel
        self.model = result.model
        self.settings = self.model.settings
        self.locator = locator
        self.source = source
        self.numeric_check = numeric_check
        tree, problems = build_tree(self.model.nodes)
        assert tree is not None and not problems
        self.tree: IndicatorTree = tree
        self.units = [str(u) for u in result.scores.index]
        self.n = len(self.units)
        self.names = Names()
        self.problems: list[Problem] = []
        self.reweight = self.settings.missing == "reweight"
        self.missing = '""' if self.reweight else "NA()"
        self.root = self.tree.root.id
        # Scores layout
        self.score_cols = score_columns(result)
        # unit, name_zh, name_en (a panel: unit, year, name_zh, name_en), then the nodes
        lead = 3 if panel is None else 4
        self.col_of = {node: lead + i for i, node in enumerate(self.score_cols)}
        self.coverage_col = lead + len(self.score_cols)
        self.data = input_rows(locator, "data", self.units) if self.settings.input == "data" else None
        self.given = input_rows(locator, "given", self.units)
        self.unit_rows = input_rows(locator, "units", self.units)
        self.calc_cols: list[str] = []          # leaves with a Calc column, Framework order
        self.stats_rows: list[list[Cell]] = []  # CalcStats, one row per normalised indicator
        self.calc_cells: dict[str, list[Cell]] = {}
        self.text_cells: list[tuple[str, int, int, str, str]] = []   # sheet, r, c, unit, node

    # ---- names ----
    def scores_ref(self, col: int) -> str:
        """Absolute reference of Scores column ``col`` (0-based), the unit rows."""
        return column_range("Scores", col, 1, self.n)

    def data_name(self, leaf: str) -> tuple[str, int]:
        """The defined name of an indicator's Data column, and that column."""
        assert self.data is not None
        col, ref = self.data.range(leaf)
        self.note_cells(self.data, col, leaf)
        return self.names.add("data", leaf, ref), col

    def given_name(self, node: str) -> str:
        """The defined name of a node's Given column."""
        assert self.given is not None
        col, ref = self.given.range(node)
        self.note_cells(self.given, col, node)
        return self.names.add("given", node, ref)

    def note_cells(self, rows: InputRows, col: int, node: str) -> None:
        """Remember the unit cells of column ``col`` of ``rows`` as read by the formulas."""
        for u, k in rows.pos.items():
            self.text_cells.append((rows.sheet, rows.first + k - 1, col, u, node))
