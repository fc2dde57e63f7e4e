"""``xl-aiindex new --data DATA.csv``: the raw values of a CSV file, mapped onto the Data sheet.

The file's first column names the units (a Units id, Chinese or English name, found as every
command finds a unit: full-width, Traditional, without 市…); its header names the indicators in
the other columns (an id, Chinese or English name of a leaf of the tree). Anything that names
no unit or indicator, names one twice, or names a node that is not an indicator is a problem
naming the file's cell; nothing is written then.

Values: a plain number is written as a number; a blank cell stays blank; any other text
(``45%``, ``1,234``, ``—``, ``暂无``) is copied into Data as the text it is, so that the Data
sheet's own rules read it at recalc (percentages, missing-value markers, thousands separators,
problems naming the Data cell) — one definition of how a value is read — and a note lists
those cells.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import AmbiguousName, Problem, ProblemsFound
from ...i18n import _
from ...lookup import NameIndex
from ...model import IndexModel, Node, Settings
from ..cells import column_letter
from .csv_inputs import _csv_number, read_csv_text

#: How many cells a note about text values lists before "and N more".
CELLS_LISTED = 8


def csv_records(path: str | os.PathLike[str], name: str, notes: list[str] | None = None
                ) -> list[list[str]]:
    """The rows of the CSV file ``path`` as lists of text (UTF-8, with or without the
    byte-order mark Excel's "CSV UTF-8" writes, else GBK/GB18030 with a note appended to
    ``notes``: :func:`~.csv_inputs.read_csv_text`). Raises :class:`ProblemsFound` (``name`` as
    the sheet) when the file is missing, text in neither encoding or not CSV."""
    content = read_csv_text(path, name, notes)
    try:
        return list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as e:
        raise ProblemsFound([Problem(name, problem=_("cannot be read as CSV: {error}").format(
            error=e))]) from None


def _address(r: int, c: int) -> str:
    return f"{column_letter(c)}{r + 1}"


def _find(index: NameIndex, query: str) -> tuple[str | None, str]:
    """The id ``query`` names and "", or None and why not (unknown: the closest names;
    ambiguous: the candidates)."""
    try:
        found = index.get(query)
    except AmbiguousName as e:
        return None, str(e)
    return (found, "") if found is not None else (None, index.unknown_text(query))


def read_data_csv(path: str | os.PathLike[str], nodes: tuple[Node, ...], units: pd.DataFrame,
                  notes: list[str] | None = None) -> pd.DataFrame:
    """The Data sheet's values from ``DATA.csv``: indexed by every unit of ``units`` (in its
    order; units the file has no row for stay blank), one column per indicator of ``nodes`` (in
    tree order; indicators the file has no column for stay blank). Numbers as floats, blanks
    NaN, other text as it is (see the module docstring); ``notes`` gets a line listing the text
    cells and one naming the units and indicators the file leaves out.

    Raises :class:`ProblemsFound` listing every problem, each with the file name as ``sheet``
    and the cell: an empty file, a header naming no indicator (with the closest names), a node
    that is not an indicator or an indicator named twice, a row label naming no unit or a unit
    named twice, values in a row without a label or a column without a header.
    """
    name = Path(path).name
    records = csv_records(path, name, notes)
    if not records or not any(c.strip() for c in records[0]):
        raise ProblemsFound([Problem(name, "A1", problem=_(
            "the file is empty: its first row must be a header (the units' column, then one "
            "column per indicator: its id, Chinese or English name)"))])
    parents = {n.parent for n in nodes if n.parent is not None}
    leaves = [n.id for n in nodes if n.id not in parents]
    model = IndexModel(nodes, Settings(), units)
    node_index, unit_index = NameIndex.of(model, "node"), NameIndex.of(model, "unit")
    problems: list[Problem] = []
    header = records[0]
    columns: dict[int, str] = {}          # file column → indicator id
    seen_columns: dict[str, int] = {}
    for c, cell in enumerate(header[1:], start=1):
        text = cell.strip()
        if not text:
            continue
        node, why = _find(node_index, text)
        if node is None:
            problems.append(Problem(name, _address(0, c), problem=_(
                "header '{header}' names no indicator: {reason}").format(header=text,
                                                                         reason=why)))
        elif node not in leaves:
            problems.append(Problem(name, _address(0, c), node=node, problem=_(
                "header '{header}' is the node {node}, not an indicator: Data has one column "
                "per indicator (a node without children)").format(header=text, node=node)))
        elif node in seen_columns:
            problems.append(Problem(name, _address(0, c), node=node, problem=_(
                "header '{header}' names the indicator {node} again (also {other})").format(
                header=text, node=node, other=_address(0, seen_columns[node]))))
        else:
            seen_columns[node] = c
            columns[c] = node
    data = pd.DataFrame(np.nan, index=units.index, columns=leaves, dtype=object)
    seen_rows: dict[str, int] = {}
    texts: list[str] = []
    width = len(header)
    for r, record in enumerate(records[1:], start=1):
        if not any(v.strip() for v in record):
            continue
        label = record[0].strip() if record else ""
        if not label:
            problems.append(Problem(name, _address(r, 0), problem=_(
                "row {row} has values but no unit in column A").format(row=r + 1)))
            continue
        unit, why = _find(unit_index, label)
        if unit is None:
            problems.append(Problem(name, _address(r, 0), problem=_(
                "row label '{label}' names no unit of the units file: {reason}").format(
                label=label, reason=why)))
            continue
        if unit in seen_rows:
            problems.append(Problem(name, _address(r, 0), unit=unit, problem=_(
                "row label '{label}' names the unit {unit} again (also row {other})").format(
                label=label, unit=unit, other=seen_rows[unit] + 1)))
            continue
        seen_rows[unit] = r
        for c, value in enumerate(record[1:], start=1):
            text = value.strip()
            if not text:
                continue
            if c not in columns:
                if c >= width or not header[c].strip():
                    problems.append(Problem(name, _address(r, c), unit=unit, problem=_(
                        "value '{value}' is in a column without a header: name its indicator "
                        "in row 1").format(value=text)))
                continue   # a column whose header is itself a problem
            number = _csv_number(text)
            data.at[unit, columns[c]] = number if number is not None else text
            if number is None:
                texts.append(f"{_address(r, c)} '{text}'")
    if problems:
        raise ProblemsFound(problems)
    if notes is not None:
        _note_gaps(notes, name, texts, [str(u) for u in units.index if u not in seen_rows],
                   [leaf for leaf in leaves if leaf not in seen_columns])
    return data.astype(float) if not texts else data


def _note_gaps(notes: list[str], name: str, texts: list[str], rowless: list[str],
               columnless: list[str]) -> None:
    """The notes of :func:`read_data_csv`: text values copied as text, units and indicators
    the file leaves blank."""
    def listing(items: list[Any]) -> str:
        shown = ", ".join(str(i) for i in items[:CELLS_LISTED])
        extra = len(items) - CELLS_LISTED
        return shown + (_(" and {count} more").format(count=extra) if extra > 0 else "")

    if texts:
        notes.append(_("{file}: {count} values are not plain numbers and were copied into Data "
                       "as text ({cells}); recalc reads them by the Data sheet's rules").format(
            file=name, count=len(texts), cells=listing(texts)))
    if rowless:
        notes.append(_("{file} has no row for {count} units: their Data rows are blank ({units})"
                       ).format(file=name, count=len(rowless), units=listing(rowless)))
    if columnless:
        notes.append(_("{file} has no column for {count} indicators: their Data columns are "
                       "blank ({indicators})").format(file=name, count=len(columnless),
                                                      indicators=listing(columnless)))
