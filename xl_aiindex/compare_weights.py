"""Choosing weights with evidence: per sibling group, the weights every weighting method would
give, side by side, and how the ranking would change under each against the current choice.

For a node with children, each method of :data:`~xl_aiindex.weights.WEIGHTINGS` that applies
(``given`` when every child has a weight cell; ``ahp`` / ``budget`` when the workbook has the
node's ``AHP_<node>`` / ``Budget_<node>`` sheet; the others always) is run on the children's
scores as the engine runs it (``given`` rescaled to sum to 1), and the index is built again with
only that node's ``weighting`` changed, to count the units whose rank moves. Pure: no files.

>>> import pandas as pd
>>> from xl_aiindex.model import IndexModel, Node, Settings
>>> from xl_aiindex.pipeline import build_index
>>> nodes = (Node("index", None), Node("a", "index", weight=0.8), Node("b", "index", weight=0.2))
>>> units = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["A", "B"]}, index=["u1", "u2"])
>>> data = pd.DataFrame({"a": [1.0, 3.0], "b": [4.0, 2.0]}, index=["u1", "u2"])
>>> group = compare_weights(build_index(IndexModel(nodes, Settings(), units, data)))[0]
>>> [(m.method, m.weights.round(2).tolist(), m.units_moved) for m in group.methods[:2]]
[('given', [0.8, 0.2], 0), ('equal', [0.5, 0.5], 1)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import ProblemsFound, XlAiIndexError
from .i18n import _
from .model import IndexResult
from .normalise import MethodInputError
from .pipeline import build_index
from .tree import IndicatorTree
from .weights import WEIGHTINGS, WeightInputs


@dataclass(frozen=True)
class MethodWeights:
    """One method's weights for one sibling group, and what they would do to the ranking.

    ``weights``: per child, summing to 1 (None when the method cannot weight this group, and
    ``error`` says why). ``moves``: per unit, new rank − current rank (negative = better).
    """

    method: str
    weights: pd.Series | None
    error: str = ""
    moves: pd.Series | None = None

    @property
    def units_moved(self) -> int:
        """How many units would change rank."""
        return 0 if self.moves is None else int((self.moves.fillna(0) != 0).sum())

    @property
    def largest_move(self) -> int:
        """The largest number of places any unit would move."""
        if self.moves is None or self.moves.dropna().empty:
            return 0
        return int(self.moves.abs().max())


@dataclass(frozen=True)
class GroupWeights:
    """The methods' weights for the children of ``node``; ``current`` is its weighting now."""

    node: str
    children: tuple[str, ...]
    current: str
    methods: tuple[MethodWeights, ...]


def applicable_methods(result: IndexResult, node: str) -> list[str]:
    """The weighting methods that can be tried on ``node``, in registry order."""
    model = result.model
    out = []
    for method in WEIGHTINGS:
        if method == "ahp" and node not in model.ahp:
            continue
        if method == "budget" and node not in model.budgets:
            continue
        out.append(method)
    return out


def method_weights(result: IndexResult, node: str, method: str) -> pd.Series:
    """The weights ``method`` gives the children of ``node`` (summing to 1), as the engine
    computes them from the children's scores. Raises :class:`MethodInputError`."""
    model = result.model
    tree = IndicatorTree(model.nodes)
    kids = list(tree.children[node])
    scores = result.scores[kids]
    given = pd.Series({k: tree.by_id[k].weight for k in kids}, dtype=float)
    w = WEIGHTINGS[method](scores, WeightInputs(given=given, ahp=model.ahp.get(node),
                                                budget=model.budgets.get(node)))
    if method == "given":
        if w.isna().any():
            blank = ", ".join(str(k) for k in w.index[w.isna()])
            raise MethodInputError(_("has no weight cell for {nodes}").format(nodes=blank))
        total = float(w.sum())
        if total <= 0:
            raise MethodInputError(_("has given weights that are all 0"))
        w = w / total
    return w.astype(float)


def rank_moves(result: IndexResult, node: str, method: str) -> pd.Series:
    """Per unit, its rank with ``node`` weighted by ``method`` minus its rank now.

    Builds the index again with only that node's ``weighting`` changed (given weights rescaled
    to sum to 1, as ``weights = rescale`` does). Raises :class:`ProblemsFound`.
    """
    model = result.model
    nodes = tuple(replace(n, weighting=method) if n.id == node else n for n in model.nodes)
    other = build_index(model._replace(nodes=nodes,
                                       settings=model.settings._replace(weights="rescale")))
    return other.rank - result.rank


def compare_weights(result: IndexResult, node: str | None = None) -> list[GroupWeights]:
    """Every applicable method's weights for each sibling group with at least two scored
    children (parents before children), or for ``node`` only. ``node`` must be an inner node
    whose children have scores (with ``input = given``: at or above the Given level)."""
    tree = IndicatorTree(result.model.nodes)
    scored = set(result.stages["scores"].columns)
    if node is not None:
        n = tree.by_id[node]
        if tree.is_leaf(node):
            raise XlAiIndexError(_("node {node} is an indicator: it has no children to "
                                   "weight").format(node=n.label))
        if not all(k in scored for k in tree.children[node]):
            raise XlAiIndexError(_("node {node}: its children have no scores (not available "
                                   "with input = given below the Given sheet's nodes)").format(
                                       node=n.label))
        groups = [node]
    else:
        groups = [g for g in tree.pre_order if len(tree.children[g]) >= 2
                  and all(k in scored for k in tree.children[g])]
    out = []
    for g in groups:
        methods = []
        for method in applicable_methods(result, g):
            try:
                w = method_weights(result, g, method)
            except MethodInputError as e:
                methods.append(MethodWeights(method, None, _("{function} {problem}").format(
                    function=method, problem=e)))
                continue
            try:
                moves = rank_moves(result, g, method)
            except ProblemsFound as e:
                methods.append(MethodWeights(method, w, f"{method}: {e.problems[0].problem}"))
                continue
            methods.append(MethodWeights(method, w, "", moves))
        out.append(GroupWeights(g, tree.children[g], tree.by_id[g].weighting or "given",
                                tuple(methods)))
    return out


def as_json(groups: list[GroupWeights]) -> list[dict[str, object]]:
    """Plain data for ``--json``: per group, per method, the weights and the rank moves."""
    out: list[dict[str, object]] = []
    for g in groups:
        methods: dict[str, object] = {}
        for m in g.methods:
            entry: dict[str, object] = {}
            if m.weights is not None:
                entry["weights"] = {str(k): float(v) for k, v in m.weights.items()}
            if m.error:
                entry["error"] = m.error
            if m.moves is not None:
                entry["units_moved"] = m.units_moved
                entry["largest_move"] = m.largest_move
                entry["rank_moves"] = {str(u): int(v) for u, v in m.moves.items()
                                       if v == v and v != 0 and np.isfinite(v)}
            methods[m.method] = entry
        out.append({"node": g.node, "children": list(g.children), "current": g.current,
                    "methods": methods})
    return out
