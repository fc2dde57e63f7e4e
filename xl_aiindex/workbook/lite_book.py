"""What ``xl-aiindex excel BOOK --lite`` writes for xlwings Lite: a defined name per input sheet
and the "Lite Examples" sheet (:mod:`xl_aiindex.lite` explains the object-handle design).

* **Names** ``AI_Settings``, ``AI_Framework``, ``AI_Units``, ``AI_Data``, ``AI_Given`` (those the
  book has): each sheet from A1 down and across :data:`SLACK_ROWS` rows and
  :data:`SLACK_COLUMNS` columns past what it holds, so rows and indicators added later are in
  range (the Lite reader drops the blank rest). This write owns the workbook-level names that
  start with ``AI_`` (``recalc`` owns ``xlai_`` and never touches them); a name of the user's
  with that prefix refuses the write (a problem naming it) unless ``--force``.
* **Lite Examples**: ``=AI_MODEL(AI_Settings, …)`` in C2 and a call of every Lite function on
  that handle, each with its formula as text beside it and the value the engine computes here
  (the functions in Excel answer the same: ``tests/excel/test_lite.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..contract import DATA, FRAMEWORK, GIVEN, LITE_EXAMPLES, SETTINGS, UNITS, key
from ..errors import Problem
from ..groups import grouping_columns
from ..i18n import _
from ..model import IndexModel
from .answers import (
    Outcome,
    UdfError,
    index_of,
    rank_of,
    subindex_of,
    tier_of,
    weight_of,
)
from .cells import column_letter
from .result_cells import _header
from .sheetspec import Cell, SheetSpec, Style

#: The prefix of the workbook-level names ``excel --lite`` owns.
LITE_PREFIX = "AI_"
#: Blank rows and columns each name reaches past its sheet's content.
SLACK_ROWS, SLACK_COLUMNS = 500, 20
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384
#: Where the Lite Examples sheet puts the AI_MODEL handle (the other formulas refer to it).
MODEL_CELL = "$C$2"
COLUMNS = ("example", "formula", "result", "expected")


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def input_names(sheet_names: Sequence[str], grids: dict[str, list[list[Any]]]) -> dict[str, str]:
    """``AI_<sheet>`` -> ``'Sheet'!$A$1:$X$n`` for each input sheet the book has (``grids``:
    the sheets' values by their real name)."""
    names = {}
    for sheet in (SETTINGS, FRAMEWORK, UNITS, DATA, GIVEN):
        real = next((n for n in sheet_names if key(n) == key(sheet)), None)
        if real is None:
            continue
        values = grids.get(real, [])
        rows = min(len(values) + SLACK_ROWS, MAX_ROWS)
        columns = min(max((len(r) for r in values), default=1) + SLACK_COLUMNS, MAX_COLUMNS)
        names[LITE_PREFIX + sheet] = f"{_quoted(real)}!$A$1:${column_letter(columns - 1)}${rows}"
    return names


def foreign_names(existing: dict[str, str], ours: dict[str, str]) -> list[Problem]:
    """A problem for each workbook-level name of ``existing`` (name -> reference) with the
    ``AI_`` prefix that this write does not make: the write would remove it."""
    mine = {n.casefold() for n in ours}
    return [Problem("", problem=_(
        "the workbook has its own defined name {name} (={ref}): excel --lite manages the names "
        "starting with {prefix} and would remove it; rename it, or use --force to replace it")
        .format(name=n, ref=ref, prefix=LITE_PREFIX))
        for n, ref in existing.items()
        if n.casefold().startswith(LITE_PREFIX.casefold()) and n.casefold() not in mine]


def model_formula(names: dict[str, str], model: IndexModel) -> str:
    """``AI_MODEL(AI_Settings,AI_Framework,AI_Units,AI_Given)`` (or ``AI_Data`` [``,AI_Given``]
    with input = data)."""
    args = [LITE_PREFIX + s for s in (SETTINGS, FRAMEWORK, UNITS)]
    if model.settings.input == "given":
        args.append(LITE_PREFIX + GIVEN)
    else:
        args.append(LITE_PREFIX + DATA)
        if LITE_PREFIX + GIVEN in names:
            args.append(LITE_PREFIX + GIVEN)
    return f"AI_MODEL({','.join(args)})"


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _expected(compute: Any) -> Any:
    """What a Lite function answers here (its ``#AI! …`` text when it fails)."""
    try:
        return compute()
    except UdfError as e:
        return e.text


def lite_examples_sheet(model: IndexModel, outcome: Outcome, names: dict[str, str]) -> SheetSpec:
    """The Lite Examples sheet: the model handle, then one call of each Lite function on it (a
    unit and a node of this book), each with its formula as text and the value it answers for
    ``outcome`` (the index built here, or its problems: then the ``#AI! …`` text)."""
    result = outcome.result
    units = model.units
    if result is not None:
        unit = str(result.rank.sort_values(kind="stable").index[0])
    else:
        unit = str(units.index[0]) if len(units.index) else "?"
    shown = str(units.at[unit, "name_zh"]) if unit in units.index and \
        "name_zh" in units.columns and str(units.at[unit, "name_zh"] or "").strip() else unit
    root = next(n.id for n in model.nodes if n.parent is None)
    child = next((n.id for n in model.nodes if n.parent == root), root)
    groups = grouping_columns(units) if len(units.index) else []
    m, city = MODEL_CELL, _q(shown)
    rows: list[tuple[str, str, Any, bool]] = [
        (_("the index built from the input sheets (an object handle; the formulas below use "
           "it)"), model_formula(names, model), None, True),
        (_("total index of {unit}").format(unit=shown), f"AI_INDEX({m},{city})",
         lambda o: index_of(o, shown), True),
        (_("score of {unit} in {node}").format(unit=shown, node=child),
         f"AI_SUBINDEX({m},{city},{_q(child)})", lambda o: subindex_of(o, shown, child), True),
        (_("rank of {unit}").format(unit=shown), f"AI_RANK({m},{city})",
         lambda o: rank_of(o, shown), True),
    ]
    if groups:
        rows.append((_("rank of {unit} within its {group}").format(unit=shown, group=groups[0]),
                     f"AI_RANK({m},{city},{_q(groups[0])})",
                     lambda o: rank_of(o, shown, groups[0]), True))
    rows += [
        (_("tier of {unit}").format(unit=shown), f"AI_TIER({m},{city})",
         lambda o: tier_of(o, shown), True),
        (_("tier label of {unit}").format(unit=shown), f"AI_TIER({m},{city},TRUE)",
         lambda o: tier_of(o, shown, True), True),
        (_("weight of {node} in the total").format(node=child), f"AI_WEIGHT({m},{_q(child)})",
         lambda o: weight_of(o, child), True),
        (_("an unknown city: the reason, as text"), f'AI_INDEX({m},"Pekin")',
         lambda o: index_of(o, "Pekin"), True),
        (_("the whole ranking: type this formula into an empty cell with room below and to "
           "the right (it spills)"), f"AI_RANKING({m})", None, False),
        (_("every node's score for every unit (spills, like AI_RANKING)"), f"AI_SCORES({m})",
         None, False),
    ]
    out: list[list[Cell]] = [_header(COLUMNS)]
    wrap = Style(wrap=True)
    for what, formula, compute, live in rows:
        expected = None if compute is None else _expected(lambda c=compute: c(outcome))
        result_cell = Cell(expected, formula=formula) if live else Cell(None)
        out.append([Cell(what, style=wrap), Cell("=" + formula), result_cell, Cell(expected)])
    out.append([Cell(_("scripts (xlwings Lite task pane): rebuild_results rewrites Scores, "
                       "Ranking and Tiers; validate_inputs lists the problems in Problems"),
                     style=wrap), Cell(None), Cell(None), Cell(None)])
    return SheetSpec(LITE_EXAMPLES, out, {0: 48.0, 1: 58.0, 2: 16.0, 3: 16.0},
                     autofilter=False)


def workbook_names(workbook_xml: bytes) -> dict[str, str]:
    """The workbook-level defined names of a ``xl/workbook.xml`` (name -> reference);
    sheet-level names (``localSheetId``) are left out: no write touches them."""
    from defusedxml import ElementTree

    root = ElementTree.fromstring(workbook_xml)
    out = {}
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "definedName" and el.get("localSheetId") is None:
            out[el.get("name", "")] = el.text or ""
    return out
