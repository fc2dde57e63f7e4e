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

Where things are (each module one concern; lower ones never import higher ones):

* :mod:`.refs`: formula text: constants, references, :class:`Names` (the defined names);
* :mod:`.methods`: which methods have a formula, and the formula of each;
* :mod:`.state`: what the builder knows while it writes (:class:`~.state.FormulaState`);
* :mod:`.calc`: the Calc and CalcStats helper sheets; :mod:`.scores`: the Scores sheet;
* :mod:`.tables`: WeightsUsed, Ranking and Tiers; :mod:`.checks`: text inputs, long formulas;
* :mod:`.build`: :func:`formula_output`, :func:`helper_values_sheets`;
* :mod:`.output`: :func:`output_mode`, :func:`output_sheets` (what ``recalc`` writes per mode).
"""

from typing import TYPE_CHECKING

# loaded on first use (PEP 562): a values-mode recalc needs only .output, and the formula
# builders are a good part of a small recalc's start-up (issue 20)
if TYPE_CHECKING:
    from .build import FormulaOutput, formula_output, helper_values_sheets
    from .methods import (
        FORMULA_AGGREGATIONS,
        FORMULA_NORMALISATIONS,
        NORMALISATION_STATS,
        STAT_FORMULAS,
        VALUE_ONLY_AGGREGATIONS,
        VALUE_ONLY_NORMALISATIONS,
        aggregate_formula,
        normalise_formula,
    )
    from .refs import FUNCTIONS, Names, block_range, column_range, num, quote_sheet
from ...lazy import lazy_names
from .output import output_mode, output_sheets, panel_output_mode

#: the module of each name exported here but :mod:`.output`'s
_HOMES = {
    **dict.fromkeys(("FormulaOutput", "formula_output", "helper_values_sheets"), "build"),
    **dict.fromkeys(("FORMULA_AGGREGATIONS", "FORMULA_NORMALISATIONS", "NORMALISATION_STATS",
                     "STAT_FORMULAS", "VALUE_ONLY_AGGREGATIONS", "VALUE_ONLY_NORMALISATIONS",
                     "aggregate_formula", "normalise_formula"), "methods"),
    **dict.fromkeys(("FUNCTIONS", "Names", "block_range", "column_range", "num",
                     "quote_sheet"), "refs"),
}


#: The names of the formula builders, imported when first asked for.
__getattr__ = lazy_names(__name__, _HOMES, ".{}", __name__)


__all__ = ["FORMULA_AGGREGATIONS", "FORMULA_NORMALISATIONS", "FUNCTIONS", "NORMALISATION_STATS",
           "STAT_FORMULAS", "VALUE_ONLY_AGGREGATIONS", "VALUE_ONLY_NORMALISATIONS", "FormulaOutput",
           "Names", "aggregate_formula", "block_range", "column_range", "formula_output",
           "helper_values_sheets", "normalise_formula", "num", "output_mode", "output_sheets",
           "panel_output_mode", "quote_sheet"]
