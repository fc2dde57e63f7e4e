"""Checks of the Data sheet's values that need their cells: texts read as missing values,
percentages among values on another scale, and likely unit errors.

:class:`ValueLog` is filled while a Data or Given sheet is read (:mod:`.read`); the functions
below turn it, and the frame read, into notes and problems that name the unit, the indicator
and the cell.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from ..errors import Problem
from ..i18n import _
from ..scale import columns_to_check, scale_outliers

#: How many cells a note lists before "and N more".
CELLS_LISTED = 12


def marker_key(value: str) -> str:
    """How a cell's text is compared with the missing-value markers: NFKC (full-width ``Ｎ／Ａ``
    is ``N/A``), stripped, case-folded.

    >>> marker_key(" Ｎ／Ａ "), marker_key("暂无")
    ('n/a', '暂无')
    """
    return unicodedata.normalize("NFKC", value).strip().casefold()


@dataclass
class PercentCell:
    """A cell whose text was a percentage (``32%``), read as a share (0.32)."""

    unit: str
    column: str
    cell: str
    text: str
    value: float


@dataclass
class ValueLog:
    """What reading one sheet's values noticed: the cells read as missing because of a marker
    (``marked``: cell → the text) and the percentages read as shares."""

    sheet: str
    marked: dict[str, str] = field(default_factory=dict)
    percents: list[PercentCell] = field(default_factory=list)


def _listing(cells: list[str]) -> str:
    shown = ", ".join(cells[:CELLS_LISTED])
    if len(cells) > CELLS_LISTED:
        shown += _(" and {count} more").format(count=len(cells) - CELLS_LISTED)
    return shown


def marker_note(log: ValueLog) -> str | None:
    """One note for every cell of ``log.sheet`` read as missing because of its text, or None."""
    if not log.marked:
        return None
    texts = ", ".join(dict.fromkeys(log.marked.values()))
    return _("Sheet '{sheet}': {count} cell(s) read as missing values ({texts}): {cells}; "
             "Settings missing_markers sets which texts mean missing").format(
        sheet=log.sheet, count=len(log.marked), texts=texts, cells=_listing(list(log.marked)))


def mixed_scale_problems(log: ValueLog, frame: pd.DataFrame, label: Callable[[str], str],
                         node_label: Callable[[str], str]) -> list[Problem]:
    """A problem for each percentage (``32%`` read as 0.32) in a column whose other values are
    on the percentage points' scale (like 32): the other values' median magnitude is ten times
    the share or more."""
    problems = []
    by_column: dict[str, list[PercentCell]] = {}
    for p in log.percents:
        by_column.setdefault(p.column, []).append(p)
    for column, cells in by_column.items():
        typed_as_percent = {p.unit for p in cells}
        plain = frame[column].drop(index=[u for u in typed_as_percent if u in frame.index])
        plain = plain.dropna().abs()
        plain = plain[plain > 0]
        if plain.empty:
            continue
        median = float(plain.median())
        for p in cells:
            if p.value != 0 and median >= 10 * abs(p.value):
                problems.append(Problem(log.sheet, p.cell, p.unit, column, _(
                    "unit {unit}, indicator {node}: '{text}' is read as the share {share:g}, but "
                    "the indicator's other values are like {median:g} (their median): type "
                    "{points:g} as they are typed, or write every value of the indicator as a "
                    "percentage").format(unit=label(p.unit), node=node_label(column),
                                         text=p.text, share=p.value, median=median,
                                         points=p.value * 100), column))
    return problems


def unit_error_notes(sheet: str, frame: pd.DataFrame, columns: Iterable[str],
                     cell: Callable[[str, str], str], label: Callable[[str], str],
                     node_label: Callable[[str], str]) -> list[str]:
    """A note for each value :func:`~xl_aiindex.scale.scale_outliers` finds in ``columns`` of
    ``frame`` (one indicator each): unit, indicator, cell, value and how far it is."""
    notes = []
    wanted = set(columns_to_check(frame[[c for c in columns if c in frame.columns]]))
    for column in columns:
        if column not in wanted:
            continue
        median = float(frame[column].abs()[frame[column].abs() > 0].median()) \
            if (frame[column].abs() > 0).any() else 0.0
        for unit, value, ratio in scale_outliers(frame[column]):
            how = (_("{ratio:,.0f} times the median").format(ratio=ratio) if ratio > 1 else
                   _("1/{ratio:,.0f} of the median").format(ratio=1 / ratio))
            notes.append(_(
                "Sheet '{sheet}', cell {cell}: unit {unit}, indicator {node}: {value:g} is "
                "{how} of the indicator's values ({median:g}), while the others are not: a unit "
                "error (×100, 万 for 元, a percentage for a share)? check the cell").format(
                    sheet=sheet, cell=cell(str(unit), column), unit=label(str(unit)),
                    node=node_label(column), value=value, how=how, median=median))
    return notes
