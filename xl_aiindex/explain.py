"""Explain a unit's score: what each child of a node contributes, and where the unit stands.

For a unit and a node, every child gets its weight within the node, its weight in the total,
the unit's score on it, the unit's rank on it (ties share the better rank) and — under
arithmetic aggregation — its contribution ``weight × score`` to its parent (the children's
contributions sum to the parent's score).
The gap to the best unit on each child shows where the unit loses most. An indicator's row
(``input = data``) also holds its ``raw`` value from the Data sheet, and whether that value was
``imputed`` (blank in Data, filled by the ``missing`` method) or ``treated`` (changed by
outlier treatment before normalisation).

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

COLUMNS = ("node", "depth", "name", "weight", "weight_in_total", "raw", "imputed", "treated",
           "score", "contribution", "rank", "of", "best", "gap_to_best")


def _value(frame: pd.DataFrame | None, unit: str, column: str) -> float:
    """``frame[column][unit]`` as a float; NaN when the frame, column or unit is not there."""
    if frame is None or column not in frame.columns or unit not in frame.index:
        return float("nan")
    return float(frame.at[unit, column])


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
    data_mode = model.settings.input == "data"
    raw, prepared, treated = (result.stages.get(k) for k in ("raw", "prepared", "treated"))

    def inputs(node_id: str) -> dict[str, object]:
        """An indicator's Data value and what was done to it (blank for other nodes)."""
        if not data_mode or raw is None or node_id not in raw.columns:
            return {"raw": np.nan, "imputed": False, "treated": False}
        value, before, after = (_value(f, unit, node_id) for f in (raw, prepared, treated))
        return {"raw": value, "imputed": bool(value != value and before == before),
                "treated": bool(before == before and after == after and before != after)}

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
            "weight": w, "weight_in_total": in_total.get(node_id, np.nan), **inputs(node_id),
            "score": value,
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
