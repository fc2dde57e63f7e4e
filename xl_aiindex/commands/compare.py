"""``xl-aiindex compare``: two or more units side by side."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .standing import Standing

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ComparedNode:
    """One row of a comparison: a child of the root (or the index, last), its ``name`` (in
    the language the units were named in), each unit's score and the ``differences`` of the
    first unit's score to each other's (first − other)."""

    node: str
    name: str
    scores: tuple[float, ...]
    differences: tuple[float, ...]


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` found: each unit's ``standing`` (in the order named), the rows
    (``nodes``), and the table they come from (``table``:
    :func:`~xl_aiindex.workbook.visuals.compare_units`, with each node's rank too)."""

    book: Path
    standings: tuple[Standing, ...]
    nodes: tuple[ComparedNode, ...]
    table: pd.DataFrame


def compare(book: str | os.PathLike[str], units: Sequence[str]) -> Comparison:
    """Compare two or more units side by side: their score on each child of the root and on
    the index, and the difference of each to the first.

    :param book: the workbook to read
    :param units: the units (ids, Chinese or English names), at least two; named in Chinese,
        the units and nodes are labelled in Chinese, else in English

    Returns a :class:`Comparison`. Raises :class:`~xl_aiindex.errors.UnknownName` (with the
    closest names) for a unit that is not there, :class:`~xl_aiindex.errors.XlAiIndexError`
    for fewer than two units, and what reading raises.
    """
    from ..errors import XlAiIndexError
    from ..i18n import _
    from ..lookup import NameIndex
    from ..workbook.io import compute, load_workbook
    from ..workbook.visuals import compare_units
    from .standing import standing

    if len(units) < 2:
        raise XlAiIndexError(_("name at least two units to compare"))
    result = compute(load_workbook(book))
    index = NameIndex.of(result.model, "unit")
    ids = [index.find(u) for u in units]
    labels = [index.label(i, q) for i, q in zip(ids, units, strict=True)]
    table = compare_units(result, ids)
    zh = any(ord(ch) > 0x2E7F for ch in "".join(units))
    rows = []
    for rec in table.to_dict("records"):
        scores = tuple(rec[f"score:{i}"] for i in ids)
        name = (rec["name_zh"] if zh else rec["name_en"]) or rec["name_zh"] or rec["name_en"]
        rows.append(ComparedNode(str(rec["node"]), str(name), scores,
                                 tuple(scores[0] - v for v in scores[1:])))
    return Comparison(book=Path(book),
                      standings=tuple(standing(result, i, label)
                                      for i, label in zip(ids, labels, strict=True)),
                      nodes=tuple(rows), table=table)
