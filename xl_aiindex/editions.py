"""Two editions of the same index (say 2020 and 2021): what changed for each unit.

Pure: two :class:`~xl_aiindex.model.IndexResult` in, one table out. Units are matched by id;
the root's children by node id (a child in only one edition has no change).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .errors import Problem, ProblemsFound
from .i18n import _
from .model import IndexResult
from .panel import YEAR, build_panel

#: Normalisations whose scores depend on the other units of the edition (its min and max, mean
#: and sd, ranks): scores of two editions normalised apart are on different scales.
RELATIVE_METHODS = frozenset({"minmax", "efficacy", "zscore", "rank", "percentile"})
#: Below this share of units in both editions (of the smaller edition), a comparison is refused
#: unless forced: "4 units in both, 26 entered, 26 left" compares nothing.
MIN_SHARED = 0.5

#: The columns before the per-child ones.
BASE_COLUMNS = ("unit", "name_zh", "name_en", "status", "rank_old", "rank_new", "rank_change",
                "score_old", "score_new", "score_change", "tier_old", "tier_new", "tier_change",
                "tier_move")


def _children(result: IndexResult) -> list[str]:
    return [n.id for n in result.model.nodes if n.parent == result.root]


def _child_rank(result: IndexResult, node: str) -> pd.Series:
    return result.scores[node].astype(float).rank(method="min", ascending=False)


def shared_children(old: IndexResult, new: IndexResult) -> list[str]:
    """The children of the root present in both editions, in the new edition's order."""
    before = set(_children(old))
    return [c for c in _children(new) if c in before]


def compare_editions(old: IndexResult, new: IndexResult) -> pd.DataFrame:
    """Per unit: ``status`` (``both``, ``entered``: only in new, ``left``: only in old), rank,
    score and tier in each edition and the change (``rank_change`` = old − new, positive = up;
    ``score_change`` = new − old; ``tier_change`` = old tier − new tier, positive = up;
    ``tier_move`` = ``label→label`` when it moved), then per shared child of the root
    ``<child>_score_old``, ``_score_new``, ``_score_change``, ``_rank_change``. Rows: units
    of the new edition by new rank, then those that left by old rank."""
    children = shared_children(old, new)
    o_rule, n_rule = old.model.settings.tiers, new.model.settings.tiers
    o_units, n_units = set(old.scores.index), set(new.scores.index)
    order = sorted(n_units, key=lambda u: (_sort_rank(new.rank.get(u)), str(u))) + \
        sorted(o_units - n_units, key=lambda u: (_sort_rank(old.rank.get(u)), str(u)))
    child_ranks = {c: (_child_rank(old, c), _child_rank(new, c)) for c in children}
    rows = []
    for u in order:
        in_old, in_new = u in o_units, u in n_units
        names = (new if in_new else old).model.units
        row: dict[str, object] = {
            "unit": str(u), "name_zh": names.at[u, "name_zh"], "name_en": names.at[u, "name_en"],
            "status": "both" if in_old and in_new else "entered" if in_new else "left"}
        r_old = _num(old.rank.get(u)) if in_old else None
        r_new = _num(new.rank.get(u)) if in_new else None
        s_old = _num(old.total.get(u)) if in_old else None
        s_new = _num(new.total.get(u)) if in_new else None
        t_old = int(old.tier.get(u, 0)) if in_old else 0
        t_new = int(new.tier.get(u, 0)) if in_new else 0
        row.update({
            "rank_old": r_old, "rank_new": r_new, "rank_change": _diff(r_old, r_new),
            "score_old": s_old, "score_new": s_new, "score_change": _diff(s_new, s_old),
            "tier_old": o_rule.label(t_old) if t_old else None,
            "tier_new": n_rule.label(t_new) if t_new else None,
            "tier_change": (t_old - t_new) if t_old and t_new else None,
            "tier_move": (f"{o_rule.label(t_old)}→{n_rule.label(t_new)}"
                          if t_old and t_new and t_old != t_new else "")})
        for c in children:
            c_old = _num(old.scores.at[u, c]) if in_old else None
            c_new = _num(new.scores.at[u, c]) if in_new else None
            cr_old = _num(child_ranks[c][0].get(u)) if in_old else None
            cr_new = _num(child_ranks[c][1].get(u)) if in_new else None
            row.update({f"{c}_score_old": c_old, f"{c}_score_new": c_new,
                        f"{c}_score_change": _diff(c_new, c_old),
                        f"{c}_rank_change": _diff(cr_old, cr_new)})
        rows.append(row)
    cols = [*BASE_COLUMNS, *[f"{c}_{k}" for c in children
                             for k in ("score_old", "score_new", "score_change", "rank_change")]]
    return pd.DataFrame(rows, columns=cols)


def _sort_rank(v: object) -> float:
    x = _num(v)
    return math.inf if x is None else x


def _num(v: object) -> float | None:
    if v is None:
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def relative_indicators(result: IndexResult) -> list[str]:
    """The indicators of ``result`` normalised relative to the edition's other units (empty when
    it starts from given scores: those are on whatever scale they were given)."""
    model = result.model
    if model.settings.input != "data":
        return []
    parents = {n.parent for n in model.nodes}
    return [n.id for n in model.nodes if n.id not in parents
            and (n.normalisation or model.settings.normalisation) in RELATIVE_METHODS]


def scale_warning(old: IndexResult, new: IndexResult) -> str:
    """What a reader must know before reading score changes between two editions normalised each
    on its own; empty when that does not apply."""
    relative = {id(r): set(relative_indicators(r)) for r in (old, new)}
    if not all(relative.values()):
        return ""
    methods = sorted({n.normalisation or r.model.settings.normalisation
                      for r in (old, new) for n in r.model.nodes if n.id in relative[id(r)]})
    return _("scores of the two editions are on different scales; changes in score partly "
             "reflect the other units (each edition is normalised against its own units: "
             "{methods}); use --common-scale to normalise both editions' data together"
             ).format(methods=", ".join(methods))


@dataclass(frozen=True)
class Overlap:
    """How much two editions share: units in both, entered (new only), left (old only), and the
    root's children in both."""

    both: int
    entered: int
    left: int
    children: int

    @property
    def share(self) -> float:
        """Units in both as a share of the smaller edition."""
        smaller = min(self.both + self.left, self.both + self.entered)
        return self.both / smaller if smaller else 0.0


def overlap(old: IndexResult, new: IndexResult) -> Overlap:
    """What ``old`` and ``new`` have in common."""
    o, n = set(old.scores.index), set(new.scores.index)
    return Overlap(len(o & n), len(n - o), len(o - n), len(shared_children(old, new)))


def overlap_problem(shared: Overlap) -> str:
    """Why two editions cannot be compared (too few units or no child of the root in common);
    empty when they can."""
    if shared.children == 0:
        return _("the two editions share no dimension (child of the index): their frameworks "
                 "differ; nothing to compare")
    if shared.share < MIN_SHARED:
        return _("only {both} units are in both editions ({entered} entered, {left} left): "
                 "fewer than {share:.0%} of the smaller edition, so this is not a comparison of "
                 "the same units; check that the unit ids match, or use --force").format(
                     both=shared.both, entered=shared.entered, left=shared.left,
                     share=MIN_SHARED)
    return ""


def on_common_scale(old: IndexResult, new: IndexResult) -> tuple[IndexResult, IndexResult]:
    """Both editions rebuilt with their data normalised together (the new edition's framework
    and settings; a two-year panel under ``pooled``), so a change in score is a change in the
    unit's own values. Raises :class:`ProblemsFound` when the editions' Data cannot be pooled."""
    om, nm = old.model, new.model
    if om.settings.input != "data" or nm.settings.input != "data" \
            or om.data is None or nm.data is None:
        raise ProblemsFound([Problem("Settings", field="input", problem=_(
            "--common-scale normalises the raw values of both editions together: both need "
            "input = data (a Data sheet), not given scores"))])
    leaves = [c for c in nm.data.columns]
    lacking = [c for c in leaves if c not in om.data.columns]
    if lacking:
        raise ProblemsFound([Problem("Data", field=lacking[0], problem=_(
            "--common-scale needs every indicator of the new edition in the old edition's "
            "Data; it lacks: {ids}").format(ids=", ".join(lacking)))])
    units = pd.concat([nm.units, om.units.loc[om.units.index.difference(nm.units.index)]])
    frames = {1: om.data.reindex(columns=leaves), 2: nm.data.reindex(columns=leaves)}
    data = pd.concat(frames, names=[YEAR, "unit"]).swaplevel()
    panel = build_panel(nm._replace(units=units, data=data), "pooled")
    return panel.by_year[1], panel.by_year[2]
