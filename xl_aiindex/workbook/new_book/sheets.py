"""Write a fresh workbook of the contract with xlsxwriter: :func:`write_workbook`.

Every input sheet (README, Settings, Framework, Units, Data, Given, and Uncertainty when asked)
gets its header, bilingual header comments, drop-downs built from the method registries and,
on Framework, the helper ``sibling_sum`` column; the result sheets get their header row only
(``recalc`` fills them). Same inputs give the same bytes: the creation date is fixed and
xlsxwriter writes the package in memory with fixed zip timestamps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import xlsxwriter

from ...contract import (
    DATA,
    FRAMEWORK,
    FRAMEWORK_COLUMNS,
    GIVEN,
    LOG,
    LOG_COLUMNS,
    LOG_WIDTHS,
    PROBLEMS,
    PROBLEMS_HEADER,
    RANKING,
    SCORES,
    SETTINGS,
    TIERS,
    TIERS_COLUMNS,
    UNITS,
    WEIGHTS_USED,
    WEIGHTS_USED_COLUMNS,
)
from ...model import Node
from ...settings import CHOICES, KNOWN_KEYS
from ..cells import column_letter
from ..sheetspec import NUMBER, Style
from .readme import write_readme_sheet
from .texts import (
    FRAMEWORK_LISTS,
    FRAMEWORK_NOTES,
    NUMBER_COLUMN_NOTE,
    SETTING_DEFAULTS,
    SETTING_NOTES,
    SIBLING_SUM,
    TEXT_COLUMN_NOTE,
    UNITS_NOTES,
)
from .xlsx import AUTHOR, SheetWriter, cell_width, is_blank, list_validation, number_validation

#: Creation date written when none is given (keeps the bytes reproducible).
FIXED_CREATED = datetime(2020, 7, 1)
#: Rows below the last written row that still get the input sheets' drop-downs and checks.
EXTRA_ROWS = 200
_HELPER = Style(num_format="0.000000", font_color="808080")


def result_headers(nodes: Sequence[Node], published: bool = False) -> dict[str, list[str]]:
    """Header row of every result sheet, per the contract.

    >>> h = result_headers([Node("index", None), Node("a", "index", weight=1.0)], published=True)
    >>> h["Scores"], h["Ranking"][-3:]
    (['unit', 'name_zh', 'name_en', 'a', 'index', 'coverage'], ['a', 'published', 'diff'])
    """
    root = next((n.id for n in nodes if n.parent is None), None)
    node_cols = [n.id for n in nodes if n.id != root] + ([root] if root is not None else [])
    children = [n.id for n in nodes if root is not None and n.parent == root]
    return {
        SCORES: ["unit", "name_zh", "name_en", *node_cols, "coverage"],
        RANKING: ["rank", "unit", "name_zh", "name_en", "score", "tier", *children,
                  *(["published", "diff"] if published else [])],
        TIERS: list(TIERS_COLUMNS),
        WEIGHTS_USED: list(WEIGHTS_USED_COLUMNS),
        PROBLEMS: list(PROBLEMS_HEADER),
        # every column, inputs_hash too (a header cell a later run added would be unstyled);
        # the notes last, where a long note runs on into empty cells instead of being cut
        LOG: [*(c for c in LOG_COLUMNS if c != "notes"), "notes"],
    }

def write_workbook(path: str | os.PathLike[str], *, nodes: Sequence[Node], units: pd.DataFrame,
                   settings: Mapping[str, object], data: pd.DataFrame | None = None,
                   given: pd.DataFrame | None = None, readme: Sequence[tuple[str, str]] = (),
                   data_note: str = "", created: datetime | None = None,
                   column_notes: Mapping[str, Mapping[str, str]] | None = None,
                   unit_lists: bool = False,
                   uncertainty: Sequence[tuple[str, str, object, str]] = ()) -> None:
    """Write a fresh workbook of the contract to ``path`` (overwritten if it exists).

    ``nodes``: the tree in Framework order, root included. ``units``: indexed by unit id, columns
    ``name_zh``, ``name_en``, then any others. ``settings``: key → value in the order to show;
    every key of :data:`KNOWN_KEYS` is written, absent ones with the contract default. ``data``:
    indexed by unit id, one column per leaf (NaN → blank); None writes a Data sheet with its
    header only. ``given``: indexed by unit id, one column per node id given (+ ``published``).
    ``readme``: rows of (English, Chinese) text. ``data_note``: added to the header comment of
    every Data column (e.g. "illustrative synthetic data"). ``created``: the workbook's creation
    date (a fixed date when None, so the same inputs give the same bytes). ``column_notes``:
    extra header comments, sheet → column → text (e.g. ``{"Units": {"population": "..."}}``).
    ``unit_lists``: the ``unit`` column of Data and Given gets a drop-down of the Units ids (what
    ``new`` writes). ``uncertainty``: rows (assumption, how, values, note) of an Uncertainty
    sheet (none when empty).
    """
    extra_notes = {k.lower(): v for k, v in (column_notes or {}).items()}
    wb = xlsxwriter.Workbook(os.fspath(path), {
        "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "nan_inf_to_errors": False,
    })
    name = " / ".join(str(settings.get(k) or "") for k in ("name_zh", "name_en")
                      if settings.get(k)) or "xl-aiindex workbook"
    wb.set_properties({"title": name, "author": AUTHOR, "comments": "written by xl-aiindex",
                       "created": created or FIXED_CREATED})
    w = SheetWriter(wb)
    try:
        write_readme_sheet(w, readme, name)
        _settings(w, settings)
        _framework(w, nodes, extra_notes.get("framework", {}))
        _units(w, units, extra_notes.get("units", {}))
        _data(w, nodes, units, data, data_note, extra_notes.get("data", {}), unit_lists)
        if given is not None:
            _given(w, nodes, given, extra_notes.get("given", {}), unit_lists, len(units))
        if uncertainty:
            _uncertainty(w, uncertainty)
        published = given is not None and "published" in given.columns
        for sheet, header in result_headers(nodes, published).items():
            ws = wb.add_worksheet(sheet)
            w.header(ws, header, extra_notes.get(sheet.lower(), {}),
                     widths=dict(LOG_WIDTHS) if sheet == LOG else
                     {"name_en": 18, "units": 60, "problem": 80, "label": 14})
    finally:
        wb.close()


def _settings(w: SheetWriter, settings: Mapping[str, object]) -> None:
    ws = w.wb.add_worksheet(SETTINGS)
    given = {str(k).strip().lower(): k for k in settings}
    order: list[tuple[str, object]] = [(str(k).strip(), settings[k]) for k in settings]
    order += [(k, SETTING_DEFAULTS[k]) for k in KNOWN_KEYS if k not in given]
    rows: list[list[Any]] = []
    for key, value in order:
        if isinstance(value, tuple | list):
            value = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        rows.append([key, value, SETTING_NOTES.get(key.lower(), "")])
    w.header(ws, ["key", "value", "note"], {
        "key": "设置项（程序读取）/ setting key (read by xl-aiindex)",
        "value": "设置值（程序读取）/ its value (read by xl-aiindex)",
        "note": "说明，程序不读取 / explanation, not read by xl-aiindex",
    }, widths={"key": 20, "value": 32, "note": 100})
    for r, (key, value, note) in enumerate(rows, start=1):
        w.value(ws, r, 0, key)
        w.value(ws, r, 1, value)
        w.value(ws, r, 2, note)
        choices = CHOICES.get(key.lower())
        if choices:
            ws.data_validation(r, 1, r, 1, list_validation(choices, key))


def _uncertainty(w: SheetWriter, rows: Sequence[tuple[str, str, object, str]]) -> None:
    from ...uncertainty import ASSUMPTIONS

    ws = w.wb.add_worksheet("Uncertainty")
    w.header(ws, ["assumption", "how", "values", "note"], {
        "assumption": "要变动的假设 / what to vary: " + ", ".join(ASSUMPTIONS),
        "how": "变动方式 / how: uniform, dirichlet (weights); choice (methods); leave_one_out",
        "values": "参数 / its values: ±share (uniform), concentration (dirichlet), "
                  "methods separated by ';' (choice)",
        "note": "说明，程序不读取 / explanation, not read by xl-aiindex",
    }, widths={"assumption": 16, "how": 16, "values": 28, "note": 80})
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            w.value(ws, r, c, v)
    ws.data_validation(1, 0, max(len(rows), 20), 0, list_validation(tuple(ASSUMPTIONS), "assumption"))


def _sibling_sums(nodes: Sequence[Node]) -> dict[str, float]:
    """Sum of ``weight`` per parent (case-insensitive, as SUMIF matches), blanks counting 0."""
    sums: dict[str, float] = {}
    for n in nodes:
        if n.parent is not None:
            k = n.parent.strip().lower()
            sums[k] = sums.get(k, 0.0) + (n.weight if n.weight is not None else 0.0)
    return sums


def _framework(w: SheetWriter, nodes: Sequence[Node], notes: Mapping[str, str]) -> None:
    ws = w.wb.add_worksheet(FRAMEWORK)
    columns = [*FRAMEWORK_COLUMNS, SIBLING_SUM]
    col = {c: i for i, c in enumerate(columns)}
    parents = {n.parent.strip().lower() for n in nodes if n.parent is not None}
    rows: list[list[Any]] = []
    for n in nodes:
        leaf = n.id.strip().lower() not in parents
        row: list[Any] = []
        for name in FRAMEWORK_COLUMNS:
            v = getattr(n, name)
            if name == "direction":
                v = n.direction if leaf else None
            row.append(None if v == "" else v)
        rows.append(row)
    w.header(ws, columns, {**FRAMEWORK_NOTES, **notes}, widths={})
    w.fit(ws, columns, rows, high=40)
    # a source is a citation: as wide as the longest (to 80), not cut by the note beside it
    source = col["source"]
    ws.set_column(source, source, min(80, max([cell_width("source") + 2]
                                              + [cell_width(r[source]) + 2 for r in rows])))
    ws.set_column(col["note"], col["note"], 50)
    ws.set_column(col[SIBLING_SUM], col[SIBLING_SUM], 12)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            w.value(ws, r, c, v)
    # helper: the weight sum of each sibling group, live (SUMIF), with its cached value
    sums = _sibling_sums(nodes)
    p_col, w_col, s_col = (column_letter(col[c]) for c in ("parent", "weight", SIBLING_SUM))
    helper = w.fmt(_HELPER)
    for r, n in enumerate(nodes, start=1):
        if n.parent is None:
            continue
        ws.write_formula(r, col[SIBLING_SUM], f"=SUMIF(${p_col}:${p_col},{p_col}{r + 1},"
                                              f"${w_col}:${w_col})",
                         helper, sums[n.parent.strip().lower()])
    last = len(nodes) + EXTRA_ROWS
    ws.conditional_format(1, col[SIBLING_SUM], last, col[SIBLING_SUM], {
        "type": "formula", "criteria": f"=AND(ISNUMBER({s_col}2),ABS({s_col}2-1)>1E-6)",
        "format": w.red})
    for name, choices in FRAMEWORK_LISTS.items():
        ws.data_validation(1, col[name], last, col[name], list_validation(choices, name))
    ws.data_validation(1, col["weight"], last, col["weight"], {
        "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
        "input_title": "权重 / weight",
        "input_message": "≥ 0 的数字；同级之和为 1；根节点留空 / a number ≥ 0; siblings sum to 1; "
                         "blank for the root",
        "error_title": "权重 / weight", "error_message": "权重须为 ≥ 0 的数字 / a weight is a number ≥ 0",
    })
    for name in ("goal_low", "goal_high"):
        ws.data_validation(1, col[name], last, col[name], number_validation("目标值", name))


def _units(w: SheetWriter, units: pd.DataFrame, notes: Mapping[str, str]) -> None:
    ws = w.wb.add_worksheet(UNITS)
    others = [str(c) for c in units.columns if str(c) not in ("name_zh", "name_en")]
    columns = ["id", "name_zh", "name_en", *others]
    frame = units.reindex(columns=["name_zh", "name_en", *others])
    all_notes: dict[str, str] = dict(UNITS_NOTES)
    styles: dict[int, Style] = {}
    for i, name in enumerate(others, start=3):
        series = frame[name]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        all_notes[name] = NUMBER_COLUMN_NOTE if numeric else TEXT_COLUMN_NOTE
        if numeric:
            styles[i] = Style()
    for name, note in notes.items():
        all_notes[name] = f"{all_notes[name]}\n{note}" if name in all_notes else note
    rows = [[str(uid), *list(values)] for uid, values in zip(frame.index, frame.itertuples(index=False),
                                                             strict=True)]
    w.header(ws, columns, all_notes)
    w.fit(ws, columns, rows, high=30)
    for r, row in enumerate(rows, start=1):
        w.value(ws, r, 0, row[0])
        for c, v in enumerate(row[1:], start=1):
            if c < 3 and not is_blank(v):
                v = str(v)
            w.value(ws, r, c, v)


def _node_note(node: Node | None, column: str) -> str:
    if node is None:
        return column
    names = " / ".join(x for x in (node.name_zh, node.name_en) if x)
    unit = f"\n单位 unit: {node.unit}" if node.unit else ""
    return (f"{node.id}: {names}" if names else node.id) + unit


def _scores_sheet(w: SheetWriter, sheet: str, nodes: Sequence[Node], frame: pd.DataFrame,
                  columns: Sequence[str], notes: Mapping[str, str], style: Style | None,
                  n_units: int, what: tuple[str, str], unit_list: bool = False) -> None:
    ws = w.wb.add_worksheet(sheet)
    header = ["unit", *columns]
    w.header(ws, header, notes, widths={"unit": 14}, min_width=10)
    f = w.fmt(style)
    for c in range(1, len(header)):
        ws.set_column(c, c, max(10, cell_width(header[c]) + 2), f)
    for r, (uid, values) in enumerate(zip(frame.index, frame.itertuples(index=False), strict=True),
                                      start=1):
        w.value(ws, r, 0, str(uid))
        for c, v in enumerate(values, start=1):
            w.value(ws, r, c, v, style)
    last = max(len(frame), n_units) + EXTRA_ROWS
    if len(header) > 1:
        ws.data_validation(1, 1, last, len(header) - 1, number_validation(*what))
    if unit_list and n_units:
        ws.data_validation(1, 0, last, 0, {
            "validate": "list", "source": f"=Units!$A$2:$A${n_units + 1}", "ignore_blank": True,
            "input_title": "单位 / unit", "input_message": "Units 表中的 id / an id of the Units sheet",
            "error_type": "warning", "error_title": "未知单位 / unknown unit",
            "error_message": "不是 Units 表中的 id / not an id of the Units sheet"})


def _data(w: SheetWriter, nodes: Sequence[Node], units: pd.DataFrame, data: pd.DataFrame | None,
          data_note: str, notes: Mapping[str, str], unit_list: bool = False) -> None:
    parents = {n.parent.strip().lower() for n in nodes if n.parent is not None}
    leaves = [n.id for n in nodes if n.id.strip().lower() not in parents]
    frame = data if data is not None else pd.DataFrame(columns=leaves, dtype=float)
    columns = [str(c) for c in frame.columns]
    by_id = {n.id: n for n in nodes}
    suffix = f"\n{data_note}" if data_note else ""
    all_notes = {"unit": "单位编号（Units 表的 id）/ unit id (an id of the Units sheet)" + suffix}
    for c in columns:
        node = by_id.get(c)
        direction = ""
        if node is not None:
            direction = "\n方向 direction: " + ("1 越大越好 / higher is better" if node.direction == 1
                                                else "-1 越小越好 / lower is better")
        all_notes[c] = (_node_note(node, c) + direction + "\n原始值，留空 = 缺失 / raw value; "
                        "blank = missing" + suffix)
    for c, note in notes.items():
        all_notes[c] = f"{all_notes[c]}\n{note}" if c in all_notes else note
    _scores_sheet(w, DATA, nodes, frame, columns, all_notes, Style(), len(units),
                  ("原始指标值", "raw indicator value"), unit_list)


def _given(w: SheetWriter, nodes: Sequence[Node], given: pd.DataFrame, notes: Mapping[str, str],
           unit_list: bool = False, n_units: int = 0) -> None:
    columns = [str(c) for c in given.columns]
    by_id = {n.id: n for n in nodes}
    all_notes = {"unit": "单位编号（Units 表的 id）/ unit id (an id of the Units sheet)"}
    for c in columns:
        if c.lower() == "published":
            all_notes[c] = ("公布的总指数：仅作对照（Ranking 中显示差值），不参与计算 / the printed "
                            "total: shown next to the computed score in Ranking, never an input")
        else:
            all_notes[c] = _node_note(by_id.get(c), c) + "\n给定得分 / score given directly"
    for c, note in notes.items():
        all_notes[c] = f"{all_notes[c]}\n{note}" if c in all_notes else note
    _scores_sheet(w, GIVEN, nodes, given, columns, all_notes, NUMBER,
                  max(len(given), n_units) if unit_list else len(given),
                  ("给定得分", "given score"), unit_list)

