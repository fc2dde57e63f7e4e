"""The workbook contract (``docs``: WORKBOOK.md) in one place: sheet names, column keys, Excel's
error values and limits, and how names are matched.

Every reader, writer, the scaffold, the Excel builder and ``udfs`` import these names from here;
no other module defines them again (``tests/project/test_contract.py`` fails if one does). A new result
sheet is added here by name (:data:`TOOL_SHEETS`); a new input column here too.

Nothing here imports another module of the workbook layer: this is its bottom.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .text import text

# --------------------------------------------------------------------------------------------
# matching names


def key(value: Any) -> str:
    """How the contract matches names (sheet names, column keys, method names, settings keys):
    the cell as text (:func:`~xl_aiindex.text.text`: ``3.0`` is ``"3"``), surrounding spaces
    ignored, case-insensitive (Unicode case folding: ``"Straße"`` matches ``"STRASSE"``).

    >>> key(" Problems "), key("LOG") == key("log"), key(None), key("Straße") == key("STRASSE")
    ('problems', True, '', True)
    """
    return text(value).casefold()


# --------------------------------------------------------------------------------------------
# input sheets (read by every command; recalc never writes them)

SETTINGS, FRAMEWORK, UNITS, DATA, GIVEN = "Settings", "Framework", "Units", "Data", "Given"
#: What a sensitivity run varies (an input, never rewritten).
UNCERTAINTY = "Uncertainty"
#: The input sheets, in the order a new workbook has them.
INPUT_SHEETS = (SETTINGS, FRAMEWORK, UNITS, DATA, GIVEN)
#: The sheet of a new workbook that explains it to people (no command reads it).
README = "README"
#: ``AHP_<node>`` and ``Budget_<node>``: the matrices of the ``ahp`` and ``budget`` weighting.
AHP_PREFIX, BUDGET_PREFIX = "AHP", "Budget"

#: The Settings sheet's columns.
SETTINGS_COLUMNS = ("key", "value")
#: Framework columns of the contract, in sheet order.
FRAMEWORK_COLUMNS = ("id", "parent", "name_zh", "name_en", "weight", "direction", "normalisation",
                     "goal_low", "goal_high", "denominator", "transform", "aggregation", "weighting",
                     "unit", "source", "note")
#: The Units sheet's required columns (any other column is a grouping or a denominator).
UNITS_COLUMNS = ("id", "name_zh", "name_en")
#: The optional Units column of other names of a unit (``京;Peking``), ``;``-separated.
ALIASES_COLUMN = "aliases"
#: Texts of a Data or Given cell read as a missing value (with a note) unless Settings
#: ``missing_markers`` gives others: the dashes, ellipsis, "not yet available" and "none" of
#: Chinese statistical tables, and the English not-available marks.
DEFAULT_MISSING_MARKERS = ("—", "-", "–", "…", "暂无", "无", "N/A", "NA", "#N/A", "n/a")
#: The column of Data and Given that names the unit of a row (then one column per node id).
UNIT_COLUMN = "unit"
#: Panel mode: this column right after ``unit`` in Data or Given.
YEAR_COLUMN = "year"
#: Given's optional column: the printed total of the root (never an input).
PUBLISHED_COLUMN = "published"

# --------------------------------------------------------------------------------------------
# result sheets (rewritten by recalc, the macros and the CLI)

SCORES, RANKING, TIERS, WEIGHTS_USED = "Scores", "Ranking", "Tiers", "WeightsUsed"
PROBLEMS, LOG = "Problems", "Log"
TREATMENT, CALC, CALC_STATS = "Treatment", "Calc", "CalcStats"
UNCERTAINTY_RESULTS, SENSITIVITY = "UncertaintyResults", "Sensitivity"
AUDIT, GROUP_RANKING = "Audit", "GroupRanking"
CHARTS, COMPARE, CHANGES = "Charts", "Compare", "Changes"
TRENDS, EXAMPLES = "Trends", "Examples"
#: The sheet `excel --lite` writes: the xlwings Lite functions at work (xl_aiindex.lite).
LITE_EXAMPLES = "Lite Examples"
#: The very hidden sheet of fingerprints (:mod:`~xl_aiindex.workbook.fingerprint`).
STORE_SHEET = "_xl_aiindex"

#: Every sheet xl-aiindex may write, in the order the README lists them.
TOOL_SHEETS: tuple[str, ...] = (
    SCORES, RANKING, TIERS, WEIGHTS_USED, PROBLEMS, LOG, TREATMENT, CALC,
    CALC_STATS, UNCERTAINTY_RESULTS, SENSITIVITY, AUDIT, GROUP_RANKING, COMPARE,
    CHANGES, CHARTS, TRENDS, STORE_SHEET,
)
#: The core result sheets of every recalc (and of the macros): a sheet of the user's under one
#: of these names refuses the write.
CORE_SHEETS: tuple[str, ...] = (SCORES, RANKING, TIERS, WEIGHTS_USED, LOG, PROBLEMS, STORE_SHEET)
#: The optional extras of a recalc: a sheet of the user's under one of these names is kept and
#: the extra skipped with a note (the core results are still written).
OPTIONAL_SHEETS: tuple[str, ...] = (TREATMENT, GROUP_RANKING, CHARTS, COMPARE, TRENDS)
#: The sheets of one command or mode (formula mode's helpers, uncertainty, audit,
#: compare-editions): the results of that command, refused as core sheets are.
COMMAND_SHEETS: tuple[str, ...] = tuple(n for n in TOOL_SHEETS
                                        if n not in CORE_SHEETS and n not in OPTIONAL_SHEETS)

#: The Problems sheet's columns (one row per problem).
PROBLEMS_HEADER = ("sheet", "cell", "unit", "node", "problem")
#: The Tiers sheet's columns.
TIERS_COLUMNS = ("tier", "label", "units", "count")
#: The WeightsUsed sheet's columns.
WEIGHTS_USED_COLUMNS = ("node", "child", "method", "weight", "weight_in_total")
#: The Log's columns; ``inputs_hash`` (:func:`xl_aiindex.staleness.inputs_hash`) is what
#: ``recalc --check`` compares.
LOG_COLUMNS = ("time", "command", "version", "file", "input", "units", "status", "notes",
               "inputs_hash")
#: The UncertaintyResults sheet's columns: units in nominal order; q05 / median / q95 side by
#: side, then the lengths of the rank-interval chart's error bars (median − q05, q95 − median).
UNCERTAINTY_RESULTS_COLUMNS = ("unit", "name_zh", "name_en", "nominal_rank", "rank_q05",
                               "median_rank", "rank_q95", "nominal_tier", "p_nominal_tier",
                               "mean_abs_shift", "below_median", "above_median")
#: Column widths of a new Log sheet.
LOG_WIDTHS = {"time": 26.0, "command": 18.0, "version": 10.0, "file": 30.0, "input": 8.0,
              "units": 8.0, "status": 12.0, "notes": 60.0, "inputs_hash": 18.0}


def has_problems_sheet(sheet_names: Iterable[str]) -> bool:
    """Whether a workbook of these sheet names has a Problems sheet (matched by :func:`key`):
    a run that computes results empties it (an earlier validation's list would now be wrong;
    :func:`~xl_aiindex.workbook.writer.stale_problems`)."""
    return any(key(n) == key(PROBLEMS) for n in sheet_names)


# --------------------------------------------------------------------------------------------
# Excel's error values

#: The error values a formula gives in every Excel version, with the code VBA's ``CVErr``
#: takes for each (what an ``AI_…`` function returns through the VBA wrappers).
ERROR_CODES = {"#NULL!": 2000, "#DIV/0!": 2007, "#VALUE!": 2015, "#REF!": 2023, "#NAME?": 2029,
               "#NUM!": 2036, "#N/A": 2042}
#: The classic error values (the ones a cell of type ``e`` may hold in any Excel version).
FORMULA_ERRORS = frozenset(ERROR_CODES)
#: Every error value that can appear in a cell's cached value (the classic ones and those of
#: dynamic arrays, data types and the web).
ERROR_VALUES = FORMULA_ERRORS | frozenset({"#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!",
                                           "#BLOCKED!", "#UNKNOWN!"})

# --------------------------------------------------------------------------------------------
# Excel's limits

#: Rows and columns of a worksheet.
MAX_ROWS = 1_048_576
MAX_COLS = 16_384
#: Characters in one cell.
MAX_TEXT = 32_767
#: Characters in one formula.
MAX_FORMULA = 8192
#: Characters in a sheet name, the characters a sheet name may not hold (nor start or end with
#: ``'``), and the name Excel reserves.
MAX_SHEET_NAME = 31
SHEET_NAME_FORBIDDEN = "[]:*?/\\"
RESERVED_SHEET_NAME = "History"
#: A sheet that is read may hold at most MAX_SHEET_CELLS cells (rows x the widest row, counted
#: from its cells' references, whatever the sheet's <dimension> claims): not Excel's limit but
#: the readers' (a sheet formatted to the last row would otherwise be read cell by cell).
MAX_SHEET_CELLS = 20_000_000
