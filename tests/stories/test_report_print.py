"""The report as a reader sees it, rendered by headless Chromium (Debian's ``chromium``, which
``.ci/run`` installs): on an A4 page no table or figure is wider than the text column, nothing
is cut off in the printed PDF, and the PDF has every section.

Two reports: the illustrative data workbook with its Audit, UncertaintyResults and Sensitivity
sheets (the widest tables), and a Chinese 31-province workbook (long names such as
新疆维吾尔自治区, four long-named dimensions, a lower-is-better indicator, imputed values).

Widths are measured in the browser itself: the page is loaded with its print style sheet
applied to the screen (``@media print`` → ``@media all``) in a window as wide as A4's text
column (210 mm − 2 × 12 mm = 186 mm = 703 CSS px), and a script records every table's and
figure's right edge (``--dump-dom``). The PDF is then printed by ``report -o report.pdf`` and
read back with ``pdftotext``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import run, write_book

from xl_aiindex.workbook.report_pdf import BROWSERS

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"
BROWSER = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
#: A4's text column in CSS pixels (the report's @page margins are 12 mm left and right).
A4_TEXT_PX = round((210 - 2 * 12) / 25.4 * 96)

pytestmark = pytest.mark.skipif(
    BROWSER is None or shutil.which("pdftotext") is None,
    reason="no headless Chromium or pdftotext: .ci/run installs chromium and poppler-utils")

PROVINCES = [
    ("beijing", "北京市", "Beijing"), ("tianjin", "天津市", "Tianjin"),
    ("hebei", "河北省", "Hebei"), ("shanxi", "山西省", "Shanxi"),
    ("neimenggu", "内蒙古自治区", "Inner Mongolia"), ("liaoning", "辽宁省", "Liaoning"),
    ("jilin", "吉林省", "Jilin"), ("heilongjiang", "黑龙江省", "Heilongjiang"),
    ("shanghai", "上海市", "Shanghai"), ("jiangsu", "江苏省", "Jiangsu"),
    ("zhejiang", "浙江省", "Zhejiang"), ("anhui", "安徽省", "Anhui"),
    ("fujian", "福建省", "Fujian"), ("jiangxi", "江西省", "Jiangxi"),
    ("shandong", "山东省", "Shandong"), ("henan", "河南省", "Henan"),
    ("hubei", "湖北省", "Hubei"), ("hunan", "湖南省", "Hunan"),
    ("guangdong", "广东省", "Guangdong"), ("guangxi", "广西壮族自治区", "Guangxi"),
    ("hainan", "海南省", "Hainan"), ("chongqing", "重庆市", "Chongqing"),
    ("sichuan", "四川省", "Sichuan"), ("guizhou", "贵州省", "Guizhou"),
    ("yunnan", "云南省", "Yunnan"), ("xizang", "西藏自治区", "Tibet"),
    ("shaanxi", "陕西省", "Shaanxi"), ("gansu", "甘肃省", "Gansu"),
    ("qinghai", "青海省", "Qinghai"), ("ningxia", "宁夏回族自治区", "Ningxia"),
    ("xinjiang", "新疆维吾尔自治区", "Xinjiang"),
]
DIMENSIONS = [
    ("infra", "数字基础设施建设水平", "Digital infrastructure development level"),
    ("industry", "数字产业化与产业数字化", "Digital industries and industrial digitalisation"),
    ("talent", "数字人才与创新能力", "Digital talent and innovation capacity"),
    ("governance", "数字治理与公共服务", "Digital governance and public services"),
]


def province_book(path: Path) -> Path:
    """The 31-province workbook: 4 dimensions × 3 indicators (one lower is better, skewed
    values), 3 values missing (imputed by the mean), compared pairs of long names and an
    Uncertainty sheet."""
    rng = np.random.default_rng(31)
    framework = [["id", "parent", "name_zh", "name_en", "weight", "direction", "unit", "source"],
                 ["index", None, "中国省级数字经济发展指数", "China Provincial Digital Economy "
                  "Index", None, None, None, None]]
    indicators = []
    for d, (dim, zh, en) in enumerate(DIMENSIONS):
        framework.append([dim, "index", zh, en, 0.25, None, None, None])
        for k in range(3):
            ind = f"P{d * 3 + k + 1:02d}"
            indicators.append(ind)
            framework.append([ind, dim, f"{zh}指标{k + 1}", f"{en}, indicator {k + 1}", 1 / 3,
                              -1 if ind == "P05" else 1, "万元/人", "国家统计局《中国统计年鉴"
                              "2023》及各省统计公报 National Bureau of Statistics yearbook"])
    data = [["unit", *indicators]]
    for i, (pid, _zh, _en) in enumerate(PROVINCES):
        row = [pid, *[round(float(rng.lognormal(3, 1)), 2) for _ in indicators]]
        if i in (4, 19, 30):   # Inner Mongolia, Guangxi, Xinjiang: one value missing each
            row[1 + i % len(indicators)] = None
        data.append(row)
    sheets = {
        "Settings": [["key", "value"], ["name_zh", "中国省级数字经济发展指数 2023"],
                     ["name_en", "China Provincial Digital Economy Index 2023"],
                     ["input", "data"], ["normalisation", "minmax"], ["minmax_range", "0,100"],
                     ["aggregation", "arithmetic"], ["weights", "strict"],
                     ["tiers", "rank:10,20"], ["tier_labels", "第一梯队;第二梯队;第三梯队"],
                     ["missing", "mean"], ["outliers", "none"], ["chart_top", 15],
                     ["compare", "新疆维吾尔自治区/内蒙古自治区;广西壮族自治区/宁夏回族自治区"],
                     ["unit_label", "省份"]],
        "Framework": framework,
        "Units": [["id", "name_zh", "name_en"], *[list(p) for p in PROVINCES]],
        "Data": data,
        "Uncertainty": [["assumption", "how", "values"], ["weights", "uniform", 0.25],
                        ["normalisation", "choice", "minmax;zscore"],
                        ["indicators", "leave_one_out", None]],
    }
    return write_book(path, sheets)


def _analysed(book: Path) -> Path:
    assert run("audit", book, "-o", book).exit_code == 0
    r = run("uncertainty", book, "--samples", "64", "--budget", "0")
    assert r.exit_code == 0, r.output
    return book


@pytest.fixture(scope="module", params=["data", "provinces"])
def book(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "data":
        path = folder / "data.xlsx"
        shutil.copyfile(DATA, path)
    else:
        path = province_book(folder / "provinces.xlsx")
    return _analysed(path)


_MEASURE = """<script>
window.addEventListener('load', () => {
  const items = [];
  document.querySelectorAll('table, figure, svg, h1, h2, p, ul').forEach((el) => {
    const r = el.getBoundingClientRect();
    const th = el.tagName === 'TABLE' ? el.querySelector('thead tr') : null;
    items.push({tag: el.tagName, right: r.right, left: r.left, scroll: el.scrollWidth,
                client: el.clientWidth, head: th ? th.lastElementChild.textContent : ''});
  });
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify({width: document.documentElement.clientWidth,
                                    scroll: document.documentElement.scrollWidth, items});
  document.body.appendChild(pre);
});
</script>"""


def measure_print_layout(page: str, folder: Path) -> dict:
    """Every block's box in the page's print layout on A4 (see the module's docstring)."""
    assert "@media print" in page
    probe = folder / "probe.html"
    probe.write_text(page.replace("@media print", "@media all")
                     .replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={folder / 'profile'}", f"--window-size={A4_TEXT_PX},2000",
         "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=180, check=False)
    m = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert m, done.stderr[-2000:]
    return json.loads(html.unescape(m.group(1)))


def test_no_table_or_figure_is_wider_than_an_a4_page(book, tmp_path):
    out = tmp_path / "report.html"
    r = run("report", book, "-o", out)
    assert r.exit_code == 0, r.output
    layout = measure_print_layout(out.read_text(encoding="utf-8"), tmp_path)
    assert layout["width"] == A4_TEXT_PX
    too_wide = [(i["tag"], i["head"], round(i["right"])) for i in layout["items"]
                if i["right"] > A4_TEXT_PX + 0.5 or i["scroll"] > i["client"] + 1]
    assert too_wide == []
    assert len([i for i in layout["items"] if i["tag"] == "TABLE"]) >= 10
    assert layout["scroll"] <= A4_TEXT_PX


def _pdf_text(pdf: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_printed_pdf_has_every_section_and_nothing_cut_off(book, tmp_path):
    page_out, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    assert run("report", book, "-o", page_out).exit_code == 0
    r = run("report", book, "-o", pdf)
    assert r.exit_code == 0, r.output
    text = _pdf_text(pdf)
    words = set(text.split())
    for heading in ("排名与梯队", "Ranking and tiers", "Comparisons", "Weights in use",
                    "Uncertainty and sensitivity", "Sobol sensitivity indices",
                    "Indicator statistics", "Structure and correlations", "Methodology annex",
                    "Indicators where lower is better", "Missing values", "Outlier treatment",
                    "Uncertainty analysis set-up", "Methods used and their formulas"):
        assert all(w in words for w in heading.split()), heading
    # the last column of every table made it onto the page (a cut table loses its right end)
    heads = re.findall(r"<thead><tr>(.*?)</tr></thead>", page_out.read_text(encoding="utf-8"))
    for head in heads:
        last = re.findall(r"<th[^>]*>(.*?)</th>", head)[-1]
        english = re.search(r'<span class="en">(.*?)</span>', last)
        label = html.unescape(english.group(1) if english else re.sub("<[^>]+>", "", last))
        assert all(w in words for w in label.split()), label
    # and no word lies beyond the right margin
    boxes = _pdf_text(pdf, "-bbox")
    width = float(re.search(r'<page width="([\d.]+)"', boxes).group(1))
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes))
    assert right <= width - 12 / 25.4 * 72 + 1


def test_province_report_names_provinces_whole(tmp_path):
    book = province_book(tmp_path / "p.xlsx")
    out = tmp_path / "r.html"
    r = run("report", book, "-o", out)
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    # long names sit whole in one cell, and the compared pairs' tables are headed by them
    assert '<td class="nw">新疆维吾尔自治区</td>' in page
    assert "新疆维吾尔自治区 得分" in page and "Xinjiang score" in page
    assert "逆向 lower is better" in page and "3 个缺失值 missing values" in page
