"""The index model: frozen dataclasses describing an index and the result of building it.

:class:`IndexModel` holds everything an analyst decides (tree, directions, weights, methods,
units, data); :func:`xl_aiindex.pipeline.build_index` turns it into an :class:`IndexResult`
holding every stage (raw, treated, normalised, scores), the ranking, the tiers and the weights
actually used. Frozen protects attributes, not DataFrame contents, so every step builds new frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import pandas as pd

from .contract import DEFAULT_MISSING_MARKERS
from .i18n import _

#: Column names the result sheets use; a node id may not be one of them.
RESERVED_IDS = frozenset(
    {"unit", "rank", "score", "tier", "name_zh", "name_en", "coverage", "published", "diff"}
)


@dataclass(frozen=True)
class Node:
    """One node of the indicator tree (a row of the Framework sheet).

    The root has ``parent`` None and no weight; leaves are the indicators.
    """

    id: str
    parent: str | None
    name_zh: str = ""
    name_en: str = ""
    weight: float | None = None
    #: 1 higher is better, -1 lower is better; any other value is kept as written (a problem)
    direction: float = 1
    normalisation: str | None = None
    goal_low: float | None = None
    goal_high: float | None = None
    denominator: str | None = None
    transform: str | None = None
    aggregation: str | None = None
    weighting: str | None = None
    unit: str = ""
    source: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        """``id (name_zh)`` or ``id (name_en)``: how messages name the node."""
        name = self.name_zh or self.name_en
        return f"{self.id} ({name})" if name else self.id


@dataclass(frozen=True)
class TierRule:
    """How units are put into tiers: by rank cut-offs or by score lower bounds.

    ``kind`` is ``rank`` (bounds are the last rank of each tier but the last, ascending) or
    ``score`` (bounds are lower score bounds, descending). n bounds make n+1 tiers.
    """

    kind: str = "rank"
    bounds: tuple[float, ...] = (10, 20)
    labels: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """Number of tiers."""
        return len(self.bounds) + 1

    def label(self, tier: int) -> str:
        """The label of tier ``tier`` (1-based); ``Tier n`` when none were given."""
        if self.labels:
            return self.labels[tier - 1]
        return _("Tier {tier}").format(tier=tier)


@dataclass(frozen=True)
class Settings:
    """The method choices of the Settings sheet, typed; defaults are the contract's."""

    name_zh: str = ""
    name_en: str = ""
    input: str = "data"
    normalisation: str = "minmax"
    minmax_range: tuple[float, float] = (0.0, 100.0)
    efficacy_a: float = 60.0
    efficacy_b: float = 40.0
    aggregation: str = "arithmetic"
    weights: str = "strict"
    tiers: TierRule = field(default_factory=TierRule)
    rank_decimals: int | None = None
    outliers: str = "none"
    outlier_skew: float = 2.0
    outlier_kurtosis: float = 3.5
    outlier_max_points: int = 5
    coverage_min: float = 0.0
    goalposts_scale: float = 100.0
    missing: str = "error"
    output: str = "values"
    #: panel data (a ``year`` column): where normalisation parameters come from — ``pooled``,
    #: ``per_year`` or ``base:YEAR`` (see :mod:`xl_aiindex.panel`)
    panel_normalisation: str = "pooled"
    #: how many units the TOP-N charts show (0 = no charts)
    chart_top: int = 15
    #: what a unit is called in messages, the report and the Examples sheet (``省份``, or
    #: ``省份/province`` for each language); blank = city
    unit_label: str = ""
    #: texts of a Data or Given cell read as a missing value (with a note)
    missing_markers: tuple[str, ...] = DEFAULT_MISSING_MARKERS
    #: unit pairs compared side by side (ids or names, as typed; checked against Units)
    compare: tuple[tuple[str, str], ...] = ()
    #: optional result sheets written under a name of the user's (Settings ``sheet_charts``…):
    #: ``(default name, name)`` pairs, only those given
    sheet_names: tuple[tuple[str, str], ...] = ()
    #: the language of what is written into the workbook and printed about it (``zh``/``en``;
    #: blank: the locale's), unless ``--lang`` chooses another
    language: str = ""

    def _replace(self, **changes: Any) -> Settings:
        return _checked_replace(self, changes)

    def sheet(self, default: str) -> str:
        """The name the result sheet ``default`` (e.g. ``Charts``) is written under."""
        return dict(self.sheet_names).get(default, default)


@dataclass(frozen=True)
class Step:
    """One step of a build, as recorded in the log: its name and the parameters it used."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexModel:
    """Everything that defines an index, independent of any file.

    ``nodes``: the tree, root included, in Framework order.
    ``units``: indexed by unit id (text), columns ``name_zh``, ``name_en`` and any others.
    ``data``: raw indicator values, indexed by unit id, one float column per leaf (NaN = missing);
    None when the index starts from given scores only.
    ``given``: scores given directly, indexed by unit id, one column per node id given, plus an
    optional ``published`` column (the printed total, never an input to the computation).
    ``ahp`` / ``budgets``: pairwise matrices and expert budgets for the ``ahp``/``budget`` weighting.
    """

    nodes: tuple[Node, ...]
    settings: Settings
    units: pd.DataFrame
    data: pd.DataFrame | None = None
    given: pd.DataFrame | None = None
    ahp: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    budgets: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def _replace(self, **changes: Any) -> IndexModel:
        return _checked_replace(self, changes)

    def node(self, node_id: str) -> Node:
        """The node with id ``node_id`` (exact id)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


@dataclass(frozen=True)
class IndexResult:
    """What :func:`build_index` produces.

    ``stages``: ``raw``, ``prepared`` (after denominators, transforms and imputation: what
    outlier treatment sees), ``treated``, ``normalised`` (leaves) and ``scores`` (every node
    with a score, root last), each indexed by unit id.
    ``scores``: the Scores table: one column per node (NaN where a node has no score).
    ``coverage``: share of a unit's inputs present (0–1).
    ``rank`` / ``tier``: per unit (NaN / 0 where not ranked).
    ``weights_used``: ``node, child, method, weight, weight_in_total``.
    ``notes``: things done on the user's behalf (weights rescaled, values imputed...).
    ``log``: the steps run, with their parameters.
    """

    model: IndexModel
    stages: Mapping[str, pd.DataFrame]
    scores: pd.DataFrame
    coverage: pd.Series
    rank: pd.Series
    tier: pd.Series
    weights_used: pd.DataFrame
    treatment: pd.DataFrame
    notes: tuple[str, ...] = ()
    log: tuple[Step, ...] = ()

    @property
    def root(self) -> str:
        """Id of the root node."""
        return next(n.id for n in self.model.nodes if n.parent is None)

    @property
    def total(self) -> pd.Series:
        """The index itself: the root's score per unit."""
        return self.scores[self.root]


def _checked_replace(obj: Any, changes: dict[str, Any]) -> Any:
    """``dataclasses.replace`` that refuses unknown field names (as great-tables' ``_replace``)."""
    known = {f.name for f in fields(obj)}
    unknown = set(changes) - known
    if unknown:
        raise TypeError(f"unknown field(s) {sorted(unknown)}; fields are {sorted(known)}")
    return replace(obj, **changes)
