"""The formula mode: result sheets as live spreadsheet formulas that carry the engine's values.

With ``output = formulas`` (Settings) or ``xl-aiindex recalc --formulas``, every result cell that
has a closed formula is written as one, and the engine's value is stored as the cell's cached
value, so Excel or LibreOffice (which recalculate) and plain readers (pandas, calamine, previewers,
which do not) see the same numbers. Editing a raw value or a weight in Excel then updates every
score, rank and tier with no Python at all. Two helper result sheets come with it: ``Calc`` (per
unit: the values indicators are normalised from when they are not the raw Data, the rank basis,
the rank and the tier) and ``CalcStats`` (per indicator: the minimum, maximum, mean, standard
deviation or count its normalisation reads, computed once rather than in every cell).

Defined names (all prefixed ``xlai_``; ``recalc`` replaces them on every run and removes them in
values mode; names of the user are never touched). ``<id>`` is a node id, characters other than
letters, digits, ``_`` and ``.`` replaced by ``_`` (``_2``, ``_3``… on a clash); every range
covers exactly the unit rows, so the scheme holds for any tree and any number of units:

=========================  ================================================================
``xlai_data_<leaf>``        Data column of an indicator (the unit rows), e.g. ``Data!$C$2:$C$31``
``xlai_given_<node>``       Given column of a node given directly; ``xlai_given_published``
``xlai_units_<column>``     Units column used as a denominator
``xlai_x_<leaf>``           the values an indicator is normalised from: its Data column, or its
                            ``Calc`` column when it has a denominator, a log transform, or
                            values imputed or treated in Python
``xlai_min_<leaf>`` …       its statistics in CalcStats (``min``, ``max``, ``mean``, ``sd``,
                            ``count``; only those its method reads)
``xlai_fw_<node>``          the node's ``weight`` cell in Framework (given weighting)
``xlai_w_<node>``           the node's weight within its parent in WeightsUsed (what the
                            aggregation formulas use)
``xlai_s_<node>``           the node's column in Scores
``xlai_unit``               the unit ids of Scores (what Ranking looks units up in)
``xlai_cov_<k>``            blocks of Data (Given) columns counted by ``coverage``
``xlai_basis`` …            ``xlai_basis``, ``xlai_rank``, ``xlai_tier``: Calc columns
=========================  ================================================================

What is a formula:

* Scores, indicators: the normalisation of ``INDEX(xlai_x_<leaf>, k)`` (k: the unit's row in
  that range): minmax and efficacy with the range's MIN/MAX, zscore with AVERAGE/
  ``_xlfn.STDEV.S`` (all in CalcStats), rank and percentile with ``_xlfn.RANK.AVG`` over the
  range and COUNT, goalposts with MIN/MAX clamping; direction -1 mirrors as the contract says.
  A blank input gives ``""`` under ``missing = reweight`` and ``#N/A`` otherwise (a blank is
  never read as 0).
* Scores, inner nodes and the root: weighted arithmetic (``w1*s1+w2*s2``), geometric
  (``s1^w1*s2^w2``) or harmonic (``1/(w1/s1+w2/s2)``) of the children's cells with the
  ``xlai_w_<child>`` weights; under ``reweight`` the same with ISNUMBER masks, so blank
  children are skipped and the weights of the present ones rescaled.
* Scores ``coverage``: COUNT of the unit's Data (Given) cells over their number.
* Calc: x values ``Data/denominator``, ``LN(…)``; ``rank_basis`` (the root's score, rounded
  with ROUND when ``rank_decimals`` is set, blank below ``coverage_min``), ``rank`` (RANK: ties
  share the better rank) and ``tier`` (one comparison per cut-off).
* Ranking: every number is ``INDEX(xlai_…, MATCH(unit, xlai_unit, 0))``, so a changed input
  re-ranks numerically; the ROW ORDER stays as written (sorted by the ranks of the last
  ``recalc``), and so do the tier colours.
* Tiers ``count``: COUNTIF over ``xlai_tier``. WeightsUsed, given weighting:
  ``weight`` = the Framework weight over the sum of its siblings' (so weights that do not sum
  to 1 are rescaled, as ``weights = rescale`` does), ``weight_in_total`` = the product along
  the path.

What is a value (computed in Python, referenced by the formulas): weights of the other
weighting methods (equal, entropy, critic, sd, pca, ahp, budget; WeightsUsed), imputed and
outlier-treated values (Calc: the cells Python changed), ``copeland`` scores of the root, the
Tiers ``units`` lists and every text cell. A normalisation or aggregation method registered
later has a formula form only once it is added to :func:`normalise_formula` /
:func:`aggregate_formula` and :data:`FORMULA_NORMALISATIONS` / :data:`FORMULA_AGGREGATIONS`;
until then its results are written as values (listed in ``VALUE_ONLY_…``; a test makes every
method be in one list). Method choices and their parameters (Settings, per-node methods,
directions, goalposts) are written into the formulas as constants: after changing them, run
``recalc`` again; so also after adding or removing units or indicators, or sorting the input
sheets (the formulas address a unit by its row).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..contract import CALC, CALC_STATS, MAX_FORMULA
from ..errors import Problem, ProblemsFound
from ..model import IndexResult
from ..tree import IndicatorTree, build_tree
from .ooxml import OWNED_PREFIX
from .read import Locator, address, column_letter
from .results import decimals_of, ranking_table, result_sheets, score_columns, tiers_table
from .sheetspec import HEADER, INTEGER, NUMBER, PRECISE, Cell, SheetSpec

#: Functions a formula of this module may call (all evaluated by Excel 2010+ and LibreOffice 7.4).
FUNCTIONS = ("AND", "CHOOSE", "COUNT", "COUNTIF", "EXP", "IF", "INDEX", "ISNUMBER", "LN", "MATCH", "MAX",
             "MIN", "N", "NA", "RANK", "ROUND", "AVERAGE", "_xlfn.RANK.AVG", "_xlfn.STDEV.S")

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.]")

#: Normalisation methods with a formula form (:func:`normalise_formula`). A method registered
#: in ``NORMALISERS`` but not here is written as the engine's values (still referenced by the
#: aggregation formulas); ``tests/writing/test_formulas.py`` makes every new method choose.
FORMULA_NORMALISATIONS = frozenset({"minmax", "efficacy", "zscore", "rank", "percentile",
                                    "goalposts"})
#: Aggregation methods with a formula form (:func:`aggregate_formula`); others (``copeland``)
#: are written as values.
FORMULA_AGGREGATIONS = frozenset({"arithmetic", "geometric", "harmonic"})
#: Methods written as the engine's values on purpose (no closed formula).
VALUE_ONLY_NORMALISATIONS: frozenset[str] = frozenset()
VALUE_ONLY_AGGREGATIONS = frozenset({"copeland"})
#: The statistics of an indicator's whole range each normalisation reads (CalcStats columns).
NORMALISATION_STATS: dict[str, tuple[str, ...]] = {
    "minmax": ("min", "max"), "efficacy": ("min", "max"), "zscore": ("mean", "sd"),
    "rank": ("count",), "percentile": ("count",), "goalposts": (),
}
#: A statistic of the range ``{r}`` as a formula.
STAT_FORMULAS = {"count": "COUNT({r})", "min": "MIN({r})", "max": "MAX({r})",
                 "mean": "AVERAGE({r})", "sd": "_xlfn.STDEV.S({r})"}
_STAT_COLUMNS = ("indicator", "method", "direction", "count", "min", "max", "mean", "sd")


@dataclass(frozen=True)
class FormulaOutput:
    """What the formula mode writes: the result sheets and the defined names."""

    sheets: list[SheetSpec]
    names: dict[str, str]


# --------------------------------------------------------------------------------------------
# small helpers


def num(v: float) -> str:
    """A constant as formula text: ``100``, ``0.25``, ``1.5E-07``, ``(-2)``."""
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"not a finite number: {v}")
    text = str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v).upper()
    return f"({text})" if v < 0 else text


def quote_sheet(name: str) -> str:
    """``'Data'``: a sheet name as a reference prefix (always quoted, quotes doubled)."""
    return "'" + name.replace("'", "''") + "'"


def column_range(sheet: str, col: int, first: int, last: int) -> str:
    """Absolute reference of 0-based column ``col``, 0-based grid rows ``first``..``last``."""
    c = column_letter(col)
    return f"{quote_sheet(sheet)}!${c}${first + 1}:${c}${last + 1}"


def block_range(sheet: str, col0: int, col1: int, first: int, last: int) -> str:
    """Absolute reference of a block of columns ``col0``..``col1`` (0-based, inclusive)."""
    return (f"{quote_sheet(sheet)}!${column_letter(col0)}${first + 1}:"
            f"${column_letter(col1)}${last + 1}")


def _count(refs: Sequence[str]) -> str:
    """``COUNT(a,b,…)``, split into sums of COUNTs of at most 255 arguments."""
    parts = [f"COUNT({','.join(refs[i:i + 255])})" for i in range(0, len(refs), 255)]
    return "+".join(parts) if len(parts) == 1 else "(" + "+".join(parts) + ")"


def _finite(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and math.isfinite(float(v))


def _cached(v: Any) -> Any:
    """The cached value of a formula cell: the engine's number, or ``""`` for a blank result."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or v is pd.NA:
        return ""
    if hasattr(v, "item"):
        return v.item()
    return v


def _with(cell: Cell, value: Any, formula: str | None = None) -> Cell:
    """``cell`` with another value and formula (style and link kept)."""
    return Cell(value, formula=formula, style=cell.style, link=cell.link)


class Names:
    """Allocates the defined names (unique case-insensitively, valid in Excel) and their
    references."""

    def __init__(self) -> None:
        self.refs: dict[str, str] = {}
        self._by_key: dict[tuple[str, str], str] = {}
        self._taken: set[str] = set()

    def add(self, kind: str, ident: str, ref: str) -> str:
        """The name of ``kind`` + ``ident`` (``xlai_data_I01``), referring to ``ref``."""
        key = (kind, ident)
        if key in self._by_key:
            name = self._by_key[key]
            self.refs[name] = ref
            return name
        base = OWNED_PREFIX + (f"{kind}_" if kind else "") + _NAME_CHARS.sub("_", ident)
        base = base[:240]
        name, i = base, 2
        while name.lower() in self._taken:
            name, i = f"{base}_{i}", i + 1
        self._taken.add(name.lower())
        self._by_key[key] = name
        self.refs[name] = ref
        return name

    def get(self, kind: str, ident: str) -> str:
        """A name added before."""
        return self._by_key[(kind, ident)]


# --------------------------------------------------------------------------------------------
# normalisation and aggregation formulas (pure text; tested on their own)


def normalise_formula(method: str, x: str, rng: str, direction: int, params: Mapping[str, float],
                      missing: str, stats: Mapping[str, str] | None = None) -> str:
    """The formula (without ``=``) normalising the value ``x`` over the range ``rng``.

    ``params``: ``low``/``high`` (minmax), ``a``/``b`` (efficacy), ``goal_low``/``goal_high``/
    ``scale`` (goalposts). ``missing``: what a blank ``x`` gives (``""`` or ``NA()``).
    ``stats``: references of the range's statistics computed elsewhere (``min``, ``max``,
    ``mean``, ``sd``, ``count``); a statistic not given is computed inline (``MIN(R)``).

    >>> normalise_formula("minmax", "X", "R", 1, {"low": 0, "high": 100}, '""')
    'IF(ISNUMBER(X),0+100*(X-MIN(R))/(MAX(R)-MIN(R)),"")'
    >>> normalise_formula("rank", "X", "R", -1, {}, "NA()")
    'IF(ISNUMBER(X),COUNT(R)+1-_xlfn.RANK.AVG(X,R,1),NA())'
    """
    def st(key: str) -> str:
        return stats[key] if stats and key in stats else STAT_FORMULAS[key].format(r=rng)

    mirror: str | None = None   # direction -1: constant - s (the contract's mirror)
    if method == "minmax":
        low, high = float(params["low"]), float(params["high"])
        s = f"{num(low)}+{num(high - low)}*({x}-{st('min')})/({st('max')}-{st('min')})"
        mirror = num(low + high)
    elif method == "efficacy":
        a, b = float(params["a"]), float(params["b"])
        s = f"{num(a)}+{num(b)}*({x}-{st('min')})/({st('max')}-{st('min')})"
        mirror = num(2 * a + b)
    elif method == "zscore":
        s = f"({x}-{st('mean')})/{st('sd')}"
        if direction == -1:
            return f"IF(ISNUMBER({x}),-({s}),{missing})"
    elif method == "rank":
        s = f"_xlfn.RANK.AVG({x},{rng},1)"
        if direction == -1:
            return f"IF(ISNUMBER({x}),{st('count')}+1-{s},{missing})"
    elif method == "percentile":
        s = f"100*(_xlfn.RANK.AVG({x},{rng},1)-1)/({st('count')}-1)"
        mirror = "100"
    elif method == "goalposts":
        lo, hi, scale = float(params["goal_low"]), float(params["goal_high"]), float(params["scale"])
        s = f"{num(scale)}*(MIN(MAX({x},{num(lo)}),{num(hi)})-{num(lo)})/{num(hi - lo)}"
        mirror = num(scale)
    else:
        raise KeyError(method)
    if direction == -1 and mirror is not None:
        s = f"{mirror}-({s})"
    return f"IF(ISNUMBER({x}),{s},{missing})"


def aggregate_formula(method: str, cells: Sequence[str], weights: Sequence[str],
                      reweight: bool) -> str:
    """The formula (without ``=``) aggregating the children's ``cells`` with ``weights``
    (names or references of weights summing to 1).

    >>> aggregate_formula("arithmetic", ["D2", "E2"], ["wa", "wb"], False)
    'wa*D2+wb*E2'
    >>> aggregate_formula("harmonic", ["D2", "E2"], ["wa", "wb"], False)
    '1/(wa/D2+wb/E2)'
    >>> aggregate_formula("arithmetic", ["D2", "E2"], ["wa", "wb"], True)
    'IF(COUNT(D2,E2)=0,"",(wa*N(D2)+wb*N(E2))/(wa*ISNUMBER(D2)+wb*ISNUMBER(E2)))'
    """
    pairs = list(zip(cells, weights, strict=True))
    if not reweight:
        if method == "arithmetic":
            return "+".join(f"{w}*{c}" for c, w in pairs)
        if method == "geometric":
            return "*".join(f"{c}^{w}" for c, w in pairs)
        if method == "harmonic":
            return "1/(" + "+".join(f"{w}/{c}" for c, w in pairs) + ")"
        raise KeyError(method)
    present = "+".join(f"{w}*ISNUMBER({c})" for c, w in pairs)
    if method == "arithmetic":
        body = "(" + "+".join(f"{w}*N({c})" for c, w in pairs) + f")/({present})"
    elif method == "geometric":
        body = ("EXP((" + "+".join(f"{w}*LN(IF(ISNUMBER({c}),{c},1))" for c, w in pairs)
                + f")/({present}))")
    elif method == "harmonic":
        body = (f"({present})/(" + "+".join(f"IF(ISNUMBER({c}),{w}/{c},0)" for c, w in pairs)
                + ")")
    else:
        raise KeyError(method)
    return f'IF({_count(list(cells))}=0,"",{body})'


# --------------------------------------------------------------------------------------------
# the builder


@dataclass
class _Rows:
    """Where the units are on an input sheet: its name, the first and last grid row of the
    unit rows, each unit's position (1-based) within them, and its columns by key."""

    sheet: str
    first: int
    last: int
    pos: dict[str, int]
    cols: dict[str, int]

    def range(self, key: str) -> tuple[int, str]:
        col = self.cols[key.lower()]
        return col, column_range(self.sheet, col, self.first, self.last)


def _rows(locator: Locator, sheet: str, units: Sequence[str]) -> _Rows | None:
    loc = locator.sheets.get(sheet.lower())
    if loc is None:
        return None
    grid_rows = {u: loc.rows[u.lower()] for u in units if u.lower() in loc.rows}
    if not grid_rows:
        return None
    first, last = min(grid_rows.values()), max(grid_rows.values())
    return _Rows(loc.name, first, last, {u: r - first + 1 for u, r in grid_rows.items()},
                 dict(loc.cols))


class _Builder:
    def __init__(self, result: IndexResult, locator: Locator, numeric_check: bool,
                 source: Path | None):
        self.result = result
        self.model = result.model
        self.settings = self.model.settings
        self.locator = locator
        self.source = source
        self.numeric_check = numeric_check
        tree, problems = build_tree(self.model.nodes)
        assert tree is not None and not problems
        self.tree: IndicatorTree = tree
        self.units = [str(u) for u in result.scores.index]
        self.n = len(self.units)
        self.names = Names()
        self.problems: list[Problem] = []
        self.reweight = self.settings.missing == "reweight"
        self.missing = '""' if self.reweight else "NA()"
        self.root = self.tree.root.id
        # Scores layout
        self.score_cols = score_columns(result)
        self.col_of = {node: 3 + i for i, node in enumerate(self.score_cols)}
        self.coverage_col = 3 + len(self.score_cols)
        self.data = _rows(locator, "data", self.units) if self.settings.input == "data" else None
        self.given = _rows(locator, "given", self.units)
        self.unit_rows = _rows(locator, "units", self.units)
        self.calc_cols: list[str] = []          # leaves with a Calc column, Framework order
        self.stats_rows: list[list[Cell]] = []  # CalcStats, one row per normalised indicator
        self.calc_cells: dict[str, list[Cell]] = {}
        self.text_cells: list[tuple[str, int, int, str, str]] = []   # sheet, r, c, unit, node

    # ---- names ----
    def scores_ref(self, col: int) -> str:
        return column_range("Scores", col, 1, self.n)

    def data_name(self, leaf: str) -> tuple[str, int]:
        assert self.data is not None
        col, ref = self.data.range(leaf)
        self.note_cells(self.data, col, leaf)
        return self.names.add("data", leaf, ref), col

    def given_name(self, node: str) -> str:
        assert self.given is not None
        col, ref = self.given.range(node)
        self.note_cells(self.given, col, node)
        return self.names.add("given", node, ref)

    def note_cells(self, rows: _Rows, col: int, node: str) -> None:
        for u, k in rows.pos.items():
            self.text_cells.append((rows.sheet, rows.first + k - 1, col, u, node))

    # ---- build ----
    def build(self) -> FormulaOutput:
        specs = {s.name: s for s in result_sheets(self.result)}
        weights = self.weights_sheet(specs["WeightsUsed"])
        scores = self.scores_sheet(specs["Scores"])
        calc = self.calc_sheet()
        ranking = self.ranking_sheet(specs["Ranking"])
        tiers = self.tiers_sheet(specs["Tiers"])
        if self.numeric_check:
            self.check_numbers()
        live = {"Scores": scores, "Ranking": ranking, "Tiers": tiers, "WeightsUsed": weights}
        # other result sheets (Treatment…) have no formulas: as values mode writes them
        sheets = [live.get(name, spec) for name, spec in specs.items()] + [calc]
        sheets.append(self.stats_sheet())     # header only when no indicator is normalised
        for spec in sheets:
            self.check_lengths(spec)
        if self.problems:
            raise ProblemsFound(self.problems)
        return FormulaOutput(sheets, dict(self.names.refs))

    # WeightsUsed ----
    def weights_sheet(self, spec: SheetSpec) -> SheetSpec:
        table = self.result.weights_used
        fw = self.locator.sheets.get("framework")
        row_of_child = {str(c): i + 2 for i, c in enumerate(table["child"])}
        rows: list[list[Cell]] = [list(spec.rows[0])]
        for i, rec in enumerate(table.itertuples(index=False)):
            r = i + 2
            old = list(spec.rows[i + 1])
            node, child, method = str(rec.node), str(rec.child), str(rec.method)
            if method == "given" and fw is not None and "weight" in fw.cols:
                siblings = self.tree.children[node]
                refs = []
                for s in siblings:
                    cell = f"{quote_sheet(fw.name)}!${column_letter(fw.cols['weight'])}$" \
                           f"{fw.rows[s.lower()] + 1}"
                    refs.append(self.names.add("fw", s, cell))
                    self.text_cells.append((fw.name, fw.rows[s.lower()], fw.cols["weight"], "", s))
                own = self.names.get("fw", child)
                old[3] = _with(old[3], _cached(rec.weight),
                                 formula=f"{own}/({'+'.join(refs)})")
            parent_row = row_of_child.get(node)
            total = f"D{r}" if parent_row is None else f"D{r}*E{parent_row}"
            old[4] = _with(old[4], _cached(rec.weight_in_total), formula=total)
            self.names.add("w", child, f"{quote_sheet('WeightsUsed')}!$D${r}")
            rows.append(old)
        return replace(spec, rows=rows)

    # Scores ----
    def scores_sheet(self, spec: SheetSpec) -> SheetSpec:
        self.names.add("", "unit", self.scores_ref(0))
        for node in self.score_cols:
            if self.result.scores[node].notna().any() or node in self.formula_nodes():
                self.names.add("s", node, self.scores_ref(self.col_of[node]))
        makers = self.column_makers()
        rows: list[list[Cell]] = [list(spec.rows[0])]
        for i, u in enumerate(self.units):
            old = list(spec.rows[i + 1])
            for col, make in makers.items():
                formula, value = make(i, u)
                if formula is None:
                    old[col] = _with(old[col], value)
                else:
                    old[col] = _with(old[col], _cached(value), formula=formula)
            rows.append(old)
        return replace(spec, rows=rows)

    def formula_nodes(self) -> set[str]:
        """Nodes whose Scores column gets formulas (or Python values standing for them)."""
        s = self.result.stages["scores"]
        return set(s.columns) | set(self.result.stages["raw"].columns if
                                     self.settings.input == "given" else ())

    def column_makers(self) -> dict[int, Callable[[int, str], tuple[str | None, Any]]]:
        makers: dict[int, Callable[[int, str], tuple[str | None, Any]]] = {}
        stage_scores = self.result.stages["scores"]
        if self.settings.input == "data":
            for leaf in self.tree.leaves:
                makers[self.col_of[leaf]] = self.leaf_maker(leaf)
        else:
            raw = self.result.stages["raw"]
            used = set(self.result.stages["treated"].columns)
            for node in raw.columns:
                makers[self.col_of[node]] = self.given_maker(str(node), str(node) in used)
        for node in self.tree.inner:
            if node in stage_scores.columns and not (self.settings.input == "given"
                                                     and node in self.result.stages["raw"]):
                makers[self.col_of[node]] = self.inner_maker(node)
        makers[self.coverage_col] = self.coverage_maker()
        return makers

    def leaf_maker(self, leaf: str) -> Callable[[int, str], tuple[str | None, Any]]:
        node = self.tree.by_id[leaf]
        s = self.settings
        method = node.normalisation or s.normalisation
        params = {"low": s.minmax_range[0], "high": s.minmax_range[1], "a": s.efficacy_a,
                  "b": s.efficacy_b, "goal_low": node.goal_low if node.goal_low is not None else 0.0,
                  "goal_high": node.goal_high if node.goal_high is not None else 1.0,
                  "scale": s.goalposts_scale}
        x_name, pos = self.x_source(leaf)
        values = self.result.scores[leaf]
        stats = self.stats_row(leaf, method, x_name) if method in FORMULA_NORMALISATIONS else {}

        def make(i: int, u: str) -> tuple[str | None, Any]:
            if method not in FORMULA_NORMALISATIONS:   # no formula form: the engine's value
                v = values.iloc[i]
                return None, None if pd.isna(v) else float(v)
            x = f"INDEX({x_name},{pos(i, u)})"
            return normalise_formula(method, x, x_name, int(node.direction), params,
                                     self.missing, stats), values.iloc[i]
        return make

    def stats_row(self, leaf: str, method: str, x_name: str) -> dict[str, str]:
        """Add the CalcStats row of an indicator: the statistics of its range its
        normalisation reads, each computed once (not once per unit); their names."""
        x = self.result.stages["treated"][leaf].dropna()
        engine = {"count": float(len(x)), "min": float(x.min()), "max": float(x.max()),
                  "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if len(x) > 1 else math.nan}
        r = 2 + len(self.stats_rows)
        node = self.tree.by_id[leaf]
        row = [Cell(leaf), Cell(method), Cell(node.direction, style=INTEGER)]
        refs: dict[str, str] = {}
        for j, key in enumerate(_STAT_COLUMNS[3:], start=3):
            if key not in NORMALISATION_STATS.get(method, ()):
                row.append(Cell(None))
                continue
            row.append(Cell(_cached(engine[key]), formula=STAT_FORMULAS[key].format(r=x_name),
                            style=INTEGER if key == "count" else PRECISE))
            cell = f"{quote_sheet(CALC_STATS)}!${column_letter(j)}${r}"
            refs[key] = self.names.add(key, leaf, cell)
        self.stats_rows.append(row)
        return refs

    def x_source(self, leaf: str) -> tuple[str, Callable[[int, str], int]]:
        """The name of the range an indicator is normalised over and each unit's position in
        it; adds the indicator's Calc column when it needs one."""
        node = self.tree.by_id[leaf]
        data_name, data_col = self.data_name(leaf)
        assert self.data is not None
        data_pos = self.data.pos
        treated = self.result.stages["treated"][leaf]
        raw = self.result.stages["raw"][leaf]
        den_name = None
        x0 = raw.copy()
        if node.denominator is not None:
            cols = {str(c).lower(): str(c) for c in self.model.units.columns}
            den_col = cols[node.denominator.lower()]
            assert self.unit_rows is not None
            col, ref = self.unit_rows.range(den_col)
            den_name = self.names.add("units", den_col, ref)
            self.note_cells(self.unit_rows, col, leaf)
            den = pd.to_numeric(self.model.units[den_col], errors="coerce").reindex(x0.index)
            x0 = x0 / den
        if node.transform == "log":
            x0 = np.log(x0.where(x0 > 0))
        changed = ~((treated == x0) | (treated.isna() & x0.isna()))
        if den_name is None and node.transform is None and not changed.any():
            self.names.add("x", leaf, self.names.refs[data_name])
            return self.names.get("x", leaf), lambda i, u: data_pos[u]
        # a Calc column: formulas from Data where Python did not change the value, else values
        unit_pos = self.unit_rows.pos if self.unit_rows is not None else {}
        cells: list[Cell] = []
        for i, u in enumerate(self.units):
            value = treated.iloc[i]
            if bool(changed.iloc[i]):
                cells.append(Cell(None if pd.isna(value) else float(value), style=NUMBER))
                continue
            d = f"INDEX({data_name},{data_pos[u]})"
            expr = d if den_name is None else f"{d}/INDEX({den_name},{unit_pos[u]})"
            if node.transform == "log":
                expr = f"LN({expr})"
            cells.append(Cell(_cached(value), formula=f'IF(ISNUMBER({d}),{expr},"")', style=NUMBER))
        self.calc_cols.append(leaf)
        self.calc_cells[leaf] = cells
        calc_col = 3 + len(self.calc_cols) - 1
        self.names.add("x", leaf, column_range(CALC, calc_col, 1, self.n))
        return self.names.get("x", leaf), lambda i, u: i + 1

    def given_maker(self, node: str, used: bool) -> Callable[[int, str], tuple[str | None, Any]]:
        assert self.given is not None
        name = self.given_name(node)
        pos = self.given.pos
        raw = self.result.stages["raw"][node]
        values = self.result.scores[node]
        missing = self.missing if used else '""'

        def make(i: int, u: str) -> tuple[str | None, Any]:
            v = values.iloc[i]
            if u not in pos or (pd.isna(raw.iloc[i]) and not pd.isna(v)):   # imputed: a value
                return None, None if pd.isna(v) else float(v)
            g = f"INDEX({name},{pos[u]})"
            return f"IF(ISNUMBER({g}),{g},{missing})", v
        return make

    def inner_maker(self, node: str) -> Callable[[int, str], tuple[str | None, Any]]:
        n = self.tree.by_id[node]
        method = n.aggregation or self.settings.aggregation
        kids = self.tree.children[node]
        weights = [self.names.get("w", k) for k in kids]
        letters = {k: column_letter(self.col_of[k]) for k in kids}
        values = self.result.scores[node]

        def make(i: int, u: str) -> tuple[str | None, Any]:
            v = values.iloc[i]
            if method not in FORMULA_AGGREGATIONS:   # copeland: no closed formula, a value
                return None, None if pd.isna(v) else float(v)
            cells = [f"{letters[k]}{i + 2}" for k in kids]
            return aggregate_formula(method, cells, weights, self.reweight), v
        return make

    def coverage_maker(self) -> Callable[[int, str], tuple[str | None, Any]]:
        raw = self.result.stages["raw"]
        rows = self.data if self.settings.input == "data" else self.given
        coverage = self.result.coverage.reindex(self.result.scores.index)
        if rows is None or raw.shape[1] == 0:
            return lambda i, u: (None, float(coverage.iloc[i]))
        cols = sorted(rows.cols[str(c).lower()] for c in raw.columns)
        runs: list[tuple[int, int]] = []
        for c in cols:
            if runs and c == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], c)
            else:
                runs.append((c, c))
        names = [self.names.add("cov", str(j + 1), block_range(rows.sheet, a, b, rows.first,
                                                               rows.last))
                 for j, (a, b) in enumerate(runs)]
        m = raw.shape[1]
        pos = rows.pos

        def make(i: int, u: str) -> tuple[str | None, Any]:
            if u not in pos:
                return None, float(coverage.iloc[i])
            refs = [f"INDEX({name},{pos[u]},0)" for name in names]
            return f"{_count(refs)}/{m}", float(coverage.iloc[i])
        return make

    # Calc ----
    def calc_sheet(self) -> SheetSpec:
        s = self.settings
        header = ["unit", "name_zh", "name_en", *self.calc_cols, "rank_basis", "rank", "tier"]
        b_col = 3 + len(self.calc_cols)
        root_letter = column_letter(self.col_of[self.root])
        cov_letter = column_letter(self.coverage_col)
        self.names.add("", "basis", column_range(CALC, b_col, 1, self.n))
        self.names.add("", "rank", column_range(CALC, b_col + 1, 1, self.n))
        self.names.add("", "tier", column_range(CALC, b_col + 2, 1, self.n))
        total = self.result.total
        rank = self.result.rank
        tier = self.result.tier
        eligible = total.notna() & (self.result.coverage >= s.coverage_min)
        basis = total.where(eligible)
        if s.rank_decimals is not None:
            from ..rank import excel_round

            basis = basis.map(lambda v: excel_round(v, s.rank_decimals) if pd.notna(v) else v)
        units = self.model.units
        rows: list[list[Cell]] = [[Cell(h, style=HEADER) for h in header]]
        bl, rl = column_letter(b_col), column_letter(b_col + 1)
        for i, u in enumerate(self.units):
            r = i + 2
            t = f"Scores!${root_letter}{r}"
            cond = f"ISNUMBER({t})"
            if s.coverage_min > 0:
                cond = f"AND({cond},Scores!${cov_letter}{r}>={num(s.coverage_min)})"
            value = t if s.rank_decimals is None else f"ROUND({t},{s.rank_decimals})"
            rk = f"{rl}{r}"
            if s.tiers.kind == "rank":
                steps = "".join(f"+({rk}>{num(b)})" for b in s.tiers.bounds)
            else:
                # the rank basis (rounded as the ranks are): tied units share a tier
                steps = "".join(f"+({bl}{r}<{num(b)})" for b in s.tiers.bounds)
            t_val = int(tier.iloc[i]) if tier.iloc[i] > 0 else ""
            row = [Cell(u), Cell(str(units.at[u, "name_zh"] or "") or None),
                   Cell(str(units.at[u, "name_en"] or "") or None)]
            row += [self.calc_cells[leaf][i] for leaf in self.calc_cols]
            row += [Cell(_cached(basis.iloc[i]), formula=f'IF({cond},{value},"")', style=NUMBER),
                    Cell(_cached(rank.iloc[i]), formula=f'IF(ISNUMBER({bl}{r}),RANK({bl}{r},'
                         f'{self.names.get("", "basis")},0),"")', style=INTEGER),
                    Cell(t_val, formula=f'IF(ISNUMBER({rk}),1{steps},"")', style=INTEGER)]
            rows.append(row)
        widths = {0: 14.0, 1: 12.0, 2: 16.0}
        return SheetSpec(CALC, rows, widths, freeze=(1, 3))

    def stats_sheet(self) -> SheetSpec:
        rows = [[Cell(h, style=HEADER) for h in _STAT_COLUMNS], *self.stats_rows]
        widths = {0: 14.0, 1: 12.0, 2: 10.0, **{j: 14.0 for j in range(3, len(_STAT_COLUMNS))}}
        return SheetSpec(CALC_STATS, rows, widths, freeze=(1, 1))

    # Ranking ----
    def ranking_sheet(self, spec: SheetSpec) -> SheetSpec:
        table = ranking_table(self.result)
        cols = list(table.columns)
        unit_name = self.names.get("", "unit")
        sources = {"rank": self.names.get("", "rank"), "tier": self.names.get("", "tier"),
                   "score": self.names.get("s", self.root)}
        for c in cols:
            if c in self.col_of:
                sources[c] = self.names.get("s", c)
        published = None
        if "published" in cols and self.given is not None:
            published = self.given_name("published")
        rule = self.settings.tiers
        labels = ",".join('"' + rule.label(t).replace('"', '""') + '"'
                          for t in range(1, rule.count + 1)) if rule.labels else ""
        places = decimals_of(table["published"]) if "published" in cols else 0
        rows: list[list[Cell]] = [list(spec.rows[0])]
        ucol = column_letter(cols.index("unit"))
        for i, rec in enumerate(table.itertuples(index=False)):
            r = i + 2
            values = dict(zip(cols, rec, strict=True))
            old = list(spec.rows[i + 1])
            match = f"MATCH(${ucol}{r},{unit_name},0)"
            for j, c in enumerate(cols):
                if c == "tier" and labels:
                    # the label the analyst reads; the tier number stays in Calc
                    t = f"INDEX({sources[c]},{match})"
                    formula = f'IF(ISNUMBER({t}),CHOOSE({t},{labels}),"")'
                elif c in sources:
                    formula = f"INDEX({sources[c]},{match})"
                elif c == "published" and published is not None and self.given is not None \
                        and values["unit"] in self.given.pos:
                    g = f"INDEX({published},{self.given.pos[values['unit']]})"
                    formula = f'IF(ISNUMBER({g}),{g},"")'
                elif c == "diff" and published is not None:
                    a = column_letter(cols.index("score"))
                    b = column_letter(cols.index("published"))
                    formula = (f'IF(AND(ISNUMBER({a}{r}),ISNUMBER({b}{r})),'
                               f'ROUND({a}{r}-{b}{r},{places}),"")')
                else:
                    continue
                old[j] = _with(old[j], _cached(values[c]), formula=formula)
            rows.append(old)
        return replace(spec, rows=rows)

    # Tiers ----
    def tiers_sheet(self, spec: SheetSpec) -> SheetSpec:
        table = tiers_table(self.result)
        tier_name = self.names.get("", "tier")
        rows: list[list[Cell]] = [list(spec.rows[0])]
        for i, rec in enumerate(table.itertuples(index=False)):
            old = list(spec.rows[i + 1])
            old[3] = _with(old[3], int(rec.count), formula=f"COUNTIF({tier_name},{int(rec.tier)})")
            rows.append(old)
        return replace(spec, rows=rows)

    # checks ----
    def check_numbers(self) -> None:
        """Input cells the formulas read must hold numbers (or be blank): the engine reads
        text such as "1,234" as a number, a formula does not."""
        if self.source is None or not self.text_cells:
            return
        from .source import OpenpyxlSource

        src = OpenpyxlSource(self.source)
        try:
            grids: dict[str, list[list[Any]]] = {}
            seen: set[tuple[str, int, int]] = set()
            for sheet, r, c, unit, node in self.text_cells:
                if (sheet, r, c) in seen:
                    continue
                seen.add((sheet, r, c))
                if sheet not in grids:
                    grids[sheet] = src.grid(sheet).values
                values = grids[sheet]
                v = values[r][c] if r < len(values) and c < len(values[r]) else None
                if isinstance(v, str) and v.strip():
                    self.problems.append(Problem(
                        sheet, address(r, c), unit, node,
                        f"holds the text '{v.strip()}', which the formulas of output = formulas "
                        "cannot read as a number: type it as a number (or use output = values)"))
        finally:
            src.close()

    def check_lengths(self, spec: SheetSpec) -> None:
        for r, row in enumerate(spec.rows):
            for c, cell in enumerate(row):
                if cell.formula is not None and len(cell.formula) + 1 > MAX_FORMULA:
                    node = str(spec.rows[0][c].value)
                    self.problems.append(Problem(
                        "Framework", "", "", node,
                        f"output = formulas: the formula of {spec.name}!{address(r, c)} (node "
                        f"{node}) would have {len(cell.formula) + 1:,} characters, more than "
                        f"Excel's {MAX_FORMULA:,}; use output = values", field="id"))
                    return


def formula_output(result: IndexResult, locator: Locator, source: str | Path | None = None
                   ) -> FormulaOutput:
    """The result sheets of ``result`` with live formulas and cached values, and the defined
    names they use (:data:`CALC` is the helper sheet).

    ``locator``: where the inputs are (from reading the workbook). ``source``: the workbook
    file, to check that every input cell the formulas read holds a number (the engine reads
    text such as "1,234" as a number; a formula would not).
    Raises :class:`ProblemsFound` when the workbook cannot be written with formulas.
    """
    return _Builder(result, locator, source is not None,
                    None if source is None else Path(source)).build()


def helper_values_sheets(result: IndexResult, locator: Locator,
                         sheets: Sequence[str] = (CALC, CALC_STATS)) -> list[SheetSpec]:
    """The helper sheets (Calc, CalcStats) named in ``sheets``, with values only: what values
    mode writes over those an earlier formula-mode run left, so that nothing refers to the
    names it removes."""
    out = _Builder(result, locator, False, None).build()
    by_name = {s.name.lower(): s for s in out.sheets}
    wanted = [n.strip().lower() for n in sheets]
    return [replace(by_name[key], rows=[[_with(c, None if c.value == "" else c.value)
                                         for c in row] for row in by_name[key].rows])
            for key in (CALC.lower(), CALC_STATS.lower()) if key in wanted]


def output_mode(settings_output: str, override: str | None) -> str:
    """``values`` or ``formulas``: the CLI flag when given, else the Settings value."""
    mode = override or settings_output or "values"
    if mode not in ("values", "formulas"):
        raise ValueError(f"output must be 'values' or 'formulas', not {mode!r}")
    return mode


def output_sheets(result: IndexResult, locator: Locator, source: str | Path, mode: str
                  ) -> tuple[list[SheetSpec], dict[str, str]]:
    """The result sheets ``recalc`` writes in ``mode`` (``values`` or ``formulas``) and the
    defined names to leave in the workbook (values mode: none of ours).

    Values mode also rewrites the Calc and CalcStats sheets an earlier formula-mode run left,
    with values, so nothing refers to the names it removes.
    """
    if mode == "formulas":
        out = formula_output(result, locator, source)
        return out.sheets, out.names
    sheets = result_sheets(result)
    from .ooxml import sheet_names

    present = [n for n in sheet_names(source) if n.strip().lower() in (CALC.lower(),
                                                                        CALC_STATS.lower())]
    if present:
        sheets.extend(helper_values_sheets(result, locator, present))
    return sheets, {}
