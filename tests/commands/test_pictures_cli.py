"""The commands of the report's pictures: ``compare``, ``compare-editions``, ``report`` and
``export`` — exact output, files written, exit codes; the README shows the same output."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from conftest import SMALL, docs_text, run, write_book

from xl_aiindex.workbook.ooxml import splice_sheets
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

REPO = Path(__file__).resolve().parents[2]
GIVEN = REPO / "workbooks" / "city_ai_index_2020.xlsx"
README = docs_text()   # the README and docs/*.md


def _readme_block(command: str) -> str:
    """The output the README shows under ``$ xl-aiindex COMMAND …`` (up to the fence)."""
    m = re.search(r"```text\n\$ (xl-aiindex " + re.escape(command) + r"[^\n]*)\n(.*?)```",
                  README, re.S)
    assert m, f"README has no example of xl-aiindex {command}"
    return m.group(2)


def _sheets(**extra_settings):
    sheets = {k: [list(r) for r in v] for k, v in SMALL.items()}
    for k, v in extra_settings.items():
        sheets["Settings"].append([k, v])
    return sheets


# ---- compare ------------------------------------------------------------------------------

COMPARE_OUT = """\
workbooks/city_ai_index_2020.xlsx
北京 (beijing): rank 1 of 30, 第一梯队
上海 (shanghai): rank 2 of 30, 第一梯队

node            name                       北京  rank   上海  rank  北京−上海
environment     城市发展环境              90.54     1  88.37     2       2.17
funding         资金支持力度              92.68     1  82.56     3      10.12
rnd             研发能力                  90.91     1  86.46     2       4.45
infrastructure  基础支持情况              96.09     1  90.91     3       5.18
outcomes        发展成效                  94.33     1  87.23     3       7.10
index           中国城市人工智能发展指数  92.93     1  87.01     2       5.92
"""


def test_compare_two_cities_side_by_side(monkeypatch):
    monkeypatch.chdir(REPO)
    r = run("compare", "workbooks/city_ai_index_2020.xlsx", "北京", "上海")
    assert r.exit_code == 0, r.output
    # the report's appendix: 北京 90.54/92.68/90.91/96.09/94.33, 上海 88.37/82.56/86.46/90.91/87.23
    assert r.output == COMPARE_OUT
    assert _readme_block("compare") == COMPARE_OUT


def test_compare_three_units_in_english(small_book):
    r = run("compare", small_book, "Epsilon", "gamma", "甲")
    assert r.exit_code == 0, r.output
    # d1 = .5·x1 + .5·x2 (x2 reversed): e 100, c 50, a 0; totals 100, 42.5, 0 (test_cli)
    assert r.output.splitlines()[1:4] == ["Epsilon (e): rank 1 of 5, top",
                                          "Gamma (c): rank 3 of 5, middle",
                                          "甲 (a): rank 5 of 5, bottom"]
    lines = r.output.splitlines()[5:]
    assert lines[0].split() == ["node", "name", "Epsilon", "rank", "Gamma", "rank", "甲", "rank",
                                "Epsilon−Gamma", "Epsilon−甲"]
    # d1 ranks: e 1, c 3 (d has 75), a 5; the index: the Ranking's 1, 3, 5
    assert lines[1].split()[-8:] == ["100.00", "1", "50.00", "3", "0.00", "5", "50.00", "100.00"]
    assert lines[3].split()[-8:] == ["100.00", "1", "42.50", "3", "0.00", "5", "57.50",
                                     "100.00"]


def test_compare_unknown_unit_and_single_unit(small_book):
    r = run("compare", small_book, "Epsilom", "甲")
    assert r.exit_code == 2
    assert r.output == 'Error: unknown city "Epsilom" — did you mean Epsilon?\n'
    r = run("compare", small_book, "甲")
    assert r.exit_code == 2
    assert "name at least two units to compare" in r.output


# ---- compare-editions ---------------------------------------------------------------------

def _editions(tmp_path: Path) -> tuple[Path, Path]:
    old = write_book(tmp_path / "old.xlsx", _sheets())
    new = _sheets()
    # b's x1 from 20 to 45; a leaves, f enters with a's old values (so min/max stay); tiers
    # rank:2,3 instead of rank:2,4
    new["Data"][2][1] = 45
    new["Data"] = [r for r in new["Data"] if r[0] != "a"] + [["f", 10, 5, 1, 100]]
    new["Units"] = [r for r in new["Units"] if r[0] != "a"] + [["f", "己", "Zeta", "north", 60]]
    new["Settings"] = [r if r[0] != "tiers" else ["tiers", "rank:2,3"] for r in new["Settings"]]
    return old, write_book(tmp_path / "new.xlsx", new)


def test_compare_editions_table_and_changes_sheet(tmp_path):
    old, new = _editions(tmp_path)
    r = run("compare-editions", old, new)
    assert r.exit_code == 0, r.output
    # by hand: b's x1 → (45−10)/40 = 87.5, d1 = (87.5 + 25)/2 = 56.25 (+31.25), total
    # .6·56.25 + .4·43.75 = 51.25 (+18.75): b passes c (42.5); c falls to rank 4 = bottom
    assert r.output == (
        "Warning: scores of the two editions are on different scales; changes in score partly "
        "reflect the other units (each edition is normalised against its own units: minmax); "
        "use --common-scale to normalise both editions' data together\n"
        f"{old} → {new}: 4 units in both, 1 entered, 1 left\n"
        f"Wrote Changes to {new}\n"
        "\n"
        "rank  change  unit  name   score  change  tier move         Δd1   Δd2\n"
        "   1       0  e     戊    100.00    0.00                   0.00  0.00\n"
        "   2       0  d     丁     75.00    0.00                   0.00  0.00\n"
        "   3      +1  b     乙     51.25  +18.75                 +31.25  0.00\n"
        "   4      -1  c     丙     42.50    0.00  middle→bottom    0.00  0.00\n"
        "   5     new  f     己      0.00\n"
        "Entered: 己 (f, rank 5)\n"
        "Left: 甲 (a, was rank 5)\n")
    book = openpyxl.load_workbook(new, read_only=True)
    rows = list(book["Changes"].iter_rows(values_only=True))
    assert rows[0][:14] == ("unit", "name_zh", "name_en", "status", "rank_old", "rank_new",
                            "rank_change", "score_old", "score_new", "score_change", "tier_old",
                            "tier_new", "tier_change", "tier_move")
    by_unit = {r[0]: dict(zip(rows[0], r, strict=False)) for r in rows[1:]}
    assert by_unit["b"]["score_change"] == pytest.approx(18.75)
    assert by_unit["b"]["d1_score_change"] == pytest.approx(31.25)
    assert by_unit["c"]["tier_change"] == -1
    assert by_unit["a"]["status"] == "left" and by_unit["f"]["status"] == "entered"


def test_compare_editions_json(tmp_path):
    old, new = _editions(tmp_path)
    before = new.read_bytes()
    r = run("compare-editions", old, new, "--json", "--no-write")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert new.read_bytes() == before
    assert doc["children"] == ["d1", "d2"]
    units = {u["unit"]: u for u in doc["units"]}
    assert [u["unit"] for u in doc["units"]] == ["e", "d", "b", "c", "f", "a"]
    assert units["b"]["rank_change"] == 1 and units["b"]["d1_rank_change"] == 1
    assert units["b"]["score_new"] == pytest.approx(51.25)
    assert units["c"]["tier_move"] == "middle→bottom"
    assert units["a"]["rank_new"] is None and units["a"]["rank_old"] == 5


# ---- export -------------------------------------------------------------------------------

def test_export_csv(small_book, tmp_path):
    out = tmp_path / "csv"
    r = run("export", small_book, "--format", "csv", "--out-dir", out)
    assert r.exit_code == 0, r.output
    assert r.output == (f"Exported 5 units of {small_book} to {out}:\n  small_ranking.csv\n"
                        "  small_scores.csv\n  small_tiers.csv\n  small_weights.csv\n"
                        "  small_framework.csv\n")
    raw = (out / "small_ranking.csv").read_bytes()
    # UTF-8 with a byte-order mark: Excel (a Chinese one too) opens it as UTF-8
    assert raw.startswith(b"\xef\xbb\xbfrank,unit,")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["rank", "unit", "name_zh", "name_en", "score", "tier", "d1", "d2"]
    assert rows[3] == ["3", "c", "丙", "Gamma", "42.5", "middle", "50", "31.25"]
    weights = list(csv.reader((out / "small_weights.csv").read_text(encoding="utf-8-sig")
                              .splitlines()))
    assert weights[1] == ["index", "d1", "维度一", "Dimension 1", "given", "0.6", "0.6"]


@pytest.mark.parametrize(("encoding", "head"), [
    ("utf-8", b"rank,unit,name_zh"),
    ("gb18030", "rank,unit,name_zh".encode("gb18030")),
    ("GBK", "rank,unit,name_zh".encode("gbk"))])
def test_export_csv_encoding(small_book, tmp_path, encoding, head):
    out = tmp_path / "csv"
    r = run("export", small_book, "--format", "csv", "--out-dir", out, "--encoding", encoding)
    assert r.exit_code == 0, r.output
    raw = (out / "small_ranking.csv").read_bytes()
    assert raw.startswith(head)
    rows = list(csv.reader(raw.decode(encoding.lower()).splitlines()))
    assert rows[3][:4] == ["3", "c", "丙", "Gamma"]


def test_export_csv_encoding_only_for_csv(small_book, tmp_path):
    r = run("export", small_book, "--format", "json", "--out-dir", tmp_path, "--encoding", "gbk")
    assert r.exit_code == 2
    assert "--encoding applies to --format csv only (JSON is UTF-8)" in r.output
    assert not list(tmp_path.glob("*.json"))


def test_export_csv_character_the_encoding_cannot_hold(tmp_path):
    sheets = _sheets()
    sheets["Units"][1][1] = "甲😀"
    book = write_book(tmp_path / "s.xlsx", sheets)
    r = run("export", book, "--format", "csv", "--out-dir", tmp_path / "o", "--encoding", "gbk")
    assert r.exit_code == 2
    assert r.stderr == (f"Error: {tmp_path / 'o' / 's_ranking.csv'}: line 6: the character "
                        "'😀' cannot be written in gbk; export with --encoding utf-8-sig\n")
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_export_two_workbooks_into_one_folder(small_book, tmp_path):
    other = write_book(tmp_path / "other.xlsx", _sheets())
    out = tmp_path / "both"
    assert run("export", small_book, "--format", "csv", "--out-dir", out).exit_code == 0
    before = (out / "small_ranking.csv").read_bytes()
    assert run("export", other, "--format", "csv", "--out-dir", out).exit_code == 0
    assert (out / "small_ranking.csv").read_bytes() == before
    assert (out / "other_ranking.csv").read_bytes() == before
    # the same workbook again: refused, every file kept, unless --force
    (out / "small_tiers.csv").write_text("mine", encoding="utf-8")
    r = run("export", small_book, "--format", "csv", "--out-dir", out)
    assert r.exit_code == 2
    assert r.stderr == (f"Error: {out / 'small_ranking.csv'}: exists; use --force to overwrite "
                        "it, or write to another folder; nothing was written\n")
    assert (out / "small_tiers.csv").read_text(encoding="utf-8") == "mine"
    r = run("export", small_book, "--format", "csv", "--out-dir", out, "--force")
    assert r.exit_code == 0, r.output
    assert (out / "small_tiers.csv").read_bytes().startswith(b"\xef\xbb\xbftier,")


def test_export_json_has_numbers_and_both_names(tmp_path):
    book = write_book(tmp_path / "s.xlsx", _sheets(compare="甲/戊"))
    r = run("export", book, "--format", "json", "--out-dir", tmp_path / "j")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "j" / "s.json").read_text(encoding="utf-8"))
    assert doc["index"]["name_en"] == "Small test index"
    ranking = doc["tables"]["ranking"]
    assert ranking[2] == {"rank": 3, "unit": "c", "name_zh": "丙", "name_en": "Gamma",
                          "score": 42.5, "tier": "middle", "d1": 50, "d2": 31.25}
    compare = doc["tables"]["compare"]
    assert [(c["node"], c["score_a"], c["score_b"], c["diff"]) for c in compare] == [
        ("d1", 0, 100, -100), ("d2", 0, 100, -100), ("index", 0, 100, -100)]


# ---- report -------------------------------------------------------------------------------

class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.svgs = 0
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "svg":
            self.svgs += 1
        for k in ("src", "href", "xlink:href", "action", "data"):
            if attrs.get(k):
                self.urls.append(attrs[k])


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_report_has_every_section_and_no_external_url(tmp_path):
    out = tmp_path / "report.html"
    r = run("report", GIVEN, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.output == f"Wrote {out}: 6 sections, 10 charts, 30 units\n"
    page = _page(out)
    assert page.sections == ["summary", "ranking", "charts", "compare", "weights", "methodology"]
    assert page.svgs == 10          # TOP 15 of the total and of the 5 dimensions, 4 pairs
    assert page.urls == [] and not ({"script", "link", "img", "iframe"} & page.tags)
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"(?i)\b(?:https?|ftp):|url\(|@import", text)
    assert "@media print" in text
    for expected in ("中国城市人工智能发展指数 TOP 15", "北京 / 上海", "第一梯队",
                     "Σ wᵢ·sᵢ", "Methodology annex", "0.2500"):
        assert expected in text


def test_report_shows_uncertainty_and_audit_when_present(tmp_path):
    book = write_book(tmp_path / "s.xlsx", _sheets())
    header = ["unit", "name_zh", "name_en", "nominal_rank", "median_rank", "rank_q05",
              "rank_q95", "mean_abs_shift"]
    results = [[Cell(h) for h in header],
               *[[Cell(v) for v in row] for row in (["e", "戊", "Epsilon", 1, 1, 1, 2, 0.3],
                                                    ["d", "丁", "Delta", 2, 2, 1, 3, 0.5])]]
    audit = [[Cell("check"), Cell("result")], [Cell("weights sum to 1"), Cell("ok-7731")]]
    splice_sheets(book, book, [SheetSpec("UncertaintyResults", results),
                               SheetSpec("Audit", audit)])
    out = tmp_path / "r.html"
    r = run("report", book, "-o", out)
    assert r.exit_code == 0, r.output
    page = _page(out)
    assert page.sections == ["summary", "ranking", "charts", "compare", "weights",
                             "uncertainty", "audit", "methodology"]
    text = out.read_text(encoding="utf-8")
    assert "ok-7731" in text and "Rank intervals" in text
    # data mode: the normalisation formula with the book's range
    assert "low + (high − low)·(x − min)/(max − min), range 0–100" in text


def _browser() -> str | None:
    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                None)


@pytest.mark.skipif(_browser() is None or shutil.which("pdftotext") is None,
                    reason="no headless browser (chromium) or pdftotext: the report's print "
                           "rendering is not checked")
def test_report_prints_to_pdf_in_a_headless_browser(tmp_path):
    out = tmp_path / "report.html"
    assert run("report", GIVEN, "-o", out).exit_code == 0
    pdf = tmp_path / "report.pdf"
    subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", out.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("排名与梯队", "中国城市人工智能发展指数 TOP 15", "北京", "Methodology annex"):
        assert expected in text


def test_readme_examples_are_real_output(tmp_path, monkeypatch):
    (tmp_path / "workbooks").mkdir()
    for name in ("city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx"):
        shutil.copyfile(REPO / "workbooks" / name, tmp_path / "workbooks" / name)
    monkeypatch.chdir(tmp_path)
    for command in ("compare-editions", "report", "export"):
        m = re.search(r"```text\n\$ xl-aiindex (" + re.escape(command) + r" [^\n]*)\n(.*?)```",
                      README, re.S)
        assert m, command
        r = run(*m.group(1).split())
        assert r.exit_code == 0, r.output
        assert r.output == m.group(2), command
