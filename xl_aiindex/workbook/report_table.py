"""The report's tables: bilingual column headers, numbers formatted by what they mean, and
tables split into column groups that fit an A4 page.

A column of a report table is a :class:`Column`: the key of the DataFrame column, its Chinese
and English header and its :data:`KINDS` (how its numbers are written: ranks and counts as
integers, probabilities as percentages, weights with 3 decimals…). :func:`columns_for` names
the columns of a table from :data:`COLUMN_LABELS` (the result sheets' fixed columns) and the
Framework (a column that is a node id gets the node's names); :func:`html_tables` writes the
table, in as many column groups as the page needs (the first ``keys`` columns repeated in each
group), each group an HTML ``<table>`` narrower than the page.
"""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..model import IndexModel, Settings

#: How a column's values are written: ``text``; ``int`` (ranks, counts, sample sizes: whole
#: numbers); ``score`` (2 decimals); ``weight`` (3 decimals); ``fine`` (a weight in the
#: total, 4 decimals); ``pct`` (a share 0–1 as a
#: percentage); ``r`` (a correlation or index, 2 decimals); ``num`` (any statistic: 2 decimals,
#: thousands separated); ``yesno`` (a truth value as 是/否 yes/no).
KINDS = ("text", "int", "score", "weight", "fine", "pct", "r", "num", "yesno")

#: Header (Chinese, English) and kind of every fixed column the report shows.
COLUMN_LABELS: dict[str, tuple[str, str, str]] = {
    # ranking, scores, tiers
    "rank": ("排名", "Rank", "int"),
    "unit": ("代码", "ID", "text"),
    "name_zh": ("名称", "Name", "text"),
    "name_en": ("英文名称", "English name", "text"),
    "name": ("名称", "Name", "text"),
    "score": ("总分", "Score", "score"),
    "tier": ("梯队", "Tier", "text"),
    "published": ("公布得分", "Published", "score"),
    "diff": ("差值", "Difference", "score"),
    "coverage": ("数据覆盖率", "Coverage", "pct"),
    # weights
    "parent": ("上级", "Parent", "text"),
    "child": ("代码", "ID", "text"),
    "node": ("代码", "ID", "text"),
    "method": ("方法", "Method", "text"),
    "weight": ("权重", "Weight", "weight"),
    "weight_in_total": ("总权重", "Weight in total", "fine"),
    # uncertainty
    "nominal_rank": ("名义排名", "Nominal rank", "int"),
    "rank_q05": ("排名 5% 分位", "Rank, 5th percentile", "int"),
    "median_rank": ("排名中位数", "Median rank", "int"),
    "rank_q95": ("排名 95% 分位", "Rank, 95th percentile", "int"),
    "nominal_tier": ("名义梯队", "Nominal tier", "text"),
    "p_nominal_tier": ("保持梯队概率", "Same tier (share of runs)", "pct"),
    "mean_abs_shift": ("平均排名变动", "Mean rank shift", "score"),
    "below_median": ("中位数 − 5% 分位", "Median − 5th pct.", "int"),
    "above_median": ("95% 分位 − 中位数", "95th pct. − median", "int"),
    "assumption": ("假设", "Assumption", "text"),
    "levels": ("水平数", "Levels", "int"),
    "first_order": ("一阶指数", "First-order index", "r"),
    "first_order_interval": ("一阶指数 95% 区间", "First-order, 95% interval", "text"),
    "total": ("总效应指数", "Total index", "r"),
    "total_interval": ("总效应 95% 区间", "Total, 95% interval", "text"),
    "note": ("备注", "Note", "text"),
    "samples": ("样本量 N", "Samples N", "int"),
    "runs": ("运行次数", "Runs", "int"),
    # audit
    "depth": ("层级", "Level", "int"),
    "indicator": ("是否指标", "Indicator", "yesno"),
    "n": ("样本数", "Units with data", "int"),
    "missing": ("缺失数", "Missing", "int"),
    "min": ("最小值", "Min", "num"),
    "max": ("最大值", "Max", "num"),
    "mean": ("均值", "Mean", "num"),
    "sd": ("标准差", "SD", "num"),
    "skewness": ("偏度", "Skewness", "r"),
    "kurtosis": ("峰度", "Kurtosis", "r"),
    "needs_treatment": ("需处理异常值", "Needs outlier treatment", "yesno"),
    "r_parent": ("与上级相关", "r with parent", "r"),
    "r_total": ("与总分相关", "r with total", "r"),
    "importance": ("有效重要性", "Effective importance", "weight"),
    "group_alpha": ("克隆巴赫 α", "Cronbach's alpha", "r"),
    "group_pc1_share": ("第一主成分占比", "First component share", "pct"),
    "flags": ("警示", "Flags", "text"),
    # compare
    "score_a": ("得分 A", "Score A", "score"),
    "rank_a": ("排名 A", "Rank A", "int"),
    "score_b": ("得分 B", "Score B", "score"),
    "rank_b": ("排名 B", "Rank B", "int"),
    # methodology annex
    "indicator_id": ("代码", "ID", "text"),
    "value": ("填补值", "Value used", "num"),
    "handling": ("处理方法", "Handling", "text"),
    "direction": ("方向", "Direction", "text"),
    "normalisation": ("标准化", "Normalisation", "text"),
    "aggregation": ("合成方法", "Aggregation", "text"),
    "weighting": ("权重方法", "Weighting", "text"),
    "weight_source": ("权重来源", "Source of the weights", "text"),
    "children": ("下级数", "Children", "int"),
    "prepare": ("预处理", "Preparation", "text"),
    "unit_of_measure": ("单位", "Unit", "text"),
    "source": ("数据来源", "Source", "text"),
    "treatment": ("处理", "Treatment", "text"),
    "skew_before": ("处理前偏度", "Skewness before", "r"),
    "kurtosis_before": ("处理前峰度", "Kurtosis before", "r"),
    "skew_after": ("处理后偏度", "Skewness after", "r"),
    "kurtosis_after": ("处理后峰度", "Kurtosis after", "r"),
    "how": ("方式", "How", "text"),
    "values": ("取值", "Values", "text"),
    "kind": ("类别", "Kind", "text"),
    "formula": ("公式", "Formula", "text"),
    "nodes": ("节点", "Nodes", "text"),
}


def unit_word(settings: Settings) -> str:
    """What the report calls a unit in Chinese (城市, 省份…): Settings ``unit_label`` when the
    workbook sets it (its Chinese part: ``省份/province`` gives 省份), else the neutral 单位.
    The one place the report reads the word from."""
    label = str(getattr(settings, "unit_label", "") or "")
    return label.replace("／", "/").split("/")[0].strip() or "单位"


@dataclass(frozen=True)
class Column:
    """One column of a report table: the DataFrame column ``key``, its headers ``zh`` and
    ``en`` and its kind (:data:`KINDS`). Text wraps; numbers never do."""

    key: str
    zh: str
    en: str
    kind: str = "text"


def columns_for(table: pd.DataFrame, model: IndexModel | None = None,
                overrides: Mapping[str, tuple[str, str, str]] | None = None) -> list[Column]:
    """The :class:`Column` of every column of ``table``: ``overrides`` first, then a node id
    of ``model`` (its Chinese and English names; a score), then :data:`COLUMN_LABELS`; a
    column none of them knows is headed by its key (a text or a 2-decimal number)."""
    nodes = {n.id: n for n in model.nodes} if model is not None else {}
    out = []
    for key in (str(c) for c in table.columns):
        if overrides and key in overrides:
            zh, en, kind = overrides[key]
        elif key in nodes:
            n = nodes[key]
            zh, en, kind = n.name_zh or n.name_en or key, n.name_en or key, "score"
        elif key in COLUMN_LABELS:
            zh, en, kind = COLUMN_LABELS[key]
        else:
            numeric = pd.api.types.is_numeric_dtype(table[key]) and \
                not pd.api.types.is_bool_dtype(table[key])
            zh, en, kind = key, "", "num" if numeric else "text"
        out.append(Column(key, zh, en if en != zh else "", kind))
    return out


# ---- numbers -------------------------------------------------------------------------------

def _finite(v: Any) -> float | None:
    if v is None or isinstance(v, bool | str):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fixed(f: float, digits: int, thousands: bool = False) -> str:
    text = f"{f:,.{digits}f}" if thousands else f"{f:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def format_value(v: Any, kind: str) -> str:
    """``v`` as the report writes a value of ``kind`` (:data:`KINDS`); blank for a blank or a
    non-finite number. A whole-number kind shows a fraction when the value has one (a median
    rank of 2.5 stays 2.5: nothing is hidden by rounding)."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    if kind == "yesno":
        word = v.strip().lower() if isinstance(v, str) else ""
        if isinstance(v, str) and word not in _YES + _NO:
            return v   # a text that is no truth value is shown as written
        return "是 yes" if (word in _YES if isinstance(v, str) else bool(v)) else "否 no"
    f = _finite(v)
    if f is None:
        return "" if not isinstance(v, str) and _is_number(v) else str(v)
    if kind == "int":
        return f"{f:,.0f}" if f.is_integer() else _fixed(f, 2)
    if kind == "pct":
        pct = f * 100
        if abs(pct - round(pct)) < 1e-9:
            return f"{round(pct)}%"
        text = _fixed(pct, 1)
        # a share that is not 0 or 1 is never written as one
        return {"100.0": ">99.9", "0.0": "<0.1", "-0.0": "<0.1"}.get(text, text) + "%"
    if kind == "weight":
        return _fixed(f, 3)
    if kind == "fine":
        return _fixed(f, 4)
    if kind == "num":
        return _fixed(f, 2, thousands=True)
    if kind == "text":
        return _fixed(f, 0) if f.is_integer() else f"{f:g}"
    return _fixed(f, 2)


_YES = ("true", "yes", "1", "是")
_NO = ("false", "no", "0", "否")


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


# ---- widths and column groups ----------------------------------------------------------------

#: Width (in em of the table's font) an A4 page's text column holds in print: 186 mm at
#: 0.9 × 9.5 pt is 61.7 em; the rest is a margin for fonts wider than estimated. (Measured
#: in Chromium, a table's narrowest width is 40–95 % of the estimate.)
PAGE_EM = 60.0
#: Horizontal padding of a cell (0.5 em each side) plus its border.
_PAD_EM = 1.05
#: Size of a header's English line relative to the table's font (``th .en``).
_EN_HEAD = 0.85


def text_em(text: str) -> float:
    """Estimated width of ``text`` in em: wide (CJK) characters 1, others about 0.55 (a
    little more than Noto Sans' and Arial's average, so the estimate errs wide)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


def _min_em(text: str, wrap: bool, cjk_breaks: bool = True) -> float:
    """The narrowest ``text`` can be set: its whole width when it may not wrap, else its
    longest space-separated word; a word of CJK characters may break between characters
    (``cjk_breaks``), so it is counted as 6 characters at most."""
    if not wrap:
        return text_em(text)
    longest = 0.0
    for word in text.split():
        w = text_em(word)
        if cjk_breaks and w > 6.0 and any(unicodedata.east_asian_width(ch) in "WF" for ch in word):
            w = 6.0
        longest = max(longest, w)
    return longest


#: A text column whose every cell is at most this wide (em) is kept on one line: names, tiers.
SHORT_EM = 10.0


def wraps(column: Column, cells: Sequence[str]) -> bool:
    """Whether the column's cells may wrap: text with a cell wider than :data:`SHORT_EM`
    (numbers and short texts such as names and tier labels stay on one line)."""
    return column.kind == "text" and any(text_em(c) > SHORT_EM for c in cells)


def column_em(column: Column, cells: Sequence[str]) -> float:
    """Estimated narrowest width of a column (em): its header (each language on its own line,
    wrapping at spaces only) and its cells (whole, or their longest word when they wrap)."""
    head = max(_min_em(column.zh, True, False), _EN_HEAD * _min_em(column.en, True, False))
    wrap = wraps(column, cells)
    body = max((_min_em(c, wrap) for c in cells), default=0.0)
    return max(head, body) + _PAD_EM


def column_groups(widths: Sequence[float], keys: int, budget: float = PAGE_EM) -> list[list[int]]:
    """Split columns of ``widths`` into groups narrower than ``budget``, in order, each group
    starting with the first ``keys`` columns (what identifies a row). A column wider than the
    page by itself gets a group of its own."""
    key_cols = list(range(min(keys, len(widths))))
    key_w = sum(widths[i] for i in key_cols)
    groups: list[list[int]] = []
    current: list[int] = []
    used = key_w
    for i in range(len(key_cols), len(widths)):
        if current and used + widths[i] > budget:
            groups.append(key_cols + current)
            current, used = [], key_w
        current.append(i)
        used += widths[i]
    if current or not groups:
        groups.append(key_cols + current)
    return groups


def html_tables(table: pd.DataFrame, columns: Sequence[Column], *, keys: int = 1,
                row_fills: Sequence[str] | None = None,
                row_class: Callable[[int], str] | None = None,
                budget: float = PAGE_EM) -> str:
    """``table`` as one or more HTML tables with bilingual headers and formatted values,
    split into column groups (:func:`column_groups`, the first ``keys`` columns in each) so
    that none is wider than an A4 page. ``row_fills``: a background colour per row (hex)."""
    cells = [[format_value(v, c.kind) for v in table[c.key]] for c in columns]
    widths = [column_em(c, cs) for c, cs in zip(columns, cells, strict=True)]
    wrap = [wraps(c, cs) for c, cs in zip(columns, cells, strict=True)]
    groups = column_groups(widths, keys, budget)
    out = []
    for g, group in enumerate(groups):
        caption = ('<caption>续表 (continued)</caption>' if g else "")
        head = "".join(_th(columns[i]) for i in group)
        rows = []
        for r in range(len(table)):
            style = f' style="background:#{row_fills[r]}"' if row_fills else ""
            cls = f' class="{row_class(r)}"' if row_class and row_class(r) else ""
            tds = "".join(_td(columns[i], cells[i][r], wrap[i]) for i in group)
            rows.append(f"<tr{style}{cls}>{tds}</tr>")
        out.append(f'<table>{caption}<thead><tr>{head}</tr></thead>'
                   f'<tbody>{"".join(rows)}</tbody></table>')
    return "".join(out)


def _th(c: Column) -> str:
    en = f'<span class="en">{html.escape(c.en)}</span>' if c.en else ""
    cls = ' class="num"' if c.kind not in ("text", "yesno") else ""
    return f"<th{cls}>{html.escape(c.zh)}{en}</th>"


def _td(c: Column, text: str, wrap: bool) -> str:
    if c.kind == "text" and wrap:
        return f"<td>{html.escape(text)}</td>"
    if c.kind in ("text", "yesno"):
        return f'<td class="nw">{html.escape(text)}</td>'
    return f'<td class="num">{html.escape(text)}</td>'
