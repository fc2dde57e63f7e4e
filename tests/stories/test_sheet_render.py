"""Result sheets as a client sees them: rendered by LibreOffice, every shown number fits its
column (no ``###``) and no text is cut by a filled neighbour.

The shipped workbooks (the data one also audited, run through ``uncertainty`` and compared
with the given one, so Audit, UncertaintyResults, Sensitivity and Changes are there) and a 31-province Chinese workbook made with
``new`` (long names such as 新疆维吾尔自治区, raw values in the millions, a Compare pair, a
grouping column, an Uncertainty sheet) go through LibreOffice with a full recalculation. For
every result sheet, from LibreOffice's copy: the column widths (characters) and each cell's
text *as shown* (LibreOffice's CSV export applies the cell's number format). A cell's text is
measured in display columns (a CJK character takes 2, bold text 10 % more):

* a number's shown text is no wider than its column (else LibreOffice and Excel show ``###``);
* a text that does not wrap is no wider than its column when the cell to its right is filled
  (else it is cut); a wrapped text has no word wider than its column (a header such as
  ``first_order_high`` would be broken into "first_order_hig" / "h").

Skipped when soffice is not installed; ``.ci/run`` installs it.
"""

from __future__ import annotations

import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import set_settings
from lo_harness import recalculate, render_pngs, shown_texts
from openpyxl.utils import get_column_letter
from test_formulas import SHIPPED

from xl_aiindex.contract import TOOL_SHEETS
from xl_aiindex.workbook.audit_io import audit_file
from xl_aiindex.workbook.editions_io import compare_editions_file
from xl_aiindex.workbook.io import recalc_file
from xl_aiindex.workbook.new_book import new_workbook
from xl_aiindex.workbook.uncertainty_io import uncertainty_file

pytestmark = pytest.mark.libreoffice

#: The 31 provincial units of mainland China: id, Chinese and English name, region.
PROVINCES = (
    ("beijing", "北京市", "Beijing", "north"), ("tianjin", "天津市", "Tianjin", "north"),
    ("hebei", "河北省", "Hebei", "north"), ("shanxi", "山西省", "Shanxi", "north"),
    ("neimenggu", "内蒙古自治区", "Inner Mongolia", "north"),
    ("liaoning", "辽宁省", "Liaoning", "northeast"), ("jilin", "吉林省", "Jilin", "northeast"),
    ("heilongjiang", "黑龙江省", "Heilongjiang", "northeast"),
    ("shanghai", "上海市", "Shanghai", "east"), ("jiangsu", "江苏省", "Jiangsu", "east"),
    ("zhejiang", "浙江省", "Zhejiang", "east"), ("anhui", "安徽省", "Anhui", "east"),
    ("fujian", "福建省", "Fujian", "east"), ("jiangxi", "江西省", "Jiangxi", "east"),
    ("shandong", "山东省", "Shandong", "east"), ("henan", "河南省", "Henan", "central"),
    ("hubei", "湖北省", "Hubei", "central"), ("hunan", "湖南省", "Hunan", "central"),
    ("guangdong", "广东省", "Guangdong", "south"),
    ("guangxi", "广西壮族自治区", "Guangxi Zhuang Autonomous Region", "south"),
    ("hainan", "海南省", "Hainan", "south"), ("chongqing", "重庆市", "Chongqing", "southwest"),
    ("sichuan", "四川省", "Sichuan", "southwest"), ("guizhou", "贵州省", "Guizhou", "southwest"),
    ("yunnan", "云南省", "Yunnan", "southwest"), ("xizang", "西藏自治区", "Tibet", "southwest"),
    ("shaanxi", "陕西省", "Shaanxi", "northwest"), ("gansu", "甘肃省", "Gansu", "northwest"),
    ("qinghai", "青海省", "Qinghai", "northwest"),
    ("ningxia", "宁夏回族自治区", "Ningxia Hui Autonomous Region", "northwest"),
    ("xinjiang", "新疆维吾尔自治区", "Xinjiang Uygur Autonomous Region", "northwest"),
)

TREE = """id,parent,name_zh,name_en,weight,direction,source,note
ai,,省级人工智能发展指数,Provincial AI Development Index,,,,
talent,ai,人才与研发投入,Talent and R&D,0.5,,,
industry,ai,产业与应用规模,Industry and applications,0.5,,,
researchers,talent,人工智能研究人员数量,AI researchers,0.5,1,国家统计局《中国科技统计年鉴》2021 表 2-3 / NBS China Statistical Yearbook on Science and Technology,
spending,talent,研发经费内部支出,R&D spending,0.5,1,国家统计局,万元
firms,industry,人工智能企业数量,AI firms,0.5,1,,
output,industry,人工智能核心产业规模,AI core industry output,0.5,1,,万元
"""


def _province_book(folder: Path) -> Path:
    """A Chinese 31-province workbook: made by ``new``, its Data filled (values up to tens of
    millions), Settings given tier labels and a Compare pair of long names, an Uncertainty
    sheet added; then recalc, audit and uncertainty run on it."""
    tree, units = folder / "tree.csv", folder / "units.csv"
    tree.write_text(TREE, encoding="utf-8")
    units.write_text("id,name_zh,name_en,region\n" + "".join(
        f"{i},{zh},{en},{region}\n" for i, zh, en, region in PROVINCES), encoding="utf-8")
    book = folder / "provinces.xlsx"
    new_workbook(tree, units, book)
    rng = np.random.default_rng(31)
    scale = {"researchers": 5_000.0, "spending": 30_000_000.0, "firms": 800.0,
             "output": 9_000_000.0}
    wb = openpyxl.load_workbook(book)
    ws = wb["Data"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value is None:
            continue
        for col, top in scale.items():
            row[header.index(col)].value = round(float(rng.uniform(0.02, 1.0)) * top, 1)
    set_settings(wb, {"tier_labels": "第一梯队;第二梯队;第三梯队", "tiers": "rank:10,20",
                      "compare": "新疆维吾尔自治区/内蒙古自治区;广东省/广西壮族自治区"})
    unc = wb.create_sheet("Uncertainty")
    for row in (("assumption", "how", "values"), ("weights", "uniform", 0.25),
                ("normalisation", "choice", "minmax;zscore")):
        unc.append(row)
    wb.save(book)
    recalc_file(book)
    audit_file(book)
    uncertainty_file(book, samples=64)
    return book


@dataclass
class Rendered:
    """A workbook as LibreOffice recalculated it: its copy (widths, cell types and fonts) and
    what every cell shows."""

    path: Path
    copy: openpyxl.Workbook
    shown: dict[str, list[list[str]]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    folder = tmp_path_factory.mktemp("render")
    audited = folder / "shipped_data_audited.xlsx"
    shutil.copyfile(SHIPPED["data"], audited)
    audit_file(audited)
    uncertainty_file(audited, samples=64)
    compare_editions_file(SHIPPED["given"], audited)   # the Changes sheet
    formulas = folder / "shipped_data_formulas.xlsx"   # formula mode: Calc and CalcStats too
    recalc_file(SHIPPED["data"], formulas, output="formulas")
    books = {"shipped_given": SHIPPED["given"], "shipped_data": SHIPPED["data"],
             "shipped_data_audited": audited, "shipped_data_formulas": formulas,
             "provinces": _province_book(folder)}
    paths = list(books.values())
    copies = recalculate(paths, folder / "recalculated")
    texts = shown_texts(paths)
    return {name: Rendered(path, openpyxl.load_workbook(copy), shown)
            for (name, path), copy, shown in zip(books.items(), copies, texts, strict=True)}


def display_width(text: str) -> int:
    """Display columns of ``text``: 2 for a wide (CJK) character, else 1 (combining marks 0)."""
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _width(ws, col: int) -> float:
    dim = ws.column_dimensions.get(get_column_letter(col))
    if dim is not None and dim.width:
        return float(dim.width)
    # openpyxl keeps a <col> range under its first letter
    for d in ws.column_dimensions.values():
        if d.min and d.max and d.min <= col <= d.max and d.width:
            return float(d.width)
    return float(ws.sheet_format.defaultColWidth or 8.43)


def too_narrow(ws, shown: list[list[str]]) -> list[str]:
    """Cells of the LibreOffice copy's sheet ``ws`` whose shown text does not fit (the rules in
    this module's docstring), as ``A1: 'text' (width w > column c)``."""
    out = []
    for r, texts in enumerate(shown, start=1):
        for c, text in enumerate(texts, start=1):
            if not text:
                continue
            cell = ws.cell(r, c)
            bold = 1.1 if cell.font is not None and cell.font.b else 1.0
            column = _width(ws, c)
            where = f"{cell.coordinate}: {text!r}"
            if cell.data_type == "n" and cell.value is not None:
                need = display_width(text) * bold
                if need > column:
                    out.append(f"{where} (number {need:g} > column {column:g})")
            elif cell.alignment is not None and cell.alignment.wrap_text:
                for word in text.split():
                    need = display_width(word) * bold
                    if need > column:
                        out.append(f"{where} (word {word!r} {need:g} > column {column:g})")
            else:
                need = display_width(text) * bold
                right = texts[c] if c < len(texts) else ""
                if need > column and right:
                    out.append(f"{where} (text {need:g} > column {column:g}, cut by "
                               f"{right!r})")
    return out


#: Result sheets written by the tool (the store sheet is very hidden; Problems is checked too).
RESULT_SHEETS = [s for s in TOOL_SHEETS if not s.startswith("_")]


@pytest.mark.parametrize("name", ["shipped_given", "shipped_data", "shipped_data_audited",
                                  "shipped_data_formulas", "provinces"])
def test_every_result_cell_fits_its_column(rendered: dict[str, Rendered], name: str) -> None:
    book = rendered[name]
    sheets = [s for s in book.copy.sheetnames if s in RESULT_SHEETS]
    assert {"Scores", "Ranking", "Tiers", "WeightsUsed", "Log", "Charts"} <= set(sheets)
    if name in ("shipped_data_audited", "provinces"):
        assert {"Audit", "UncertaintyResults", "Sensitivity", "GroupRanking",
                "Compare"} <= set(sheets)
    if name == "shipped_data_audited":
        assert "Changes" in sheets
    if name == "shipped_data_formulas":
        assert {"Calc", "CalcStats"} <= set(sheets)
    bad = {s: too_narrow(book.copy[s], book.shown[s]) for s in sheets}
    assert {s: b[:5] for s, b in bad.items() if b} == {}


def test_the_province_workbook_shows_what_a_client_reads(rendered: dict[str, Rendered]) -> None:
    """Formats by meaning, as LibreOffice shows them: ranks whole, scores with 2 decimals (the
    Compare total row too), probabilities as %, weights with 3 decimals, Audit's yes/no in the
    workbook's language."""
    shown = rendered["provinces"].shown
    ranking = {row[1]: dict(zip(shown["Ranking"][0], row, strict=True))
               for row in shown["Ranking"][1:]}
    xinjiang = ranking["xinjiang"]
    assert xinjiang["rank"].isdigit() and xinjiang["name_zh"] == "新疆维吾尔自治区"
    assert len(xinjiang["score"].split(".")[1]) == 2
    compare = [dict(zip(shown["Compare"][0], row, strict=True)) for row in shown["Compare"][1:]]
    total = next(r for r in compare if r["node"] == "ai")
    assert len(total["score_a"].split(".")[1]) == 2 and len(total["diff"].split(".")[1]) == 2
    assert total["rank_a"].isdigit()
    weights = [dict(zip(shown["WeightsUsed"][0], row, strict=True))
               for row in shown["WeightsUsed"][1:]]
    assert {w["weight"] for w in weights} == {"0.500"}
    units = [dict(zip(shown["UncertaintyResults"][0], row, strict=True))
             for row in shown["UncertaintyResults"][1:]]
    assert all(u["p_nominal_tier"].endswith("%") for u in units)
    audit = [dict(zip(shown["Audit"][0], row, strict=True)) for row in shown["Audit"][1:]]
    assert {a["indicator"] for a in audit} == {"是", "否"} or \
        {a["indicator"] for a in audit} == {"yes", "no"}


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_render_the_province_ranking(rendered: dict[str, Rendered], tmp_path: Path) -> None:
    """The rendered Ranking page of the province workbook is a real picture (what was checked
    above is what is drawn)."""
    png = render_pngs(rendered["provinces"].path, ["Ranking"], tmp_path)["Ranking"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
