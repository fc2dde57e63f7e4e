"""The README sheet of a new workbook: its bilingual text (what ``xl-aiindex new`` says, or a
default) and rows tall enough for the wrapped text in every spreadsheet program."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ...contract import README
from ..ownership import tool_sheets_readme
from ..sheetspec import Style
from .xlsx import SheetWriter


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
        (f"5. `xl-aiindex uncertainty {file_name}` varies what the Uncertainty sheet lists (the "
         "default analysis: weights ±25%, the normalisation and missing-value methods; edit or "
         "delete its rows) and writes how far each rank moves.",
         f"5. `xl-aiindex uncertainty {file_name}` 按 Uncertainty 表变动假设（默认分析：权重 ±25%、"
         "标准化方法和缺失值处理方法；可修改或删除其中的行），写出每个单位排名的变动范围。"),
    ]


def write_readme_sheet(w: SheetWriter, readme: Sequence[tuple[str, str]], name: str) -> None:
    """The README sheet: the (English, Chinese) rows of ``readme``, or a default text naming
    the input and result sheets under the title ``name``."""
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
    from ...terminal import display_width

    usable = max(1.0, width * 0.9)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))
