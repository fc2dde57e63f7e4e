"""``xl-aiindex compare``: two or more units side by side."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .standing import Standing

if TYPE_CHECKING:
    import pandas as pd

    from ..model import IndexResult


@dataclass(frozen=True)
class ComparedNode:
    """One row of a comparison: a child of the compared node (or that node itself, last), its
    ``name`` (in the language the units were named in), each unit's score and rank on it (ranks
    as the Ranking sheet ranks: ties share the better rank; None: no score) and the
    ``differences`` of the first unit's score to each other's (first − other)."""

    node: str
    name: str
    scores: tuple[float, ...]
    differences: tuple[float, ...]
    ranks: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` found: each unit's ``standing`` (in the order named), the node
    compared (``node``: the index unless ``--node``), the rows (``nodes``: its children, then
    itself), and the table they come from (``table``: ``node, name_zh, name_en``, then per unit
    ``score:<id>`` and ``rank:<id>``)."""

    book: Path
    standings: tuple[Standing, ...]
    nodes: tuple[ComparedNode, ...]
    table: pd.DataFrame
    node: str = ""
    #: the year of a panel compared (None: a workbook of one edition)
    year: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain data (``--json``): the workbook, each unit's standing, and per node each
        unit's score and rank and the first unit's difference to each other."""
        from ..workbook.export import plain

        ids = [s.unit for s in self.standings]
        return {"path": str(self.book), "status": "ok", "node": self.node,
                "units": [{"unit": s.unit, "name": s.label, "rank": s.rank, "of": s.ranked,
                           "tier": s.tier} for s in self.standings],
                "rows": [{"node": n.node, "name": n.name,
                          "scores": {u: plain(v) for u, v in zip(ids, n.scores, strict=True)},
                          "ranks": dict(zip(ids, n.ranks, strict=True)),
                          "differences": {u: plain(v) for u, v in
                                          zip(ids[1:], n.differences, strict=True)}}
                         for n in self.nodes]} | ({} if self.year is None else {"year": self.year})


def compare(book: str | os.PathLike[str], units: Sequence[str], *,
            node: str | None = None, year: int | None = None) -> Comparison:
    """Compare two or more units side by side: their score and rank on each child of ``node``
    (default: the index) and on ``node`` itself, and the difference of each to the first.

    :param book: the workbook to read
    :param units: the units (ids, Chinese or English names), at least two; named in Chinese,
        the units and nodes are labelled in Chinese, else in English
    :param node: the node whose children to compare (id or name; default: the index)
    :param year: the year of a panel (Data with a ``year`` column; default: the latest); a
        workbook of one edition refuses it (:class:`~xl_aiindex.errors.BadArgument`)

    Returns a :class:`Comparison`. Raises :class:`~xl_aiindex.errors.UnknownName` (with the
    closest names) for a unit or node that is not there,
    :class:`~xl_aiindex.errors.XlAiIndexError` for fewer than two units or a node without
    children or without a score (below the given level with ``input = given``), and what
    reading raises.
    """
    from ..errors import XlAiIndexError
    from ..i18n import _
    from ..lookup import NameIndex
    from ..workbook.book import find_unit
    from ..workbook.io import compute, load_workbook
    from .standing import standing

    if len(units) < 2:
        raise XlAiIndexError(_("name at least two units to compare"))
    result = compute(load_workbook(book), year)
    index = NameIndex.of(result.model, "unit")
    ids = [find_unit(result, u) for u in units]
    labels = [index.label(i, q) for i, q in zip(ids, units, strict=True)]
    head = NameIndex.of(result.model, "node").find(node) if node else result.root
    kids = [n.id for n in result.model.nodes if n.parent == head]
    if not kids:
        raise XlAiIndexError(_("node {node} has no children to compare: name a node above the "
                               "indicators").format(node=result.model.node(head).label))
    scored = [k for k in kids if result.scores[k].notna().any()]
    if not scored or result.scores[head].isna().all():
        raise XlAiIndexError(_("the children of node {node} have no score: not available with "
                               "input = given (computation starts at the Given sheet's "
                               "nodes)").format(node=result.model.node(head).label))
    table = compare_table(result, head, scored, ids)
    zh = any(ord(ch) > 0x2E7F for ch in "".join(units))
    rows = []
    for rec in table.to_dict("records"):
        scores = tuple(rec[f"score:{i}"] for i in ids)
        ranks = tuple(None if rec[f"rank:{i}"] != rec[f"rank:{i}"] else int(rec[f"rank:{i}"])
                      for i in ids)
        name = (rec["name_zh"] if zh else rec["name_en"]) or rec["name_zh"] or rec["name_en"]
        rows.append(ComparedNode(str(rec["node"]), str(name), scores,
                                 tuple(scores[0] - v for v in scores[1:]), ranks))
    return Comparison(book=Path(book),
                      standings=tuple(standing(result, i, label)
                                      for i, label in zip(ids, labels, strict=True)),
                      nodes=tuple(rows), table=table, node=head,
                      year=getattr(result, "year", None))


def compare_table(result: IndexResult, node: str, children: Sequence[str],
                  units: Sequence[str]) -> pd.DataFrame:
    """``children`` of ``node``, then ``node`` itself, for ``units`` (ids): ``node, name_zh,
    name_en``, then per unit ``score:<id>`` and ``rank:<id>`` (on the index: the Ranking's
    rank; on another node: the rank among the units with a score, ties sharing the better)."""
    import pandas as pd

    from ..workbook.visuals import node_rank

    nodes = [*children, node]
    table = pd.DataFrame({"node": nodes,
                          "name_zh": [result.model.node(n).name_zh for n in nodes],
                          "name_en": [result.model.node(n).name_en for n in nodes]})
    for u in units:
        table[f"score:{u}"] = [float(result.scores.at[u, n]) for n in nodes]
        table[f"rank:{u}"] = [float(result.rank[u]) if n == result.root
                              else float(node_rank(result, n)[u]) for n in nodes]
    return table
