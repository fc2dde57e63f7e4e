"""What makes a workbook unfit for formula mode: input cells the formulas read holding text,
and formulas longer than Excel allows; each found is a :class:`Problem` on the state."""

from __future__ import annotations

from typing import Any

from ...contract import MAX_FORMULA
from ...errors import Problem
from ..cells import address
from ..sheetspec import SheetSpec
from .state import FormulaState


def check_numbers(state: FormulaState) -> None:
    """Input cells the formulas read must hold numbers (or be blank): the engine reads
    text such as "1,234" as a number, a formula does not."""
    if state.source is None or not state.text_cells:
        return
    from ..source import OpenpyxlSource

    src = OpenpyxlSource(state.source)
    try:
        grids: dict[str, list[list[Any]]] = {}
        seen: set[tuple[str, int, int]] = set()
        for sheet, r, c, unit, node in state.text_cells:
            if (sheet, r, c) in seen:
                continue
            seen.add((sheet, r, c))
            if sheet not in grids:
                grids[sheet] = src.grid(sheet).values
            values = grids[sheet]
            v = values[r][c] if r < len(values) and c < len(values[r]) else None
            if isinstance(v, str) and v.strip():
                state.problems.append(Problem(
                    sheet, address(r, c), unit, node,
                    f"holds the text '{v.strip()}', which the formulas of output = formulas "
                    "cannot read as a number: type it as a number (or use output = values)"))
    finally:
        src.close()


def check_lengths(state: FormulaState, spec: SheetSpec) -> None:
    """A formula of ``spec`` longer than Excel allows is a problem (the first one found)."""
    for r, row in enumerate(spec.rows):
        for c, cell in enumerate(row):
            if cell.formula is not None and len(cell.formula) + 1 > MAX_FORMULA:
                node = str(spec.rows[0][c].value)
                state.problems.append(Problem(
                    "Framework", "", "", node,
                    f"output = formulas: the formula of {spec.name}!{address(r, c)} (node "
                    f"{node}) would have {len(cell.formula) + 1:,} characters, more than "
                    f"Excel's {MAX_FORMULA:,}; use output = values", field="id"))
                return
