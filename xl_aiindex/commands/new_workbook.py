"""``xl-aiindex new``: a ready workbook for one's own index, from two CSV files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NewWorkbook:
    """The workbook :func:`new_workbook` wrote: its ``path``, the tree's ``nodes``, ``levels``
    and ``indicators`` (leaves), the number of ``units``, whether Data was filled from a file
    (``filled``), and ``notes`` on what was read (values copied as text, blanks left)."""

    path: Path
    nodes: int
    levels: int
    indicators: int
    units: int
    notes: tuple[str, ...] = ()
    filled: bool = False


def new_workbook(framework: str | os.PathLike[str], units: str | os.PathLike[str],
                 output: str | os.PathLike[str], *, force: bool = False,
                 data: str | os.PathLike[str] | None = None) -> NewWorkbook:
    """Write a ready workbook: the tree of ``framework`` (any depth) and the units of ``units``
    in Framework and Units, Data with a row per unit to fill in (or filled from ``data``),
    Settings with the defaults, an Uncertainty sheet with the default analysis, drop-downs, a
    bilingual README and empty result sheets.

    :param framework: the indicator tree, a CSV file with the Framework's columns (id, parent,
        name_zh, name_en, weight, direction, normalisation…), one row per node
    :param units: the units, a CSV file: id, name_zh, name_en, then grouping or numeric columns
    :param output: the workbook to write
    :param force: overwrite ``output`` if it exists
    :param data: the raw values, a CSV file: the units (ids or names) in the first column, one
        column per indicator headed by its id, Chinese or English name

    Returns a :class:`NewWorkbook`. Raises :class:`~xl_aiindex.errors.UnsafeWrite` when
    ``output`` exists (without ``force``) or cannot be written, and
    :class:`~xl_aiindex.errors.ProblemsFound` listing the CSV files' problems (each problem's
    ``sheet`` is the file's name, its ``cell`` the cell of that file); nothing written then.
    """
    from ..errors import UnsafeWrite
    from ..i18n import _
    from ..tree import build_tree
    from ..workbook.new_book import new_workbook as write_new_workbook

    out = Path(output)
    if out.exists() and not force:
        raise UnsafeWrite(_("{path} exists: use --force to overwrite it, or write to another "
                            "file").format(path=out))
    notes: list[str] = []
    nodes, frame = write_new_workbook(framework, units, out, notes, data_csv=data)
    tree, _problems = build_tree(nodes)
    assert tree is not None   # the scaffold refuses a framework without a tree
    return NewWorkbook(path=out, nodes=len(nodes),
                       levels=1 + max(tree.depth(n) for n in tree.by_id),
                       indicators=len(tree.leaves), units=len(frame), notes=tuple(notes),
                       filled=data is not None)
