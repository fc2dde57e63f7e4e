"""Write a fresh workbook of the contract with xlsxwriter, and read the CSVs ``xl-aiindex new`` takes.

:func:`write_workbook` lays out every input sheet (README, Settings, Framework, Units, Data, Given)
with headers, bilingual header comments, drop-downs built from the method registries and a helper
``sibling_sum`` column, then the result sheets with their header row only (``recalc`` fills them).
Same inputs give the same bytes: the creation date is fixed and xlsxwriter writes the package in
memory with fixed zip timestamps.

:func:`read_framework_csv` and :func:`read_units_csv` read ``TREE.csv`` / ``UNITS.csv``; every
problem names the file (as the sheet) and the cell (``E5``: column E, row 5 of the file).
"""

from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..aggregate import AGGREGATORS
from ..errors import Problem, ProblemsFound
from ..model import Node, Settings
from ..normalise import NORMALISERS
from ..settings import CHOICES, KNOWN_KEYS
from ..tree import build_tree
from ..weights import WEIGHTINGS
from .cells import column_letter, direction_sign
from .contract import (
    DATA,
    FRAMEWORK,
    FRAMEWORK_COLUMNS,
    GIVEN,
    LOG,
    LOG_COLUMNS,
    PROBLEMS,
    PROBLEMS_HEADER,
    RANKING,
    README,
    SCORES,
    SETTINGS,
    TIERS,
    TIERS_COLUMNS,
    UNITS,
    WEIGHTS_USED,
    WEIGHTS_USED_COLUMNS,
)
from .ownership import tool_sheets_readme
from .sheetspec import HEADER, NUMBER, Style

#: The helper column after the Framework's contract columns (every command ignores it).
SIBLING_SUM = "sibling_sum"
#: Values of the Framework's ``transform`` column.
TRANSFORMS = ("log",)
#: Input sheets in workbook order, then the result sheets.
#: Creation date written when none is given (keeps the bytes reproducible).
FIXED_CREATED = datetime(2020, 7, 1)
#: Rows below the last written row that still get the input sheets' drop-downs and checks.
EXTRA_ROWS = 200
_AUTHOR = "xl-aiindex"
_NUMERIC_FRAMEWORK = ("weight", "goal_low", "goal_high")


def _names(registry: Mapping[str, object] | Sequence[str]) -> list[str]:
    return sorted(registry)


#: Drop-down lists of the Framework, built from the registries (code and lists never disagree).
FRAMEWORK_LISTS: dict[str, list[str]] = {
    "direction": ["1", "-1"],
    "normalisation": _names(NORMALISERS),
    "aggregation": _names(AGGREGATORS),
    "weighting": _names(WEIGHTINGS),
    "transform": list(TRANSFORMS),
}


def _defaults() -> dict[str, object]:
    """The contract's default of every Settings key, as the Settings sheet shows it."""
    s = Settings()
    out: dict[str, object] = {}
    for f in fields(s):
        out[f.name] = getattr(s, f.name)
    low, high = s.minmax_range
    out["minmax_range"] = f"{low:g},{high:g}"
    out["tiers"] = f"{s.tiers.kind}:{','.join(f'{b:g}' for b in s.tiers.bounds)}"
    out["tier_labels"] = ";".join(s.tiers.labels) or None
    for k in ("name_zh", "name_en"):
        out[k] = out[k] or None
    out["compare"] = None
    return {k: out.get(k) for k in KNOWN_KEYS}


#: Default value of every Settings key (blank = None).
SETTING_DEFAULTS: dict[str, object] = _defaults()

#: The Settings sheet's ``note`` column: what each key means, in Chinese and English.
SETTING_NOTES: dict[str, str] = {
    "chart_top": "TOP-N 条形图显示的单位个数（0 = 不画图）/ how many units the TOP-N charts of the "
                 "Charts sheet show (0 = no charts)",
    "compare": "并列比较的单位对，如 北京/上海;深圳/广州（编号或名称）/ unit pairs compared side by "
               "side on the Compare sheet, a/b;c/d (ids or names)",
    "name_zh": "指数的中文名称 / name of the index in Chinese",
    "name_en": "指数的英文名称 / name of the index in English",
    "input": "data = 由 Data 表原始数据计算；given = 从 Given 表给定得分开始 / "
             "data: compute from the Data sheet; given: start from the Given sheet's scores",
    "normalisation": "指标的默认标准化方法（Framework 可逐个指定）/ default normalisation of indicators "
                     "(a Framework row may override it): " + ", ".join(_names(NORMALISERS)),
    "minmax_range": "minmax 的输出区间 low,high / output range of minmax, low,high (e.g. 0,100)",
    "efficacy_a": "功效系数法 a + b·(x−min)/(max−min) 中的 a / a of efficacy: a + b·(x−min)/(max−min)",
    "efficacy_b": "功效系数法中的 b / b of efficacy (60 + 40 gives scores from 60 to 100)",
    "aggregation": "上级节点的默认合成方法 / default aggregation of inner nodes: "
                   + ", ".join(_names(AGGREGATORS)) + " (copeland: root only)",
    "weights": "strict = 同级权重之和不为 1 即报错；rescale = 自动按比例调整并注明 / "
               "strict: sibling weights not summing to 1 is a problem; rescale: rescaled, with a note",
    "tiers": "梯队划分：rank:10,20（按名次）或 score:80,70,55（按得分下限，从高到低）/ "
             "tiers: rank:10,20 (last rank of each tier but the last) or score:80,70,55 (lower bounds)",
    "tier_labels": "各梯队名称，从优到劣，以 ; 分隔，个数须与梯队数一致 / one label per tier, best first, "
                   "separated by ';'",
    "rank_decimals": "排名前按此位数四舍五入（同 Excel ROUND）；留空 = 不取整 / rank on scores rounded "
                     "to this many decimals (as Excel's ROUND); blank = unrounded",
    "outliers": "异常值处理：none、skew_kurtosis 或 winsorise:P / outlier treatment: none, "
                "skew_kurtosis or winsorise:P",
    "outlier_skew": "skew_kurtosis 的偏度阈值 / skewness threshold of skew_kurtosis",
    "outlier_kurtosis": "skew_kurtosis 的峰度阈值 / kurtosis threshold of skew_kurtosis",
    "outlier_max_points": "skew_kurtosis 最多缩尾的点数 / at most this many points winsorised by "
                          "skew_kurtosis",
    "coverage_min": "参与排名所需的指标覆盖率下限（0–1）/ share of a unit's indicators that must be "
                    "present for it to be ranked (0–1)",
    "goalposts_scale": "goalposts 输出的上限（下限为 0）/ upper end of the goalposts output (lower end 0)",
    "missing": "缺失值：error（列出并停止）、reweight、mean、median、group_mean:列、group_median:列 / "
               "missing values: error (list them and stop), reweight, mean, median, "
               "group_mean:COLUMN, group_median:COLUMN",
    "output": "values = 写入数值；formulas = 写入带缓存值的公式 / values: write numbers; "
              "formulas: live formulas with cached values",
}

#: Header comments of the Framework sheet.
FRAMEWORK_NOTES: dict[str, str] = {
    "id": "节点编号：唯一，ASCII 字母/数字/_，不含空格 / node id: unique, ASCII letters, digits, '_', "
          "no spaces",
    "parent": "上级节点编号；根节点（指数本身）留空 / id of the parent node; blank for the root "
              "(the index itself)",
    "name_zh": "中文名称 / Chinese name",
    "name_en": "英文名称 / English name",
    "weight": "在同级节点中的权重（根节点留空；同级之和应为 1）/ weight relative to its siblings "
              "(blank for the root; each sibling group sums to 1)",
    "direction": "仅指标：1 = 越大越好，-1 = 越小越好 / leaves only: 1 higher is better, "
                 "-1 lower is better",
    "normalisation": "仅指标：标准化方法，留空 = Settings 默认 / leaves only: normalisation method; "
                     "blank = Settings default (" + ", ".join(_names(NORMALISERS)) + ")",
    "goal_low": "仅指标：目标下限（goalposts），低于者截断 / leaves only: lower goalpost "
                "(values below are clamped)",
    "goal_high": "仅指标：目标上限（goalposts），高于者截断 / leaves only: upper goalpost "
                 "(values above are clamped)",
    "denominator": "仅指标：留空，或 Units 表中用作分母的数值列（人均等）/ leaves only: blank or a "
                   "numeric Units column to divide by (per capita, per GDP)",
    "transform": "仅指标：留空或 log（除以分母后取自然对数）/ leaves only: blank or log "
                 "(natural log, after the denominator)",
    "aggregation": "仅上级节点：合成方法，留空 = Settings 默认 / inner nodes only: aggregation "
                   "method; blank = Settings default (" + ", ".join(_names(AGGREGATORS)) + ")",
    "weighting": "仅上级节点：子节点权重的确定方式，留空或 given = 使用 weight 列 / inner nodes only: "
                 "how its children's weights are set; blank or given = their weight cells ("
                 + ", ".join(_names(WEIGHTINGS)) + ")",
    "unit": "计量单位（仅供阅读）/ unit of measurement (for people)",
    "source": "来源（仅供阅读）/ source (for people)",
    "note": "备注（仅供阅读）/ note (for people)",
    SIBLING_SUM: "辅助列，程序不读取：同一上级节点下各节点权重之和，应为 1，否则标红 / helper column, "
                 "not read by xl-aiindex: sum of the weights of this node's sibling group; should "
                 "be 1 (red otherwise)",
}

_UNITS_NOTES = {
    "id": "单位编号（文本，唯一；NA、None 也是普通编号）/ unit id (text, unique; NA, None are ids "
          "like any other)",
    "name_zh": "中文名称（函数可按名称查找单位）/ Chinese name (UDFs accept a unit by name)",
    "name_en": "英文名称（函数可按名称查找单位）/ English name (UDFs accept a unit by name)",
}
_TEXT_COLUMN_NOTE = "文本列：分组（如 region）/ text column: a grouping (e.g. region)"
_NUMBER_COLUMN_NOTE = "数值列：可用作指标分母 / numeric column: may serve as an indicator's denominator"

_RED = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
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
        # no inputs_hash yet: the first run that records one adds its header cell
        LOG: [c for c in LOG_COLUMNS if c != "inputs_hash"],
    }


# ---------------------------------------------------------------------------------------------
# helpers


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    try:
        return value is pd.NA or value is pd.NaT
    except TypeError:  # pragma: no cover - exotic scalars
        return False


def _display_width(value: Any) -> int:
    text = "" if _blank(value) else (f"{value:.2f}" if isinstance(value, float) else str(value))
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


class _Writer:
    """One xlsxwriter workbook with a cache of formats, one per :class:`Style`."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._formats: dict[Style, Format] = {}
        self.red = wb.add_format(_RED)

    def fmt(self, style: Style | None) -> Format | None:
        if style is None:
            return None
        if style not in self._formats:
            spec: dict[str, Any] = {"num_format": style.num_format}
            if style.bold:
                spec["bold"] = True
            if style.fill:
                spec.update(bg_color="#" + style.fill, pattern=1)
            if style.font_color:
                spec["font_color"] = "#" + style.font_color
            if style.wrap:
                spec.update(text_wrap=True, valign="top")
            if style.align:
                spec["align"] = style.align
            if style.border_bottom:
                spec["bottom"] = 1
            self._formats[style] = self.wb.add_format(spec)
        return self._formats[style]

    def value(self, ws: Worksheet, r: int, c: int, value: Any, style: Style | None = None) -> None:
        """Write one value: numbers as numbers, everything else as text (never a formula)."""
        f = self.fmt(style)
        if _blank(value):
            if f is not None:
                ws.write_blank(r, c, None, f)
        elif isinstance(value, bool | np.bool_):
            ws.write_boolean(r, c, bool(value), f)
        elif isinstance(value, int | float | np.integer | np.floating):
            v = float(value)
            if math.isfinite(v):
                ws.write_number(r, c, v, f)
            else:
                ws.write_string(r, c, str(value), f)
        else:
            ws.write_string(r, c, str(value), f)

    def header(self, ws: Worksheet, columns: Sequence[str], notes: Mapping[str, str] | None = None,
               widths: Mapping[str, float] | None = None, min_width: float = 8) -> None:
        """Styled header row, frozen, with a comment on every column that has a note."""
        f = self.fmt(HEADER)
        for c, col in enumerate(columns):
            ws.write_string(0, c, col, f)
            note = (notes or {}).get(col)
            if note:
                lines = max(2, sum(1 + _display_width(part) // 48 for part in note.split("\n")))
                ws.write_comment(0, c, note, {"author": _AUTHOR, "x_scale": 2.4,
                                              "y_scale": min(8.0, 0.35 * lines + 0.6)})
            width = (widths or {}).get(col, max(min_width, _display_width(col) + 2))
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)

    def fit(self, ws: Worksheet, columns: Sequence[str], rows: Sequence[Sequence[Any]],
            low: float = 8, high: float = 48, styles: Mapping[int, Style] | None = None) -> None:
        """Set each column's width from its longest value (CJK characters count double)."""
        for c, col in enumerate(columns):
            width = max([_display_width(col) + 2] + [_display_width(r[c]) + 2 for r in rows
                                                     if c < len(r)])
            ws.set_column(c, c, min(high, max(low, width)), self.fmt((styles or {}).get(c)))


def _number_validation(what_zh: str, what_en: str) -> dict[str, Any]:
    return {
        "validate": "decimal", "criteria": "between", "minimum": "-1E+307", "maximum": "1E+307",
        "ignore_blank": True, "input_title": "数值 / number",
        "input_message": f"{what_zh}：数字，留空 = 缺失 / {what_en}: a number; blank = missing",
        "error_title": "不是数字 / not a number",
        "error_message": "请输入数字（或留空）/ enter a number (or leave blank)",
    }


def _list_validation(choices: Sequence[str], what: str) -> dict[str, Any]:
    return {
        "validate": "list", "source": list(choices), "ignore_blank": True,
        "input_title": what[:32],
        "input_message": ("可选 / choose: " + ", ".join(choices))[:255],
        "error_type": "warning",
        "error_title": "未知名称 / unknown name",
        "error_message": ("可选 / choose one of: " + ", ".join(choices))[:255],
    }


# ---------------------------------------------------------------------------------------------
# the workbook


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
    wb.set_properties({"title": name, "author": _AUTHOR, "comments": "written by xl-aiindex",
                       "created": created or FIXED_CREATED})
    w = _Writer(wb)
    try:
        _readme(w, readme, name)
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
                     widths={"name_en": 18, "units": 60, "problem": 80, "notes": 60, "file": 30,
                             "time": 20, "label": 14})
    finally:
        wb.close()


def _readme(w: _Writer, readme: Sequence[tuple[str, str]], name: str) -> None:
    ws = w.wb.add_worksheet(README)
    rows = list(readme) or [
        (name, name),
        ("Input sheets: Settings, Framework (the indicator tree), Units, Data (raw values), "
         "Given (scores given directly). Result sheets (Scores, Ranking, Tiers, WeightsUsed, "
         "Problems, Log) are rewritten by `xl-aiindex recalc FILE.xlsx`.",
         "输入表：Settings（设置）、Framework（指标体系）、Units（评价单位）、Data（原始数据）、"
         "Given（给定得分）。结果表（Scores、Ranking、Tiers、WeightsUsed、Problems、Log）由 "
         "`xl-aiindex recalc 文件.xlsx` 重写。"),
        tool_sheets_readme(),
    ]
    widths = {"English": 90, "中文": 70}
    w.header(ws, ["English", "中文"], {"English": "说明（英文）/ notes in English",
                                        "中文": "说明（中文）/ notes in Chinese"},
             widths=widths)
    wrap = Style(wrap=True)
    for r, (en, zh) in enumerate(rows, start=1):
        w.value(ws, r, 0, en, wrap)
        w.value(ws, r, 1, zh, wrap)
        # Excel grows a wrapped row by itself; LibreOffice and WPS keep the default 15 pt and
        # print the lines over each other: give the row the height its text needs
        lines = max(wrapped_lines(en, widths["English"]), wrapped_lines(zh, widths["中文"]))
        ws.set_row(r, ROW_POINTS * lines + 3)


#: Height of one line of 11 pt text, in points.
ROW_POINTS = 15.0


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide (wide CJK
    characters count two; a little slack for proportional fonts and word breaks)."""
    from ..terminal import display_width

    usable = max(1.0, width * 0.9)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


def _settings(w: _Writer, settings: Mapping[str, object]) -> None:
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
            ws.data_validation(r, 1, r, 1, _list_validation(choices, key))


def _uncertainty(w: _Writer, rows: Sequence[tuple[str, str, object, str]]) -> None:
    from ..uncertainty import ASSUMPTIONS

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
    ws.data_validation(1, 0, max(len(rows), 20), 0, _list_validation(tuple(ASSUMPTIONS), "assumption"))


def _sibling_sums(nodes: Sequence[Node]) -> dict[str, float]:
    """Sum of ``weight`` per parent (case-insensitive, as SUMIF matches), blanks counting 0."""
    sums: dict[str, float] = {}
    for n in nodes:
        if n.parent is not None:
            k = n.parent.strip().lower()
            sums[k] = sums.get(k, 0.0) + (n.weight if n.weight is not None else 0.0)
    return sums


def _framework(w: _Writer, nodes: Sequence[Node], notes: Mapping[str, str]) -> None:
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
        ws.data_validation(1, col[name], last, col[name], _list_validation(choices, name))
    ws.data_validation(1, col["weight"], last, col["weight"], {
        "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
        "input_title": "权重 / weight",
        "input_message": "≥ 0 的数字；同级之和为 1；根节点留空 / a number ≥ 0; siblings sum to 1; "
                         "blank for the root",
        "error_title": "权重 / weight", "error_message": "权重须为 ≥ 0 的数字 / a weight is a number ≥ 0",
    })
    for name in ("goal_low", "goal_high"):
        ws.data_validation(1, col[name], last, col[name], _number_validation("目标值", name))


def _units(w: _Writer, units: pd.DataFrame, notes: Mapping[str, str]) -> None:
    ws = w.wb.add_worksheet(UNITS)
    others = [str(c) for c in units.columns if str(c) not in ("name_zh", "name_en")]
    columns = ["id", "name_zh", "name_en", *others]
    frame = units.reindex(columns=["name_zh", "name_en", *others])
    all_notes: dict[str, str] = dict(_UNITS_NOTES)
    styles: dict[int, Style] = {}
    for i, name in enumerate(others, start=3):
        series = frame[name]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        all_notes[name] = _NUMBER_COLUMN_NOTE if numeric else _TEXT_COLUMN_NOTE
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
            if c < 3 and not _blank(v):
                v = str(v)
            w.value(ws, r, c, v)


def _node_note(node: Node | None, column: str) -> str:
    if node is None:
        return column
    names = " / ".join(x for x in (node.name_zh, node.name_en) if x)
    unit = f"\n单位 unit: {node.unit}" if node.unit else ""
    return (f"{node.id}: {names}" if names else node.id) + unit


def _scores_sheet(w: _Writer, sheet: str, nodes: Sequence[Node], frame: pd.DataFrame,
                  columns: Sequence[str], notes: Mapping[str, str], style: Style | None,
                  n_units: int, what: tuple[str, str], unit_list: bool = False) -> None:
    ws = w.wb.add_worksheet(sheet)
    header = ["unit", *columns]
    w.header(ws, header, notes, widths={"unit": 14}, min_width=10)
    f = w.fmt(style)
    for c in range(1, len(header)):
        ws.set_column(c, c, max(10, _display_width(header[c]) + 2), f)
    for r, (uid, values) in enumerate(zip(frame.index, frame.itertuples(index=False), strict=True),
                                      start=1):
        w.value(ws, r, 0, str(uid))
        for c, v in enumerate(values, start=1):
            w.value(ws, r, c, v, style)
    last = max(len(frame), n_units) + EXTRA_ROWS
    if len(header) > 1:
        ws.data_validation(1, 1, last, len(header) - 1, _number_validation(*what))
    if unit_list and n_units:
        ws.data_validation(1, 0, last, 0, {
            "validate": "list", "source": f"=Units!$A$2:$A${n_units + 1}", "ignore_blank": True,
            "input_title": "单位 / unit", "input_message": "Units 表中的 id / an id of the Units sheet",
            "error_type": "warning", "error_title": "未知单位 / unknown unit",
            "error_message": "不是 Units 表中的 id / not an id of the Units sheet"})


def _data(w: _Writer, nodes: Sequence[Node], units: pd.DataFrame, data: pd.DataFrame | None,
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


def _given(w: _Writer, nodes: Sequence[Node], given: pd.DataFrame, notes: Mapping[str, str],
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


# ---------------------------------------------------------------------------------------------
# CSV readers for `xl-aiindex new`

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def _csv_number(text: str) -> float | None:
    """``text`` as a finite number, or None when it is not one."""
    s = text.strip()
    if not _NUMBER.match(s):
        return None
    v = float(s)
    return v if math.isfinite(v) else None


class _Csv:
    """A CSV file read as text: header keys → column index, data rows with their row numbers."""

    def __init__(self, path: str | os.PathLike[str], required: Sequence[str]):
        self.name = Path(path).name
        self.problems: list[Problem] = []
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                records = list(csv.reader(fh))
        except FileNotFoundError:
            raise ProblemsFound([Problem(self.name, problem=f"file '{os.fspath(path)}' not found")]
                                ) from None
        except UnicodeDecodeError as e:
            raise ProblemsFound([Problem(self.name, problem="the file is not UTF-8 text "
                                         f"({e.reason} at byte {e.start}): save it as 'CSV UTF-8'")]
                                ) from None
        except csv.Error as e:
            raise ProblemsFound([Problem(self.name, problem=f"cannot be read as CSV: {e}")]) from None
        if not records or not any(c.strip() for c in records[0]):
            raise ProblemsFound([Problem(self.name, "A1", problem="the file is empty: its first row "
                                         "must be a header (" + ",".join(required) + ",...)")])
        self.header: dict[str, int] = {}
        for c, cell in enumerate(records[0]):
            k = cell.strip().lower()
            if not k:
                continue
            if k in self.header:
                self.bad(0, c, f"column '{cell.strip()}' appears twice in the header (also "
                               f"{self.address(0, self.header[k])})")
                continue
            self.header[k] = c
        missing = [k for k in required if k not in self.header]
        if missing:
            hint = ""
            if len(self.header) == 1 and any(sep in records[0][0] for sep in (";", "\t")):
                hint = " (columns must be separated by commas)"
            self.bad(0, len(records[0]), f"the header has no column {', '.join(missing)}{hint}; "
                     f"columns: {', '.join(c.strip() for c in records[0] if c.strip())}")
            raise ProblemsFound(self.problems)
        width = len(records[0])
        self.rows: list[tuple[int, list[str]]] = []
        for r, record in enumerate(records[1:], start=1):
            if not any(c.strip() for c in record):
                continue
            if len(record) > width and any(c.strip() for c in record[width:]):
                self.bad(r, width, f"row {r + 1} has {len(record)} fields, the header {width}")
            self.rows.append((r, record + [""] * (width - len(record))))

    @staticmethod
    def address(r: int, c: int) -> str:
        return f"{column_letter(c)}{r + 1}"

    def bad(self, r: int, c: int, text: str, node: str = "", unit: str = "", field: str = "") -> None:
        self.problems.append(Problem(self.name, self.address(r, c), unit, node, text, field))

    def get(self, record: list[str], col: str) -> str:
        c = self.header.get(col)
        return record[c].strip() if c is not None else ""


def read_framework_csv(path: str | os.PathLike[str], units: pd.DataFrame | None = None
                       ) -> tuple[Node, ...]:
    """The nodes of a ``TREE.csv`` with the Framework's columns (only ``id`` and ``parent``
    required; any depth), in file order. Cells are read as text, so ``NA`` stays ``NA``.

    Raises :class:`ProblemsFound` listing every problem, each with the file name as ``sheet``
    and the cell (``E5``) where it is: duplicate ids, non-numbers in ``weight``/``goal_*``,
    ``direction`` other than 1/-1, unknown method names, and the tree's structure (one root,
    known parents, no cycle); with ``units`` (from :func:`read_units_csv`), a ``denominator``
    that is not a numeric column of it.
    """
    t = _Csv(path, ("id", "parent"))
    nodes: list[Node] = []
    first_row: dict[str, int] = {}
    registries: dict[str, Sequence[str]] = {
        "normalisation": _names(NORMALISERS), "aggregation": _names(AGGREGATORS),
        "weighting": _names(WEIGHTINGS), "transform": TRANSFORMS,
    }
    for r, record in t.rows:
        node_id = t.get(record, "id")
        cid = t.header["id"]
        if not node_id:
            t.bad(r, cid, f"row {r + 1} has no id", field="id")
            continue
        k = node_id.lower()
        if k in first_row:
            t.bad(r, cid, f"node id '{node_id}' is used twice (first in "
                          f"{t.address(first_row[k], cid)}); ids must be unique (case-insensitive)",
                  node=node_id, field="id")
            continue
        first_row[k] = r
        values: dict[str, Any] = {}
        for col in _NUMERIC_FRAMEWORK:
            raw = t.get(record, col)
            values[col] = None
            if raw:
                v = _csv_number(raw)
                if v is None:
                    t.bad(r, t.header[col], f"node {node_id}, column {col}: '{raw}' is not a number",
                          node=node_id, field=col)
                elif col == "weight" and v < 0:
                    t.bad(r, t.header[col], f"node {node_id}, column weight: {raw} is negative; "
                                            "weights are ≥ 0", node=node_id, field=col)
                else:
                    values[col] = v
        raw = t.get(record, "direction")
        direction = 1
        if raw:
            sign = direction_sign(raw)
            v = float(sign) if sign is not None else _csv_number(raw)
            if v not in (1.0, -1.0):
                t.bad(r, t.header["direction"], f"node {node_id}, column direction: '{raw}' must be "
                                                "1 or + (higher is better), -1 or - (lower is better)",
                      node=node_id, field="direction")
            else:
                direction = int(v)  # type: ignore[arg-type]
        for col, valid in registries.items():
            raw = t.get(record, col)
            values[col] = raw.lower() or None
            if raw and raw.lower() not in valid and not (col == "weighting" and raw.lower() == "given"):
                t.bad(r, t.header[col], f"node {node_id}, column {col}: unknown method '{raw}'; "
                                        f"choose one of: {', '.join(valid)}", node=node_id, field=col)
                values[col] = None
        nodes.append(Node(
            id=node_id, parent=t.get(record, "parent") or None,
            name_zh=t.get(record, "name_zh"), name_en=t.get(record, "name_en"),
            weight=values["weight"], direction=direction, normalisation=values["normalisation"],
            goal_low=values["goal_low"], goal_high=values["goal_high"],
            denominator=t.get(record, "denominator") or None, transform=values["transform"],
            aggregation=values["aggregation"], weighting=values["weighting"],
            unit=t.get(record, "unit"), source=t.get(record, "source"), note=t.get(record, "note"),
        ))
        denominator = t.get(record, "denominator")
        if denominator and units is not None:
            _check_denominator(t, r, node_id, denominator, units)
    if nodes:
        # parent ids match node ids case-insensitively (as in the sheet): use the node's spelling
        canonical = {n.id.lower(): n.id for n in nodes}
        nodes = [n if n.parent is None else replace(n, parent=canonical.get(n.parent.lower(), n.parent))
                 for n in nodes]
        _tree, tree_problems = build_tree(nodes)
        for p in tree_problems:
            at_row = first_row.get(p.node.lower()) if p.node else None
            at_col = t.header.get(p.field or "id", t.header["id"])
            cell = t.address(at_row, at_col) if at_row is not None else ""
            t.problems.append(Problem(t.name, cell, p.unit, p.node, p.problem, p.field))
    else:
        t.problems.append(Problem(t.name, "A2", problem="the file lists no node"))
    if t.problems:
        raise ProblemsFound(t.problems)
    return tuple(nodes)


def _check_denominator(t: _Csv, r: int, node_id: str, name: str, units: pd.DataFrame) -> None:
    cols = {str(c).lower(): str(c) for c in units.columns}
    numeric = [str(c) for c in units.columns
               if pd.api.types.is_numeric_dtype(units[c]) and str(c) not in ("name_zh", "name_en")]
    col = cols.get(name.lower())
    if col is None or col not in numeric:
        what = "is not a column of the units file" if col is None else "is not a numeric column"
        t.bad(r, t.header["denominator"],
              f"node {node_id}, column denominator: '{name}' {what}; numeric units columns: "
              f"{', '.join(numeric) or 'none'}", node=node_id, field="denominator")


def read_units_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The units of a ``UNITS.csv`` (``id``, ``name_zh``, ``name_en``, then any columns).

    Returns a frame indexed by unit id (text: ``NA``, ``None``, ``null`` stay ids) with columns
    ``name_zh``, ``name_en`` (blank when the file has none), then the others in file order: a
    column whose every filled cell is a number becomes numeric (blank → NaN), any other stays
    text (a denominator must be numeric; a grouping is text). Raises :class:`ProblemsFound` for
    a missing ``id`` column, blank or duplicate ids (case-insensitive), each with its cell.
    """
    t = _Csv(path, ("id",))
    cid = t.header["id"]
    ids: list[str] = []
    seen: dict[str, int] = {}
    records: list[list[str]] = []
    for r, record in t.rows:
        unit_id = t.get(record, "id")
        if not unit_id:
            t.bad(r, cid, f"row {r + 1} has no id", field="id")
            continue
        k = unit_id.lower()
        if k in seen:
            t.bad(r, cid, f"unit id '{unit_id}' is used twice (first in {t.address(seen[k], cid)}); "
                          "ids must be unique (case-insensitive)", unit=unit_id, field="id")
            continue
        seen[k] = r
        ids.append(unit_id)
        records.append(record)
    if not ids and not t.problems:
        t.problems.append(Problem(t.name, "A2", problem="the file lists no unit"))
    if t.problems:
        raise ProblemsFound(t.problems)
    others = [k for k in sorted(t.header, key=t.header.__getitem__)
              if k not in ("id", "name_zh", "name_en")]
    out: dict[str, Any] = {}
    for col in ("name_zh", "name_en", *others):
        texts = [t.get(rec, col) for rec in records]
        filled = [x for x in texts if x]
        numeric = (col not in ("name_zh", "name_en") and bool(filled)
                   and all(_csv_number(x) is not None and not _LEADING_ZERO.match(x) for x in filled))
        if numeric:
            out[col] = pd.Series([_csv_number(x) if x else np.nan for x in texts], dtype=float)
        else:
            out[col] = pd.Series(texts, dtype=object)
    frame = pd.DataFrame(out)
    frame.index = pd.Index(ids, dtype=object, name="unit")
    return frame


# ---------------------------------------------------------------------------------------------
# `xl-aiindex new`


def new_readme(name: str, file_name: str) -> list[tuple[str, str]]:
    """The README sheet of a workbook made by ``xl-aiindex new``: (English, Chinese) rows."""
    return [
        (name, name),
        ("A workbook for a composite index, made by `xl-aiindex new` from a tree and a list of "
         "units. Input sheets: Settings (method choices), Framework (the indicator tree, any "
         "depth), Units, Data (raw values). Result sheets (Scores, Ranking, Tiers, WeightsUsed, "
         "Problems, Log) are rewritten by every recalc: do not type into them.",
         "由 `xl-aiindex new` 根据指标体系和评价单位生成的综合指数工作簿。输入表：Settings（方法设置）、"
         "Framework（指标体系，层级不限）、Units（评价单位）、Data（原始数据）。结果表（Scores、Ranking、"
         "Tiers、WeightsUsed、Problems、Log）每次计算时重写：请勿手工填写。"),
        tool_sheets_readme(),
        ("1. Fill the Data sheet: one row per unit (ids already there), one column per indicator; "
         "numbers only, a blank cell is a missing value (see the setting 'missing').",
         "1. 填写 Data 表：每个单位一行（已列出编号），每个指标一列；只填数字，空白表示缺失（见设置 "
         "missing）。"),
        ("2. Check the Framework: the weights of each sibling group sum to 1 (the helper column "
         "sibling_sum turns red otherwise); direction -1 for lower-is-better indicators; methods "
         "from the drop-downs.",
         "2. 检查 Framework：同级权重之和为 1（否则辅助列 sibling_sum 标红）；越小越好的指标 direction "
         "填 -1；方法从下拉列表中选择。"),
        ("3. Choose the methods in Settings (normalisation, aggregation, tiers…); output = formulas "
         "writes the results as live formulas (Excel then updates scores and ranks when a raw value "
         "or a weight changes).",
         "3. 在 Settings 中选择方法（标准化、合成、梯队等）；output = formulas 时结果写成公式（修改原始"
         "数据或权重后 Excel 自动更新得分和排名）。"),
        (f"4. Run `xl-aiindex recalc {file_name}` (add --formulas for live formulas): it fills the "
         "result sheets, or lists every problem with its sheet and cell.",
         f"4. 运行 `xl-aiindex recalc {file_name}`（加 --formulas 写成公式）：填写结果表，或列出每个"
         "问题及其所在的表和单元格。"),
    ]


def new_workbook(framework_csv: str | os.PathLike[str], units_csv: str | os.PathLike[str],
                 out: str | os.PathLike[str]) -> tuple[tuple[Node, ...], pd.DataFrame]:
    """Write a ready workbook for the tree of ``framework_csv`` and the units of ``units_csv``
    (``xl-aiindex new``) to ``out``, atomically; returns the nodes and units written.

    Settings get the contract's defaults and the root's names; Data lists every unit id, one
    column per indicator, blank values to fill; Data's unit column has a drop-down of the ids.
    Raises :class:`ProblemsFound` (nothing written) with every problem of both CSVs, each with
    the file name as ``sheet`` and its cell. Overwrites ``out``: the caller checks first.
    """
    from .io import atomic_write

    problems: list[Problem] = []
    units: pd.DataFrame | None = None
    try:
        units = read_units_csv(units_csv)
    except ProblemsFound as e:
        problems.extend(e.problems)
    nodes: tuple[Node, ...] = ()
    try:
        nodes = read_framework_csv(framework_csv, units)
    except ProblemsFound as e:
        problems.extend(e.problems)
    if problems or units is None:
        raise ProblemsFound(problems)
    tree, _ = build_tree(nodes)
    assert tree is not None
    data = pd.DataFrame(np.nan, index=units.index, columns=list(tree.leaves))
    root = tree.root
    settings: dict[str, object] = {"name_zh": root.name_zh or None, "name_en": root.name_en or None}
    name = " / ".join(x for x in (root.name_zh, root.name_en) if x) or root.id
    target = Path(out)
    frame = units
    atomic_write(target, lambda tmp: write_workbook(
        tmp, nodes=nodes, units=frame, settings=settings, data=data,
        readme=new_readme(name, target.name), created=FIXED_CREATED, unit_lists=True))
    return nodes, units
