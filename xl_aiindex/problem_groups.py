"""A long list of problems of one kind, told in a few lines (the terminal's listing).

A freshly made workbook has every Data cell empty: 31 units × 15 indicators are 465 problems of
the same kind, and 465 lines hide anything else that is wrong. The terminal prints a group of
more than :data:`GROUP_LIMIT` problems of one kind as its first few problems and one line with
the count and the cells; ``validate --json`` and the Problems sheet keep every problem, one
each.

Problems are of one kind when their :attr:`~xl_aiindex.errors.Problem.kind` says so (missing
values), else when their sentences differ only in the unit, node, cell, quoted values, numbers
and parenthesised names they mention (:func:`signature`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import MISSING_VALUE, Problem, one_line
from .i18n import _

#: A group of more problems of one kind than this is told in a few lines.
GROUP_LIMIT = 10
#: How many problems of a long group are printed in full.
SHOWN = 3
#: How many cells of a long group are named.
CELLS_NAMED = 8

_PARENTHESISED = re.compile(r"\([^()]*\)|（[^（）]*）")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|‘[^’]*’")
_NUMBER = re.compile(r"[-+]?\d[\d.,]*(?:[eE][-+]?\d+)?%?")


def signature(p: Problem) -> tuple[str, str]:
    """What a problem says with what it says it of left out: ``(sheet, wording)``; two problems
    with the same signature are of one kind.

    >>> a = Problem("Data", "B2", "bj", "i01", "unit bj (北京) has no value for i01 (宽带)")
    >>> b = Problem("Data", "C9", "sh", "i02", "unit sh (上海) has no value for i02 (5G)")
    >>> signature(a) == signature(b), signature(a)
    (True, ('Data', 'unit ∙ has no value for ∙'))
    """
    if p.kind:
        return p.sheet, p.kind
    text = p.problem
    for token in sorted({p.unit, p.node, p.cell} - {""}, key=len, reverse=True):
        text = text.replace(token, "∙")
    text = _PARENTHESISED.sub(" ", text)
    text = _QUOTED.sub("∙", text)
    return p.sheet, " ".join(_NUMBER.sub("#", text).split())


def grouped_lines(problems: Sequence[Problem]) -> list[str]:
    """The lines listing ``problems``: one a problem, except that a kind with more than
    :data:`GROUP_LIMIT` problems gets its first :data:`SHOWN` and one line counting the rest
    (missing values: one line saying how many cells of how many units and indicators)."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault(signature(p), []).append(p)
    lines: list[str] = []
    told: set[tuple[str, str]] = set()
    for p in problems:
        sig = signature(p)
        group = groups[sig]
        if len(group) <= GROUP_LIMIT:
            lines.append(one_line(str(p)))
            continue
        if sig in told:
            continue
        told.add(sig)
        if p.kind == MISSING_VALUE:
            lines.append(_missing_line(group))
            continue
        lines.extend(one_line(str(q)) for q in group[:SHOWN])
        lines.append(str(Problem(p.sheet, problem=_(
            "… and {count} more like these ({cells}; validate --json lists every one)").format(
                count=len(group) - SHOWN, cells=_cells(group[SHOWN:])))))
    return lines


def _cells(group: Sequence[Problem]) -> str:
    """``cells B2, B3, … (465 cells)``: the first cells of a group, and how many there are."""
    cells = [q.cell for q in group if q.cell]
    if not cells:
        return _("no cell")
    named = ", ".join(cells[:CELLS_NAMED]) + (", …" if len(cells) > CELLS_NAMED else "")
    return _("cells {cells}").format(cells=named)


def _missing_line(group: Sequence[Problem]) -> str:
    """One line for many missing values, as a problem's line: ``Sheet 'Data': 465 empty
    cells: fill in 31 units × 15 indicators …`` when every value of those units and indicators
    is missing, else the count, the units and indicators concerned and the first cells."""
    sheet = group[0].sheet
    units = list(dict.fromkeys(q.unit for q in group))
    nodes = list(dict.fromkeys(q.node for q in group))
    remedy = _("or set 'missing' to reweight or an imputation method (mean, median, "
               "group_mean:COLUMN…)")
    if len(units) * len(nodes) == len(group):
        text = _("{count} empty cells: fill in {units} units × {nodes} indicators ({first} to "
                 "{last}), {remedy}").format(
            count=len(group), units=len(units), nodes=len(nodes),
            first=group[0].cell or units[0], last=group[-1].cell or units[-1], remedy=remedy)
    else:
        text = _("{count} empty cells ({units} units, {nodes} indicators; {cells}): fill them "
                 "in, {remedy}").format(count=len(group), units=len(units), nodes=len(nodes),
                                        cells=_cells(group), remedy=remedy)
    return str(Problem(sheet, problem=text))


_CELL = re.compile(r"\b[A-Z]{1,3}[0-9]{1,7}\b")


def note_signature(note: str) -> str:
    """What a note says with its cells, quoted values and numbers left out; two notes with the
    same signature are of one kind.

    >>> note_signature("Sheet 'Framework', cell E3: text '30%' read as the number 0.3")
    'Sheet ∙, cell ∙: text ∙ read as the number #'
    """
    text = _QUOTED.sub("∙", note)
    text = _CELL.sub("∙", text)
    return " ".join(_NUMBER.sub("#", text).split())


def grouped_notes(notes: Sequence[str]) -> list[str]:
    """The notes, one a line, except that a kind with more than :data:`GROUP_LIMIT` notes gets
    its first :data:`SHOWN` and one line counting the rest and naming their cells."""
    groups: dict[str, list[str]] = {}
    for n in notes:
        groups.setdefault(note_signature(n), []).append(n)
    lines: list[str] = []
    told: set[str] = set()
    for n in notes:
        sig = note_signature(n)
        group = groups[sig]
        if len(group) <= GROUP_LIMIT:
            lines.append(n)
            continue
        if sig in told:
            continue
        told.add(sig)
        lines.extend(group[:SHOWN])
        cells = [m.group() for q in group[SHOWN:] for m in [_CELL.search(_QUOTED.sub("", q))] if m]
        named = ", ".join(cells[:CELLS_NAMED]) + (", …" if len(cells) > CELLS_NAMED else "")
        lines.append(_("… and {count} more like these ({cells})").format(
            count=len(group) - SHOWN, cells=_("cells {cells}").format(cells=named) if cells
            else _("no cell")))
    return lines
