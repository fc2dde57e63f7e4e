"""``xl-aiindex explain``: what each child contributes to a unit's score, and where it loses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..i18n import _
from .standing import Standing

if TYPE_CHECKING:
    import pandas as pd

    from ..model import IndexResult


@dataclass(frozen=True)
class Loss:
    """The child where a unit loses most: ``weight`` × ``gap`` (to the best unit) = ``points``
    of the parent."""

    node: str
    name: str
    weight: float
    gap: float
    points: float


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain` found for a unit.

    ``standing``: the unit's rank and tier; ``root`` and ``total``: the index and the unit's
    score on it; ``node``: the node explained; ``table``: that node's row, then its descendants
    (:data:`xl_aiindex.explain.COLUMNS`: weight, score, contribution, rank, gap to best…);
    ``levels``: how many levels below the node the table shows; ``shallower``: why it shows
    fewer than asked for ("" when it does not); ``loss``: the child where the unit loses most
    (None when it has no child or leads on every one); ``leads``: True when the node has
    children and the unit is nowhere behind the best; ``imputed_by`` and ``treated_by``: what
    filled the indicators marked ``imputed`` and what changed those marked ``treated`` (the
    Settings ``missing`` and ``outliers`` methods, in words).
    """

    book: Path
    standing: Standing
    root: str
    total: float
    node: str
    table: pd.DataFrame
    levels: int
    shallower: str
    loss: Loss | None
    leads: bool
    imputed_by: str = ""
    treated_by: str = ""
    #: the year of a panel explained (None: a workbook of one edition)
    year: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain data (``--json``): the workbook, the unit's standing and total, the node
        explained, its rows (:data:`xl_aiindex.explain.COLUMNS`) and the largest loss."""
        from dataclasses import asdict

        from ..workbook.export import records

        s = self.standing
        return {"path": str(self.book), "status": "ok", "unit": s.unit, "name": s.label,
                "rank": s.rank, "of": s.ranked, "tier": s.tier, "root": self.root,
                "total": self.total, "node": self.node, "rows": records(self.table),
                "largest_loss": asdict(self.loss) if self.loss is not None else None,
                "leads": self.leads, "notes": [self.shallower] if self.shallower else []} | (
            {} if self.year is None else {"year": self.year})


def explain(book: str | os.PathLike[str], unit: str, *, node: str | None = None,
            depth: int = 1, year: int | None = None) -> Explanation:
    """Explain ``unit``'s score: each child's weight, the unit's score and rank on it, its
    contribution (weight × score, under arithmetic aggregation) and the gap to the best unit.

    :param book: the workbook to read
    :param unit: the unit: its id, Chinese or English name
    :param node: the node to explain (id or name; default: the index)
    :param depth: how many levels below the node to show
    :param year: the year of a panel (Data with a ``year`` column; default: the latest); a
        workbook of one edition refuses it (:class:`~xl_aiindex.errors.BadArgument`)

    Returns an :class:`Explanation`. Raises :class:`~xl_aiindex.errors.UnknownName` (with
    the closest names) for a unit or node that is not there,
    :class:`~xl_aiindex.errors.XlAiIndexError` for a node without a score (below the given
    level with ``input = given``), and what reading raises.
    """
    from ..explain import explain as explain_unit
    from ..i18n import _
    from ..lookup import NameIndex
    from ..workbook.book import find_unit
    from ..workbook.io import compute, load_workbook
    from .standing import standing

    result = compute(load_workbook(book), year)
    unit_id = find_unit(result, unit)
    node_id = NameIndex.of(result.model, "node").find(node) if node else None
    table = explain_unit(result, unit_id, node_id, depth)
    head = str(table.iloc[0]["node"])
    names = result.model.units.loc[unit_id]
    label = names["name_zh"] or names["name_en"] or unit_id
    levels = int(table["depth"].max())
    children = table[table["depth"] == 1]
    loss: Loss | None = None
    leads = False
    if len(children):
        points = (children["weight"] * children["gap_to_best"]).astype(float)
        if (points > 0).any():
            worst = children.loc[points.idxmax()]
            loss = Loss(str(worst["node"]), str(worst["name"]), float(worst["weight"]),
                        float(worst["gap_to_best"]), float(points.max()))
        else:
            leads = True
    settings = result.model.settings
    return Explanation(
        book=Path(book), standing=standing(result, unit_id, str(label)), root=result.root,
        total=float(result.total[unit_id]), node=head, table=table, levels=levels,
        shallower=why_shallower(result, head, levels) if levels < depth else "",
        loss=loss, leads=leads,
        imputed_by=_("blank in Data, filled by missing = {method}").format(
            method=settings.missing),
        treated_by=_("an outlier, changed by outliers = {method} before normalisation").format(
            method=settings.outliers),
        year=getattr(result, "year", None))


def why_shallower(result: IndexResult, node: str, shown: int) -> str:
    """Why ``explain`` stopped ``shown`` levels below ``node``, above the depth asked for: the
    tree ends there, or (input = given) the nodes below the given level have no score."""
    kids: dict[str, list[str]] = {}
    for n in result.model.nodes:
        if n.parent is not None:
            kids.setdefault(n.parent, []).append(n.id)
    level = [node]
    for _level in range(shown):
        level = [c for p in level for c in kids.get(p, [])]
    below = [c for p in level for c in kids.get(p, [])]
    if not below:
        return _("the tree has no level below")
    return _("the nodes below have no score with input = given (computation starts at the Given "
             "sheet's nodes; set input = data to compute them from the Data sheet)")
