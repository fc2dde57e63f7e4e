"""Native charts: the chart-part writer's XML, the Charts and Compare sheets of the shipped
workbooks (the ranges each chart references, and what those cells hold), charts surviving a
recalc after a data change (the cells move, the chart parts stay byte-identical), ``chart_top``
= 0 removing them, and LibreOffice rendering them."""

from __future__ import annotations

import posixpath
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from conftest import SMALL, write_book
from lo_harness import render_pngs

from xl_aiindex.errors import ProblemsFound, UnsafeWrite
from xl_aiindex.workbook.calamine_source import CalamineSource
from xl_aiindex.workbook.charts import (
    Series,
    bar_chart,
    charts_only,
    clustered_bar_chart,
    radar_chart,
    rank_interval_chart,
    sheet_ref,
)
from xl_aiindex.workbook.io import recalc_file, validate_file
from xl_aiindex.workbook.ooxml import package_parts, splice_sheets
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

REPO = Path(__file__).resolve().parents[2]
GIVEN = REPO / "workbooks" / "city_ai_index_2020.xlsx"
NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
      "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
      "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
R_ID = f"{{{NS['r']}}}id"

# the report's appendix, by hand: the first 15 cities by total (fig. 3.2.1.1)
TOP15 = ["北京", "上海", "深圳", "杭州", "南京", "广州", "苏州", "合肥", "成都", "天津",
         "济南", "西安", "重庆", "青岛", "长沙"]


# ---- the writer, on XML -------------------------------------------------------------------

def test_bar_chart_references_cells_and_fills_each_point():
    xml = bar_chart("T", "'Charts'!$E$2:$E$4",
                    Series("'Charts'!$G$2:$G$4", name_ref="'Charts'!$G$1",
                           point_fills=["C6EFCE", "C6EFCE", "FFEB9C"]))
    root = ET.fromstring(xml)
    ser = root.find(".//c:barChart/c:ser", NS)
    assert root.find(".//c:barDir", NS).get("val") == "bar"
    assert ser.find("c:cat/c:strRef/c:f", NS).text == "'Charts'!$E$2:$E$4"
    assert ser.find("c:val/c:numRef/c:f", NS).text == "'Charts'!$G$2:$G$4"
    assert ser.find("c:tx/c:strRef/c:f", NS).text == "'Charts'!$G$1"
    assert ser.find(".//c:numCache", NS) is None      # no cached data: drawn from the cells
    fills = [(int(p.find("c:idx", NS).get("val")), p.find(".//a:srgbClr", NS).get("val"))
             for p in ser.findall("c:dPt", NS)]
    assert fills == [(0, "C6EFCE"), (1, "C6EFCE"), (2, "FFEB9C")]
    # rank 1 at the top: the category axis runs max to min
    assert root.find(".//c:catAx/c:scaling/c:orientation", NS).get("val") == "maxMin"
    assert root.find(".//a:t", NS).text == "T"


def test_clustered_and_radar_charts_have_one_series_per_unit():
    series = [Series("'Compare'!$G$2:$G$6", name_ref="'Compare'!$F$2"),
              Series("'Compare'!$K$2:$K$6", name_ref="'Compare'!$J$2")]
    for xml, kind in ((clustered_bar_chart("A / B", "'Compare'!$C$2:$C$6", series), "barChart"),
                      (radar_chart("A / B", "'Compare'!$C$2:$C$6", series), "radarChart")):
        root = ET.fromstring(xml)
        sers = root.findall(f".//c:{kind}/c:ser", NS)
        assert [s.find("c:val/c:numRef/c:f", NS).text for s in sers] == \
            ["'Compare'!$G$2:$G$6", "'Compare'!$K$2:$K$6"]
        assert [s.find("c:tx/c:strRef/c:f", NS).text for s in sers] == \
            ["'Compare'!$F$2", "'Compare'!$J$2"]
        assert root.find(".//c:legend", NS) is not None
    with pytest.raises(ValueError, match="at least one series"):
        clustered_bar_chart("x", "'S'!$A$1:$A$2", [])


def test_rank_interval_chart_names_units_on_a_category_axis_rank_1_at_the_top():
    ref = "'UncertaintyResults'!${0}$2:${0}$31".format
    xml = rank_interval_chart("排名区间", ref("B"), ref("F"), ref("K"), ref("L"), 30)
    root = ET.fromstring(xml)
    ser = root.find(".//c:lineChart/c:ser", NS)
    assert ser.find("c:cat/c:strRef/c:f", NS).text == ref("B")
    assert ser.find("c:val/c:numRef/c:f", NS).text == ref("F")
    assert ser.find("c:spPr/a:ln/a:noFill", NS) is not None           # dots, no line
    err = ser.find("c:errBars", NS)
    assert [err.find(f"c:{t}", NS).get("val") for t in ("errDir", "errBarType", "errValType")] \
        == ["y", "both", "cust"]
    assert err.find("c:minus/c:numRef/c:f", NS).text == ref("K")
    assert err.find("c:plus/c:numRef/c:f", NS).text == ref("L")
    assert ser.find(".//c:numCache", NS) is None and ser.find(".//c:strCache", NS) is None
    # rank 1 at the top: the rank axis runs max to min, 0 … 31 (room around ranks 1 and 30),
    # a label every 5 ranks; the category axis crosses it at its maximum, the bottom
    val_ax = root.find(".//c:valAx", NS)
    assert val_ax.find("c:scaling/c:orientation", NS).get("val") == "maxMin"
    assert (val_ax.find("c:scaling/c:min", NS).get("val"),
            val_ax.find("c:scaling/c:max", NS).get("val")) == ("0.0", "31.0")
    assert val_ax.find("c:majorUnit", NS).get("val") == "5.0"
    assert root.find(".//c:catAx/c:crosses", NS).get("val") == "max"
    assert root.find(".//c:catAx/c:axPos", NS).get("val") == "b"
    # the XML depends on the arguments only
    assert rank_interval_chart("排名区间", ref("B"), ref("F"), ref("K"), ref("L"), 30) == xml


def test_sheet_ref_quotes_the_sheet_name():
    assert sheet_ref("Charts", "E", 2, "E", 16) == "'Charts'!$E$2:$E$16"
    assert sheet_ref("it's", "A", 1) == "'it''s'!$A$1"


# ---- the shipped workbook -----------------------------------------------------------------

def _charts_of(path: Path, sheet: str) -> list[ET.Element]:
    """The chart parts (parsed) on ``sheet`` of the workbook at ``path``, in drawing order."""
    parts = package_parts(path)
    wb = ET.fromstring(parts["xl/workbook.xml"])
    rid = next(s.get(R_ID) for s in wb.find("m:sheets", NS) if s.get("name") == sheet)
    wb_rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    part = "xl/" + next(r.get("Target") for r in wb_rels if r.get("Id") == rid)

    def rels(p: str) -> dict[str, str]:
        d, base = posixpath.split(p)
        root = ET.fromstring(parts[f"{d}/_rels/{base}.rels"])
        return {r.get("Id"): posixpath.normpath(posixpath.join(d, r.get("Target"))) for r in root}

    drawing = next(iter(rels(part).values()))
    charts = rels(drawing)
    frames = ET.fromstring(parts[drawing]).findall(".//c:chart", NS)
    return [ET.fromstring(parts[charts[f.get(R_ID)]]) for f in frames]


def _cells(path: Path, ref: str) -> list[object]:
    """The values of a one-column range such as ``'Charts'!$E$2:$E$16``."""
    sheet, _, cells = ref.partition("!")
    book = openpyxl.load_workbook(path, read_only=True)
    ws = book[sheet.strip("'")]
    cells = cells.replace("$", "")
    if ":" not in cells:
        cells = f"{cells}:{cells}"
    values = [row[0].value for row in ws[cells]]
    book.close()
    return values


def test_shipped_charts_reference_the_top15_cells():
    charts = _charts_of(GIVEN, "Charts")
    titles = [c.find(".//c:title//a:t", NS).text for c in charts]
    assert titles == ["中国城市人工智能发展指数 TOP 15", "城市发展环境 TOP 15", "资金支持力度 TOP 15",
                      "研发能力 TOP 15", "基础支持情况 TOP 15", "发展成效 TOP 15"]
    # horizontal bars: the series are written last tier first, as Excel and LibreOffice list
    # such a chart's legend from the last series up (the legend reads 第一梯队 first)
    sers = charts[0].findall(".//c:ser", NS)[::-1]
    # a series per tier, drawn on top of each other: each bar has the colour of its tier
    assert [s.find("c:tx/c:v", NS).text for s in sers] == ["第一梯队", "第二梯队", "第三梯队"]
    assert [s.find("c:spPr//a:srgbClr", NS).get("val") for s in sers] == \
        ["C6EFCE", "FFEB9C", "F8CBAD"]
    assert charts[0].find(".//c:overlap", NS).get("val") == "100"
    cats = {s.find("c:cat/c:strRef/c:f", NS).text for s in sers}
    vals = [s.find("c:val/c:numRef/c:f", NS).text for s in sers]
    assert cats == {"'Charts'!$E$2:$E$16"}
    assert vals == ["'Charts'!$I$2:$I$16", "'Charts'!$J$2:$J$16", "'Charts'!$K$2:$K$16"]
    assert _cells(GIVEN, "'Charts'!$E$2:$E$16") == TOP15
    tier1, tier2, tier3 = (_cells(GIVEN, v) for v in vals)
    assert tier1[:3] == pytest.approx([92.93, 87.01, 86.52], abs=0.006)
    # ranks 1-10 in tier 1, 11-20 in tier 2: one value per row, in its tier's column
    assert [v is not None for v in tier1] == [True] * 10 + [False] * 5
    assert [v is not None for v in tier2] == [False] * 10 + [True] * 5
    assert tier3 == [None] * 15
    # the funding chart: its own block, sorted by funding (the report's fig. 3.3.2.1: 北京 first)
    funding = charts[2].find(".//c:ser", NS)     # 上海 is third in funding (82.56 < 87.02)
    f_cat = funding.find("c:cat/c:strRef/c:f", NS).text
    assert f_cat == "'Charts'!$E$32:$E$46"
    assert _cells(GIVEN, f_cat)[:3] == ["北京", "深圳", "上海"]
    assert _cells(GIVEN, "'Charts'!$A$32:$A$46") == ["funding"] * 15


def test_shipped_compare_charts_pair_the_report_cities():
    charts = _charts_of(GIVEN, "Compare")
    assert [c.find(".//c:title//a:t", NS).text for c in charts] == \
        ["北京 / 上海", "深圳 / 广州", "杭州 / 南京", "成都 / 西安"]
    sers = charts[0].findall(".//c:barChart/c:ser", NS)
    assert _cells(GIVEN, sers[0].find("c:tx/c:strRef/c:f", NS).text) == ["北京"]
    assert _cells(GIVEN, sers[1].find("c:tx/c:strRef/c:f", NS).text) == ["上海"]
    assert _cells(GIVEN, sers[0].find("c:cat/c:strRef/c:f", NS).text) == \
        ["城市发展环境", "资金支持力度", "研发能力", "基础支持情况", "发展成效"]
    # the published first-level scores of 北京 and 上海 (report appendix)
    assert _cells(GIVEN, sers[0].find("c:val/c:numRef/c:f", NS).text) == \
        pytest.approx([90.54, 92.68, 90.91, 96.09, 94.33])
    assert _cells(GIVEN, sers[1].find("c:val/c:numRef/c:f", NS).text) == \
        pytest.approx([88.37, 82.56, 86.46, 90.91, 87.23])


def _given_sheet(path: Path, change: dict[str, float]) -> SheetSpec:
    """The Given sheet of ``path`` with every score of the units in ``change`` set to a value."""
    src = CalamineSource(path)
    try:
        grid = src.grid("Given").values
    finally:
        src.close()
    rows = [[Cell(v) for v in grid[0]]]
    for row in grid[1:]:
        new = list(row)
        if row[0] in change:
            new = [row[0], *[change[row[0]] if isinstance(v, float) else v for v in row[1:]]]
        rows.append([Cell(v) for v in new])
    return SheetSpec("Given", rows)


def test_recalc_after_a_data_change_moves_the_bars_not_the_chart_parts(tmp_path):
    book = tmp_path / "b.xlsx"
    splice_sheets(GIVEN, book, [_given_sheet(GIVEN, {"beijing": 50.0})])   # Beijing falls last
    out = tmp_path / "out.xlsx"
    recalc_file(book, out)
    before, after = package_parts(GIVEN), package_parts(out)
    chart_parts = [n for n in before if n.startswith(("xl/charts/", "xl/drawings/drawing",
                                                      "xl/drawings/_rels/drawing"))]
    assert len(chart_parts) == 2 + 2 + 10        # 2 drawings, their rels, 10 charts
    assert {n: after[n] for n in chart_parts} == {n: before[n] for n in chart_parts}
    assert _cells(out, "'Charts'!$E$2:$E$16") == TOP15[1:] + ["武汉"]
    assert _cells(out, "'Compare'!$G$2:$G$6") == [50.0] * 5


def test_chart_top_zero_removes_the_charts(tmp_path):
    sheets = {k: [list(r) for r in v] for k, v in SMALL.items()}
    sheets["Settings"].append(["chart_top", 2])
    book = write_book(tmp_path / "s.xlsx", sheets)
    recalc_file(book)
    parts = package_parts(book)
    assert sum(n.startswith("xl/charts/chart") for n in parts) == 3   # total, d1, d2
    assert _cells(book, "'Charts'!$E$2:$E$3") == ["戊", "丁"]
    sheets["Settings"][-1] = ["chart_top", 0]
    grid = [[Cell(v) for v in row] for row in sheets["Settings"]]
    splice_sheets(book, book, [SheetSpec("Settings", grid)])
    recalc_file(book)
    parts = package_parts(book)
    assert not any(n.startswith(("xl/charts/", "xl/drawings/drawing")) for n in parts)
    assert "drawingml.chart" not in parts["[Content_Types].xml"].decode()


def test_unknown_compare_name_is_a_problem_at_its_cell(tmp_path):
    sheets = {k: [list(r) for r in v] for k, v in SMALL.items()}
    sheets["Settings"].append(["compare", "甲/乙;Delta/Epsilom"])
    book = write_book(tmp_path / "s.xlsx", sheets)
    with pytest.raises(ProblemsFound) as e:
        validate_file(book)
    assert [str(p) for p in e.value.problems] == [
        "Sheet 'Settings', cell B11: setting 'compare': unknown city \"Epsilom\" — did you mean "
        "Epsilon?"]


def test_compare_pairs_must_be_pairs(tmp_path):
    sheets = {k: [list(r) for r in v] for k, v in SMALL.items()}
    sheets["Settings"].append(["compare", "甲/乙/丙"])
    book = write_book(tmp_path / "s.xlsx", sheets)
    with pytest.raises(ProblemsFound) as e:
        validate_file(book)
    assert [str(p) for p in e.value.problems] == [
        "Sheet 'Settings', cell B11: setting 'compare': '甲/乙/丙' is not a pair 'a/b' (ids or "
        "names); separate pairs with ';', e.g. 北京/上海;深圳/广州"]


def test_recalc_without_changes_keeps_every_chart_part(tmp_path):
    parts = package_parts(GIVEN)
    out = tmp_path / "out.xlsx"
    recalc_file(GIVEN, out)
    after = package_parts(out)
    charts = [n for n in parts if n.startswith(("xl/charts/", "xl/drawings/"))]
    assert "xl/charts/chart10.xml" in charts
    assert {n: after[n] for n in charts} == {n: parts[n] for n in charts}


# ---- LibreOffice --------------------------------------------------------------------------

@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="poppler-utils is not installed; .ci/run installs it")
def test_libreoffice_renders_the_charts(tmp_path):
    pngs = render_pngs(GIVEN, ["Charts", "Compare"], tmp_path, dpi=40, keep_pdf=True)
    for png in pngs.values():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = tmp_path / "book.pdf"
    order = openpyxl.load_workbook(GIVEN, read_only=True).sheetnames

    def page_text(sheet: str) -> str:
        page = str(order.index(sheet) + 1)
        return subprocess.run(["pdftotext", "-f", page, "-l", page, str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout

    charts = page_text("Charts")
    # chart titles exist only in the chart parts: LibreOffice drew every chart, in Chinese
    for title in ("中国城市人工智能发展指数 TOP 15", "城市发展环境 TOP 15", "发展成效 TOP 15"):
        assert title in charts
    assert "92.93" in charts                      # a data label: read from the cells
    compare = page_text("Compare")
    assert "北京 / 上海" in compare and "成都 / 西安" in compare


def test_a_picture_or_shape_on_the_charts_sheet_is_never_dropped(tmp_path):
    shape = (b'<xdr:absoluteAnchor><xdr:pos x="0" y="0"/><xdr:ext cx="9525" cy="9525"/>'
             b'<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="99" name="My note"/>'
             b"<xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr/></xdr:sp><xdr:clientData/>"
             b"</xdr:absoluteAnchor></xdr:wsDr>")
    book = tmp_path / "b.xlsx"
    with zipfile.ZipFile(GIVEN) as zin, zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/drawings/drawing1.xml":   # the Charts sheet's
                data = data.replace(b"</xdr:wsDr>", shape)
            zout.writestr(info, data)
    assert not charts_only(package_parts(book)["xl/drawings/drawing1.xml"])
    assert charts_only(package_parts(GIVEN)["xl/drawings/drawing1.xml"])
    before = book.read_bytes()
    with pytest.raises(UnsafeWrite, match="sheet 'Charts' has pictures or shapes xl-aiindex "
                                          "did not draw; move them to another sheet"):
        recalc_file(book)
    assert book.read_bytes() == before
