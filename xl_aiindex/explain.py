"""Explain a unit's score: what each child of a node contributes, and where the unit stands.

For a unit and a node, every child gets its weight within the node, its weight in the total,
the unit's score on it, the unit's rank on it (ties share the better rank) and — under
arithmetic aggregation — its contribution ``weight × score`` to its parent (the children's
contributions sum to the parent's score).
The gap to the best unit on each child shows where the unit loses most.

>>> import pandas as pd
>>> from xl_aiindex.model import IndexModel, Node, Settings
>>> from xl_aiindex.pipeline import build_index
>>> nodes = (Node("index", None), Node("a", "index", weight=0.75), Node("b", "index", weight=0.25))
>>> units = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["A", "B"]}, index=["u1", "u2"])
>>> data = pd.DataFrame({"a": [1.0, 3.0], "b": [4.0, 2.0]}, index=["u1", "u2"])
>>> table = explain(build_index(IndexModel(nodes, Settings(), units, data)), "u1")
>>> table[["node", "weight", "score", "contribution", "rank"]].values.tolist()
[['index', 1.0, 25.0, 25.0, 2], ['a', 0.75, 0.0, 0.0, 2], ['b', 0.25, 100.0, 25.0, 1]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import XlAiIndexError
from .i18n import _
from .model import IndexResult

COLUMNS = ("node", "depth", "name", "weight", "weight_in_total", "score", "contribution", "rank",
           "of", "best", "gap_to_best")


def explain(result: IndexResult, unit: str, node: str | None = None, depth: int = 1
            ) -> pd.DataFrame:
    """The node's row, then its descendants ``depth`` levels down (parents before children).

    ``unit`` and ``node`` are ids (see :mod:`xl_aiindex.lookup` to find them by name).
    Raises :class:`~xl_aiindex.errors.XlAiIndexError` when the node has no score for this
    model (below the given level with ``input = given``).
    """
    model = result.model
    by_id = {n.id: n for n in model.nodes}
    kids: dict[str, list[str]] = {n.id: [] for n in model.nodes}
    for n in model.nodes:
        if n.parent is not None:
            kids[n.parent].append(n.id)
    start = node or result.root
    scores = result.scores
    if scores[start].isna().all():
        raise XlAiIndexError(_("node {node} has no score: not available with input = given "
                               "(computation starts at the Given sheet's nodes)").format(
                                   node=by_id[start].label))
    used = result.weights_used
    weight = dict(zip(used["child"], used["weight"], strict=True))
    in_total = dict(zip(used["child"], used["weight_in_total"], strict=True))
    in_total[result.root] = 1.0
    rows = []

    def row(node_id: str, level: int) -> dict[str, object]:
        column = scores[node_id]
        value = float(column.get(unit, np.nan))
        ranks = column.rank(method="min", ascending=False)
        parent = by_id[node_id].parent
        w = 1.0 if node_id == start else weight.get(node_id, np.nan)
        # under arithmetic aggregation weight × score is what the node adds to its parent
        method = (by_id[parent].aggregation if parent else None) or model.settings.aggregation
        arithmetic = node_id == start or method == "arithmetic"
        return {
            "node": node_id, "depth": level, "name": by_id[node_id].name_zh or by_id[node_id].name_en,
            "weight": w, "weight_in_total": in_total.get(node_id, np.nan), "score": value,
            "contribution": value * w if arithmetic else np.nan,
            "rank": int(ranks[unit]) if unit in ranks.index and ranks[unit] == ranks[unit] else None,
            "of": int(column.notna().sum()), "best": float(column.max()),
            "gap_to_best": float(column.max()) - value,
        }

    # parents before children, siblings in Framework order; an explicit stack, not recursion,
    # so that a tree of any depth can be explained
    stack: list[tuple[str, int]] = [(start, 0)]
    while stack:
        node_id, level = stack.pop()
        rows.append(row(node_id, level))
        if level < depth:
            stack.extend((child, level + 1) for child in reversed(kids[node_id])
                         if not scores[child].isna().all())

    return pd.DataFrame(rows, columns=list(COLUMNS))
