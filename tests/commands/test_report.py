"""``xl-aiindex report``: column headers are names, numbers are written by what they mean, the
methodology annex lists what the engine did (checked against the workbook's own cells and the
engine's notes), no command-line advice in the page, and ``-o report.pdf`` is a real PDF or a
refusal naming what to install."""

from __future__ import annotations

import os
import re
import shutil
import stat
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from conftest import SMALL, run, write_book

from xl_aiindex.workbook import report_pdf
from xl_aiindex.workbook.io import compute, load_workbook
from xl_aiindex.workbook.ooxml import splice_sheets
from xl_aiindex.workbook.report_annex import (
    indicators_table,
    lower_is_better,
    missing_values_table,
    nodes_table,
    treated_outliers_table,
)
from xl_aiindex.workbook.report_table import (
    Column,
    column_em,
    column_groups,
    format_value,
    html_tables,
    text_em,
    unit_word,
)
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

REPO = Path(__file__).resolve().parents[2]
GIVEN = REPO / "workbooks" / "city_ai_index_2020.xlsx"
DATA = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"


class _Tables(HTMLParser):
    """Every table of a page: per table its header cells' text and its rows' cell texts, and
    the section each table is in."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.section = ""
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs).get("id", "")
        elif tag == "table":
            self.tables.append({"section": self.section, "head": [], "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            t = self.tables[-1]
            if not t["head"]:
                t["head"] = self._row
            else:
                t["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        self.text.append(data)


def _parse(path: Path) -> _Tables:
    page = _Tables()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _column(table: dict, header_start: str) -> list[str]:
    i = next(i for i, h in enumerate(table["head"]) if h.startswith(header_start))
    return [row[i] for row in table["rows"]]


# ---- numbers and names ------------------------------------------------------------------------

@pytest.mark.parametrize("value,kind,text", [
    (1.0, "int", "1"), (1000.0, "int", "1,000"), (31.0, "int", "31"), (2.5, "int", "2.50"),
    (0.97, "pct", "97%"), (1.0, "pct", "100%"), (0.9995, "pct", ">99.9%"), (0.0004, "pct", "<0.1%"),
    (0.625, "pct", "62.5%"), (0.0625, "fine", "0.0625"), (1 / 3, "weight", "0.333"),
    (92.9285, "score", "92.93"), (-0.001, "score", "0.00"), (200000.0, "num", "200,000.00"),
    (True, "yesno", "是 yes"), (False, "yesno", "否 no"), ("FALSE", "yesno", "否 no"),
    (None, "yesno", ""), (float("nan"), "int", ""), (float("inf"), "score", ""),
    ("n/a", "score", "n/a"),
])
def test_values_are_written_by_what_they_mean(value, kind, text):
    assert format_value(value, kind) == text


def test_a_wide_table_is_split_into_groups_that_fit_the_page_each_with_the_key_columns():
    # 3 key columns of 10 em and 8 columns of 10 em on a 60 em page: 3 per group after the keys
    groups = column_groups([10.0] * 11, keys=3, budget=60.0)
    assert groups == [[0, 1, 2, 3, 4, 5], [0, 1, 2, 6, 7, 8], [0, 1, 2, 9, 10]]
    assert column_groups([5.0, 5.0], keys=1, budget=60.0) == [[0, 1]]
    table = pd.DataFrame({f"c{i}": [123456.789] for i in range(12)})
    page = html_tables(table, [Column(f"c{i}", f"列{i}", f"Column {i}", "num") for i in range(12)])
    assert page.count("<table>") >= 2 and page.count("续表 (continued)") == page.count("<table>") - 1
    assert page.count("列0") == page.count("<table>")   # the key column heads every group


def test_width_estimates_count_cjk_characters_double():
    assert text_em("新疆维吾尔自治区") == pytest.approx(8.0)
    assert text_em("beijing") == pytest.approx(7 * 0.55)
    # a long text wraps at spaces: its longest word counts; a short name stays on one line
    assert column_em(Column("n", "名称", "Name"), ["a very long sentence indeed"]) < \
        column_em(Column("n", "名称", "Name"), ["verylongsentenceindeed"])


def test_the_unit_word_comes_from_settings_unit_label_else_a_neutral_word(tmp_path):
    assert unit_word(SimpleNamespace(unit_label="省份")) == "省份"
    assert unit_word(SimpleNamespace(unit_label="")) == "单位"
    assert unit_word(SimpleNamespace()) == "单位"
    # the page's headings take it from there
    out = tmp_path / "r.html"
    assert run("report", GIVEN, "-o", out).exit_code == 0
    word = unit_word(compute(load_workbook(GIVEN)).model.settings)
    text = out.read_text(encoding="utf-8")
    assert f"<h2>{word}对比 " in text and f"30 个{word} units ranked" in text


def test_headers_are_names_not_ids_and_ranks_are_integers(tmp_path):
    out = tmp_path / "report.html"
    assert run("report", GIVEN, "-o", out).exit_code == 0
    page = _parse(out)
    heads = [h for t in page.tables for h in t["head"]]
    framework = {r[0]: (r[2], r[3]) for r in openpyxl.load_workbook(GIVEN)["Framework"]
                 .iter_rows(min_row=2, values_only=True) if r[0]}
    for ident in ("environment", "funding", "rnd", "infrastructure", "outcomes", "score_a",
                  "rank_a", "weight_in_total", "name_zh", "unit_b", "pair"):
        assert ident not in heads
    ranking = next(t for t in page.tables if t["section"] == "ranking")
    zh, en = framework["environment"]
    assert f"{zh}{en}" in ranking["head"] or f"{zh} {en}" in ranking["head"]
    assert _column(ranking, "排名") == [str(i) for i in range(1, 31)]
    assert _column(ranking, "总分")[0] == "92.93"          # the Ranking sheet holds 92.9285
    # each compared pair: a table headed by the two cities' names
    compare = [t for t in page.tables if t["section"] == "compare"]
    assert len(compare) == 4 and any(h.startswith("北京 得分") for h in compare[0]["head"])
    assert _column(compare[0], "北京 排名") == ["1"] * 6


def _with_results(tmp_path: Path) -> Path:
    """The data workbook with UncertaintyResults, Sensitivity (N = 64: intervals too wide)
    and Audit sheets as the commands write them."""
    book = tmp_path / "d.xlsx"
    shutil.copyfile(DATA, book)
    assert run("audit", book, "-o", book).exit_code == 0
    r = run("uncertainty", book, "--samples", "64", "--budget", "0")
    assert r.exit_code == 0, r.output
    return book


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> Path:
    return _with_results(tmp_path_factory.mktemp("analysed"))


def test_uncertainty_and_audit_tables_read_as_numbers_of_their_kind(analysed, tmp_path):
    out = tmp_path / "r.html"
    r = run("report", analysed, "-o", out)
    assert r.exit_code == 0, r.output
    page = _parse(out)
    sheet = pd.read_excel(analysed, sheet_name="UncertaintyResults", engine="openpyxl")
    unc = next(t for t in page.tables if t["section"] == "uncertainty")
    assert _column(unc, "名义排名") == [f"{v:.0f}" for v in sheet["nominal_rank"]]
    assert _column(unc, "排名 5% 分位") == [f"{v:.0f}" for v in sheet["rank_q05"]]
    same_tier = _column(unc, "保持梯队概率")
    assert all(re.fullmatch(r"[<>]?\d+(\.\d)?%", v) for v in same_tier), same_tier
    assert same_tier[0] == f"{sheet['p_nominal_tier'][0] * 100:.0f}%"
    assert set(_column(unc, "名义梯队")) <= {"第一梯队", "第二梯队", "第三梯队"}
    sens = next(t for t in page.tables if t["head"] and t["head"][0].startswith("假设"))
    assert _column(sens, "水平数") == ["1,000", "3", "21"]       # not 1000.000
    audit = [t for t in page.tables if t["section"] == "audit"]
    stats = audit[0]
    assert set(_column(stats, "样本数")) == {"30"}               # not 30.00
    assert set(_column(stats, "需处理异常值")) <= {"是 yes", "否 no"}
    assert all(h not in ("n", "depth", "needs_treatment", "r_parent") for t in audit
               for h in t["head"])


def test_no_command_line_advice_in_the_page_it_goes_to_the_terminal(analysed, tmp_path):
    out = tmp_path / "r.html"
    r = run("report", analysed, "-o", out)
    assert r.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "--samples" not in text and "raise" not in text and "xl-aiindex uncertainty" not in text
    assert "interval wider than 0.1" in text                   # said, without the advice
    assert "note: the report shows Sobol' indices whose 95 % interval is wider than 0.1" in r.output
    assert "--samples" in r.output


# ---- the methodology annex, against the workbook and the engine ---------------------------

def _framework(path: Path) -> list[dict]:
    ws = openpyxl.load_workbook(path, data_only=True)["Framework"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r[0]]


def _edited(tmp_path: Path, settings: dict, blanks: list[tuple[str, str]] = (),
            lower: tuple[str, ...] = ()) -> Path:
    """A copy of the data workbook with Settings values changed, Data cells (unit, indicator)
    blanked and indicators turned to lower is better."""
    book = openpyxl.load_workbook(DATA)
    ws = book["Settings"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value in settings:
            row[1].value = settings[row[0].value]
    data = book["Data"]
    cols = {c.value: c.column for c in data[1]}
    for row in data.iter_rows(min_row=2):
        for unit, ind in blanks:
            if row[0].value == unit:
                row[cols[ind] - 1].value = None
    fw = book["Framework"]
    head = {c.value: c.column for c in fw[1]}
    for row in fw.iter_rows(min_row=2):
        if row[0].value in lower:
            row[head["direction"] - 1].value = -1
    path = tmp_path / "edited.xlsx"
    book.save(path)
    return path


def test_annex_lists_lower_is_better_indicators_as_the_framework_says(tmp_path):
    book = _edited(tmp_path, {}, lower=("I02", "I13"))
    result = compute(load_workbook(book))
    expected = [r["id"] for r in _framework(book) if r["direction"] == -1]
    assert expected == ["I02", "I13"]
    assert [n.id for n in lower_is_better(result)] == expected
    ind = indicators_table(result).set_index("node")
    assert ind.at["I13", "direction"] == "逆向 lower is better"
    assert ind.at["I01", "normalisation"] == "efficacy a = 60, b = 40"
    out = tmp_path / "r.html"
    assert run("report", book, "-o", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    annex = text[text.index('id="methodology"'):]
    assert "Indicators where lower is better" in annex and "孵化器/众创空间数量" in annex


def test_annex_lists_each_imputed_value_as_many_as_the_engine_reports(tmp_path):
    blanks = [("beijing", "I01"), ("shanghai", "I01"), ("wuhan", "I07")]
    book = _edited(tmp_path, {"missing": "mean"}, blanks)
    result = compute(load_workbook(book))
    # the engine's notes say how many values it filled ("I01: 2 missing value(s) set to …")
    counted = sum(int(m.group(1)) for n in result.notes
                  for m in [re.search(r": (\d+) missing value\(s\) set to", n)] if m)
    table = missing_values_table(result)
    assert len(table) == counted == 3
    assert set(zip(table["unit"], table["indicator_id"], strict=True)) == set(blanks)
    # the value used is the mean of the other units' cells
    data = pd.read_excel(book, sheet_name="Data", engine="openpyxl").set_index("unit")
    row = table[(table["unit"] == "beijing")].iloc[0]
    assert row["value"] == pytest.approx(data["I01"].dropna().mean())
    assert row["handling"].startswith("其他单位的均值 mean of the other units")
    out = tmp_path / "r.html"
    r = run("report", book, "-o", out)
    assert r.exit_code == 0, r.output
    page = _parse(out)
    annex = [t for t in page.tables if t["section"] == "methodology"]
    missing = next(t for t in annex if any(h.startswith("填补值") for h in t["head"]))
    assert len(missing["rows"]) == 3
    assert _column(missing, "填补值")[0] == f"{data['I01'].dropna().mean():,.2f}"


def test_annex_lists_skipped_values_under_reweight(tmp_path):
    book = _edited(tmp_path, {"missing": "reweight"}, [("beijing", "I05")])
    result = compute(load_workbook(book))
    table = missing_values_table(result)
    assert list(table["unit"]) == ["beijing"] and table["value"].isna().all()
    assert table["handling"].iloc[0].startswith("跳过")


def test_annex_lists_the_indicators_treated_for_outliers(tmp_path):
    book = _edited(tmp_path, {"outliers": "skew_kurtosis"})
    result = compute(load_workbook(book))
    treated = treated_outliers_table(result)
    # independently: the rule treats a column with |skewness| >= 2 and kurtosis >= 3.5
    data = pd.read_excel(book, sheet_name="Data", engine="openpyxl").set_index("unit")
    leaves = [r["id"] for r in _framework(book) if r["id"].startswith("I")]
    expected = [c for c in leaves if abs(data[c].skew()) >= 2 and data[c].kurt() >= 3.5]
    assert expected and list(treated["indicator_id"]) == expected
    assert (treated["skew_after"].abs() < treated["skew_before"].abs()).all()


def test_annex_states_aggregation_and_weights_source_per_node():
    result = compute(load_workbook(DATA))
    nodes = nodes_table(result).set_index("node")
    inner = {r["parent"] for r in _framework(DATA) if r["parent"]}
    assert set(nodes.index) == inner
    assert set(nodes["aggregation"]) == {"arithmetic"} and set(nodes["weighting"]) == {"given"}
    assert nodes.at["index", "children"] == 5
    assert nodes.at["index", "weight_source"].startswith("Framework")


def test_annex_shows_the_uncertainty_set_up_of_the_workbook(analysed, tmp_path):
    out = tmp_path / "r.html"
    assert run("report", analysed, "-o", out).exit_code == 0
    page = _parse(out)
    setup = next(t for t in page.tables if t["section"] == "methodology"
                 and t["head"] and t["head"][0].startswith("假设"))
    sheet = pd.read_excel(analysed, sheet_name="Uncertainty", engine="openpyxl")
    assert _column(setup, "假设") == list(sheet["assumption"])
    text = out.read_text(encoding="utf-8")
    assert "N = 64, 320 次运行 runs" in text


# ---- PDF -------------------------------------------------------------------------------------

def test_a_pdf_without_a_printer_is_refused_naming_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(report_pdf, "find_printer", lambda: None)
    out = tmp_path / "report.pdf"
    r = run("report", GIVEN, "-o", out)
    assert r.exit_code == 2, r.output
    assert "cannot write a PDF: no PDF printer is installed; install Chromium" in r.output
    assert "apt-get install chromium" in r.output and "pip install weasyprint" in r.output
    assert not out.exists() and os.listdir(tmp_path) == []


def test_a_browser_that_fails_leaves_the_old_pdf(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'crashed: no display' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(report_pdf, "find_printer", lambda: ("chromium", str(fake)))
    out = tmp_path / "report.pdf"
    out.write_bytes(b"%PDF-1.4 the old report")
    r = run("report", GIVEN, "-o", out)
    assert r.exit_code == 2, r.output
    assert f"{out}: cannot write the PDF: {fake} printed nothing (exit 3: crashed: no display)" \
        in r.output
    assert out.read_bytes() == b"%PDF-1.4 the old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "report.pdf"]


def test_html_is_never_written_under_a_pdf_name(tmp_path, monkeypatch):
    # a "printer" that returns the page itself: refused, nothing written
    monkeypatch.setattr(report_pdf, "find_printer", lambda: ("weasyprint", ""))
    monkeypatch.setattr(report_pdf, "_weasyprint_pdf", lambda page: page.encode("utf-8"))
    out = tmp_path / "report.pdf"
    r = run("report", GIVEN, "-o", out)
    assert r.exit_code == 2 and "produced no PDF" in r.output
    assert not out.exists()


@pytest.mark.skipif(report_pdf.find_printer() is None,
                    reason="no Chromium or WeasyPrint: .ci/run installs chromium")
def test_report_pdf_is_a_real_pdf(tmp_path):
    out = tmp_path / "report.pdf"
    r = run("report", GIVEN, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Wrote {out}: 6 sections, 10 charts, 30 units")
    assert out.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


def test_report_refuses_other_names(tmp_path):
    book = write_book(tmp_path / "small.xlsx", {k: [list(r) for r in v] for k, v in SMALL.items()})
    r = run("report", book, "-o", tmp_path / "report.txt")
    assert r.exit_code == 2
    assert "name the output .html or .htm or .pdf; nothing was written" in r.output


def test_an_audit_sheet_of_another_layout_is_shown_whole(tmp_path):
    book = write_book(tmp_path / "s.xlsx", {k: [list(r) for r in v] for k, v in SMALL.items()})
    audit = [[Cell("check"), Cell("result")], [Cell("weights sum to 1"), Cell("ok-7731")]]
    splice_sheets(book, book, [SheetSpec("Audit", audit)])
    out = tmp_path / "r.html"
    assert run("report", book, "-o", out).exit_code == 0
    table = next(t for t in _parse(out).tables if t["section"] == "audit")
    assert table["head"] == ["check", "result"] and table["rows"] == [["weights sum to 1",
                                                                       "ok-7731"]]
