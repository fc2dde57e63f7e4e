"""The look of the result sheets, read back from the written file: number formats by what a
column holds, widths from the display width of what it shows, one header style, Audit's
yes/no, and the charts' score axes and legends (issue #23). The same rules, rendered by
LibreOffice, are checked in ``tests/stories/test_sheet_render.py``."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pandas as pd
import pytest
from test_charts import NS, _charts_of
from test_formulas import SHIPPED
from test_sheet_render import _province_book

from xl_aiindex.contract import TOOL_SHEETS
from xl_aiindex.model import Settings
from xl_aiindex.workbook.layout import display_width, fitted_widths, format_number
from xl_aiindex.workbook.result_cells import column_style, score_style
from xl_aiindex.workbook.sheetspec import HEADER, NUMBER, TEXT, WRAPPED, Cell
from xl_aiindex.workbook.uncertainty_io import interval_drawing
from xl_aiindex.workbook.visuals import score_axis


def _east_asian_width(text: str) -> int:
    """Display columns counted another way: every character of the CJK blocks is 2."""
    return sum(2 if "\u4e00" <= ch <= "\u9fff" or unicodedata.east_asian_width(ch) == "F"
               else 1 for ch in text)


@pytest.mark.parametrize("text", ["新疆维吾尔自治区", "beijing", "92.93 第一梯队", "Ｘ1", ""])
def test_display_width_counts_cjk_double(text: str) -> None:
    assert display_width(text) == _east_asian_width(text)


@pytest.mark.parametrize(("value", "fmt", "shown"), [
    (92.92851, "0.00", "92.93"), (9.22628244, "0.00", "9.23"), (3.0, "0", "3"),
    (0.953, "0%", "95%"), (0.9994, "0.0%", "99.9%"), (1.0, "0.0%", "100.0%"),
    (0.33333, "0.000", "0.333"), (1765946.8, "#,##0.00", "1,765,946.80"),
    (-1.5, "+0.00;-0.00;0.00", "-1.50"), (2.0, "+0;-0;0", "+2"), (0.0, "+0;-0;0", "0"),
    (-0.004, "0.00", "-0.00"), (92.9285, "General", "92.9285"),
])
def test_format_number_is_what_a_spreadsheet_shows(value: float, fmt: str, shown: str) -> None:
    assert format_number(value, fmt) == shown


def test_fitted_widths_fit_the_widest_shown_text() -> None:
    rows = [[Cell("rank", style=HEADER), Cell("name_zh", style=HEADER),
             Cell("score", style=HEADER), Cell("problem", style=HEADER)],
            [Cell(1, style=TEXT), Cell("新疆维吾尔自治区", style=TEXT),
             Cell(1234567.891, style=NUMBER), Cell("long " * 40, style=WRAPPED)]]
    widths = fitted_widths(rows, least={3: 50.0})
    assert widths[1] >= 16 + 1            # 8 CJK characters: 16 columns and a gap
    assert widths[2] >= len("1234567.89") + 1
    assert widths[0] >= len("rank") * 1.1   # bold header
    assert widths[3] == 50.0              # wrapped text keeps its width


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _province_book(tmp_path_factory.mktemp("layout"))


def _records(ws) -> list[dict[str, openpyxl.cell.Cell]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=False)) for row in ws.iter_rows(min_row=2)]


def _width(ws, letter: str) -> float:
    return float(ws.column_dimensions[letter].width)


def test_number_formats_follow_what_a_column_holds(province: Path) -> None:
    wb = openpyxl.load_workbook(province)
    ranking = _records(wb["Ranking"])
    assert {r["rank"].number_format for r in ranking} == {"0"}
    assert {r["score"].number_format for r in ranking} == {"0.00"}
    assert {r["talent"].number_format for r in ranking} == {"0.00"}
    compare = _records(wb["Compare"])
    total = [r for r in compare if r["node"].value == "ai"]
    assert total and all(r["score_a"].number_format == "0.00" and r["diff"].number_format
                         == "0.00" and r["rank_a"].number_format == "0" and r["score_a"].font.b
                         for r in total)
    assert {r["weight"].number_format for r in _records(wb["WeightsUsed"])} == {"0.000"}
    units = _records(wb["UncertaintyResults"])
    assert {r["p_nominal_tier"].number_format for r in units} == {"0.0%"}
    assert {r["median_rank"].number_format for r in units} == {"0"}
    scores = _records(wb["Scores"])
    assert {r["coverage"].number_format for r in scores} == {"0.0%"}
    audit = _records(wb["Audit"])
    spending = next(r for r in audit if r["node"].value == "spending")
    assert spending["max"].number_format == "#,##0.00"
    # a text beside a number is indented: "1 beijing" does not read as one string
    assert {r["unit"].alignment.indent for r in ranking} == {1}


def test_columns_are_as_wide_as_what_they_show(province: Path) -> None:
    wb = openpyxl.load_workbook(province)
    ranking = wb["Ranking"]
    header = [c.value for c in ranking[1]]
    letter = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(header, 1)}
    assert _width(ranking, letter["name_zh"]) >= display_width("新疆维吾尔自治区") + 1
    assert _width(ranking, letter["name_en"]) >= len("Xinjiang Uygur Autonomous Region") + 1
    sens = wb["Sensitivity"]
    sens_header = [c.value for c in sens[1]]
    col = openpyxl.utils.get_column_letter(sens_header.index("first_order_high") + 1)
    assert _width(sens, col) >= len("first_order_high") * 1.1
    audit = wb["Audit"]
    audit_header = [c.value for c in audit[1]]
    for name in ("max", "mean", "sd"):
        col = openpyxl.utils.get_column_letter(audit_header.index(name) + 1)
        widest = max(len(format_number(float(c.value), c.number_format))
                     for c in audit[col][1:] if isinstance(c.value, int | float))
        assert _width(audit, col) >= widest + 1, name


def test_audit_says_yes_or_no(province: Path) -> None:
    audit = _records(openpyxl.load_workbook(province)["Audit"])
    assert {r["indicator"].value for r in audit} == {"yes", "no"}
    by_node = {r["node"].value: r["indicator"].value for r in audit}
    assert by_node["spending"] == "yes" and by_node["talent"] == "no"
    assert {r["needs_treatment"].value for r in audit} <= {"yes", "no", None}


def test_every_result_sheet_has_the_one_header_style(province: Path) -> None:
    wb = openpyxl.load_workbook(province)
    looks = set()
    for name in wb.sheetnames:
        if name not in TOOL_SHEETS or name.startswith("_"):
            continue
        for cell in wb[name][1]:
            if cell.value is None:
                continue
            looks.add((name, cell.font.b, cell.fill.fgColor.rgb, cell.font.color.rgb
                       if cell.font.color is not None else None))
    assert {look[1:] for look in looks} == {(True, "FF1F4E78", "FFFFFFFF")}, looks


def _axis(chart: ET.Element) -> tuple[str | None, str | None]:
    scaling = chart.find(".//c:valAx/c:scaling", NS)
    low, high = scaling.find("c:min", NS), scaling.find("c:max", NS)
    return (None if low is None else low.get("val"), None if high is None else high.get("val"))


@pytest.mark.parametrize("sheet", ["Charts", "Compare"])
def test_score_axes_run_from_0_to_100(sheet: str) -> None:
    charts = _charts_of(SHIPPED["given"], sheet)
    assert charts and {_axis(c) for c in charts} == {("0.0", "100.0")}


def test_the_legend_lists_tiers_best_first() -> None:
    """Excel and LibreOffice list a horizontal bar chart's legend from its last series up:
    the Charts sheet's series run 第三梯队 … 第一梯队, so the legend reads 第一梯队 first."""
    chart = _charts_of(SHIPPED["given"], "Charts")[0]
    sers = chart.findall(".//c:barChart/c:ser", NS)
    assert chart.find(".//c:barDir", NS).get("val") == "bar"
    assert [s.find("c:tx/c:v", NS).text for s in sers] == ["第三梯队", "第二梯队", "第一梯队"]
    assert [s.find("c:order", NS).get("val") for s in sers] == ["0", "1", "2"]
    assert chart.find(".//c:legend/c:legendPos", NS).get("val") == "r"


def test_scores_beyond_100_keep_an_automatic_axis() -> None:
    assert score_axis(pd.Series([12.0, 99.5])) == (0.0, 100.0)
    assert score_axis(pd.Series([0.2, 0.9])) == (0.0, None)        # shares of 1
    assert score_axis(pd.Series([40.0, 120.0])) == (0.0, None)
    assert score_axis(pd.Series([-1.2, 0.8])) == (None, None)     # z-scores


def test_the_rank_interval_chart_grows_with_long_names() -> None:
    short = interval_drawing(31, "name_zh", display_width("北京"))
    long = interval_drawing(31, "name_zh", display_width("新疆维吾尔自治区"))
    (a_short, _), = short.charts
    (a_long, _), = long.charts
    assert a_long.row_to - a_long.row > a_short.row_to - a_short.row


@pytest.mark.parametrize(("column", "fmt"), [
    ("rank", "0"), ("rank_q95", "0"), ("count", "0"), ("score", "0.00"), ("score_b", "0.00"),
    ("diff", "0.00"), ("infrastructure", "0.00"), ("p_nominal_tier", "0.0%"),
    ("coverage", "0.0%"), ("weight", "0.000"), ("weight_in_total", "0.000"),
    ("first_order_high", "0.0000"), ("unit", "General")])
def test_a_columns_format_follows_what_it_holds(column: str, fmt: str) -> None:
    assert column_style(column).num_format == fmt


def test_scores_show_the_decimals_the_ranking_uses() -> None:
    assert score_style(Settings()).num_format == "0.00"
    assert score_style(Settings(rank_decimals=1)).num_format == "0.0"
    assert score_style(Settings(rank_decimals=0)).num_format == "0"
    assert column_style("score", score_style(Settings(rank_decimals=3))).num_format == "0.000"
