"""The Python API (:mod:`xl_aiindex.api`): one library call per command, each checked on the
shipped workbooks against values known independently of the code: the published 2020 table
(tests/data/published_scores_2020.csv), the published weights of the five dimensions, and the
tree of tests/data/framework.csv."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import DATA, REPO

from xl_aiindex import api
from xl_aiindex.errors import (
    Problem,
    ProblemsFound,
    UnknownName,
    UnreadableWorkbook,
    UnsafeWrite,
    WorkbookBusy,
    XlAiIndexError,
)

BOOK = REPO / "workbooks" / "city_ai_index_2020.xlsx"
DATA_BOOK = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"
#: The five dimensions' weights as the 2020 report publishes them.
WEIGHTS = {"environment": 0.15, "funding": 0.20, "rnd": 0.25, "infrastructure": 0.20,
           "outcomes": 0.20}
with open(DATA / "published_scores_2020.csv", encoding="utf-8") as fh:
    PUBLISHED = list(csv.DictReader(fh))
with open(DATA / "framework.csv", encoding="utf-8") as fh:
    FRAMEWORK = list(csv.DictReader(fh))


def published_total(row: dict[str, str]) -> float:
    """A city's index from its published sub-scores and the published weights."""
    return sum(w * float(row[d]) for d, w in WEIGHTS.items())


def row_of(city_en: str) -> dict[str, str]:
    return next(r for r in PUBLISHED if r["city_en"] == city_en)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A copy of the shipped workbook (commands that write never touch the repository)."""
    return Path(shutil.copy(BOOK, tmp_path / BOOK.name))


def test_beijing_is_what_the_published_sub_scores_and_weights_give():
    assert published_total(row_of("Beijing")) == pytest.approx(92.9285, abs=1e-9)


def test_recalc_returns_the_ranking_it_wrote(book, tmp_path):
    out = tmp_path / "out.xlsx"
    done = api.recalc(book, output=out, top=3)
    assert done.path == out and out.is_file()
    assert [r.unit for r in done.top] == ["beijing", "shanghai", "shenzhen"]
    for ranked, row in zip(done.top, PUBLISHED, strict=False):
        assert ranked.rank == int(row["rank"])
        assert ranked.name == row["city"]
        assert ranked.score == pytest.approx(published_total(row), abs=1e-9)
    assert done.top[0].score == pytest.approx(92.9285, abs=1e-4)
    assert done.units == len(PUBLISHED) and done.more == len(PUBLISHED) - 3
    assert done.sheets[0] == "Scores" and done.sheets[-1] == "Log" and "Ranking" in done.sheets
    ranking = openpyxl.load_workbook(out, read_only=True)["Ranking"]
    rows = list(ranking.iter_rows(min_row=2, max_row=2, values_only=True))
    assert rows[0][:2] == (1, "beijing")
    assert api.recalc(book, top=0).top == ()   # no table asked for: none built


def test_check_says_fresh_after_recalc_and_stale_after_an_edit(book):
    api.recalc(book, top=0)
    assert api.check(book).fresh
    wb = openpyxl.load_workbook(book)
    wb["Given"]["B2"] = 100   # Beijing's environment
    wb.save(book)
    state = api.check(book)
    assert not state.fresh
    assert any("inputs changed" in r for r in state.reasons)


def test_validate_counts_the_published_tree():
    done = api.validate(BOOK)
    indicators = {r["indicator_id"] for r in FRAMEWORK}
    inner = {r["level1_id"] for r in FRAMEWORK} | {r["level2_id"] for r in FRAMEWORK}
    assert done.units == len(PUBLISHED)
    assert done.indicators == len(indicators)
    assert done.nodes == 1 + len(inner) + len(indicators)
    assert done.input == "given"


def test_fit_weights_finds_the_published_weights():
    report = api.fit_weights(BOOK)
    assert report.node == "index" and report.target == "published"
    assert report.fit.weights.to_dict() == pytest.approx(WEIGHTS, abs=1e-3)
    assert report.fit.rmse < 0.005   # the published figures have two decimals


def test_new_workbook(tmp_path):
    tree = tmp_path / "tree.csv"
    tree.write_text("id,parent,name_zh,name_en,weight,direction\nidx,,指数,Index,,\n"
                    "a,idx,甲,A,0.5,\nb,idx,乙,B,0.5,\na1,a,甲一,A1,1,1\nb1,b,乙一,B1,0.5,1\n"
                    "b2,b,乙二,B2,0.5,-1\n", encoding="utf-8")
    units = tmp_path / "units.csv"
    units.write_text("id,name_zh,name_en\nu1,一,One\nu2,二,Two\nu3,三,Three\nu4,四,Four\n",
                     encoding="utf-8")
    out = tmp_path / "mine.xlsx"
    done = api.new_workbook(tree, units, out)
    assert (done.path, done.nodes, done.levels, done.indicators, done.units) == (out, 6, 3, 3, 4)
    assert "Framework" in openpyxl.load_workbook(out, read_only=True).sheetnames
    with pytest.raises(UnsafeWrite, match="exists"):
        api.new_workbook(tree, units, out)


def test_excel_writes_a_macro_enabled_workbook(book, tmp_path):
    done = api.excel(book)
    assert done.path == book.with_suffix(".xlsm") and done.problems == ()
    with zipfile.ZipFile(done.path) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    with pytest.raises(UnsafeWrite, match=r"must end in \.xlsm"):
        api.excel(book, output=tmp_path / "x.xlsx")


def test_uncertainty_runs_n_times_assumptions_plus_two(tmp_path):
    book = Path(shutil.copy(DATA_BOOK, tmp_path / DATA_BOOK.name))
    done = api.uncertainty(book, samples=8, budget=0)
    assumptions = len(done.sensitivity)
    assert assumptions == 3   # the Uncertainty sheet's rows
    assert done.samples == 8 and done.runs == 8 * (assumptions + 2)
    assert len(done.summary) == len(PUBLISHED)
    assert done.summary.iloc[0]["unit"] == "beijing" and done.summary.iloc[0]["nominal_rank"] == 1
    assert "UncertaintyResults" in openpyxl.load_workbook(book, read_only=True).sheetnames


def test_explain_beijing_from_the_published_table():
    done = api.explain(BOOK, "北京")
    s = done.standing
    assert (s.unit, s.label, s.rank, s.ranked) == ("beijing", "北京", 1, len(PUBLISHED))
    assert done.total == pytest.approx(92.9285, abs=1e-4)
    children = done.table[done.table["depth"] == 1]
    assert children["contribution"].sum() == pytest.approx(done.total, abs=1e-9)
    best = {d: max(float(r[d]) for r in PUBLISHED) for d in WEIGHTS}
    assert all(float(row_of("Beijing")[d]) == best[d] for d in WEIGHTS)   # first everywhere
    assert done.leads and done.loss is None and done.shallower == ""
    nanjing = api.explain(BOOK, "Nanjing")
    points = {d: w * (best[d] - float(row_of("Nanjing")[d])) for d, w in WEIGHTS.items()}
    worst = max(points, key=lambda d: points[d])
    assert nanjing.loss is not None and nanjing.loss.node == worst
    assert nanjing.loss.points == pytest.approx(points[worst], abs=1e-9)
    assert nanjing.loss.weight == WEIGHTS[worst] and not nanjing.leads
    with pytest.raises(UnknownName, match="Beijing"):
        api.explain(BOOK, "Beijng")


def test_audit_groups_follow_the_tree(tmp_path):
    done = api.audit(DATA_BOOK, write=False)
    assert done.path is None and done.units == len(PUBLISHED)
    root = next(g for g in done.groups if g.node == "index")
    assert root.children == len(WEIGHTS)
    assert list(root.rows["node"]) == list(WEIGHTS)
    for g in done.groups:
        assert len(g.rows) == g.children


def test_weights_compares_methods_on_the_root():
    done = api.weights(DATA_BOOK, node="index")
    (group,) = done.groups
    assert group.children == tuple(WEIGHTS) and group.current == "given"
    by_method = {m.method: m for m in group.methods}
    assert by_method["given"].weights.to_dict() == pytest.approx(WEIGHTS, abs=1e-12)
    assert by_method["equal"].weights.to_dict() == pytest.approx(
        dict.fromkeys(WEIGHTS, 1 / len(WEIGHTS)), abs=1e-12)
    assert by_method["given"].units_moved == 0
    assert json.loads(json.dumps(done.as_json()))["groups"][0]["node"] == "index"


def test_compare_differences_are_differences_of_published_scores():
    done = api.compare(BOOK, ["北京", "上海"])
    assert [(s.unit, s.rank) for s in done.standings] == [("beijing", 1), ("shanghai", 2)]
    beijing, shanghai = row_of("Beijing"), row_of("Shanghai")
    rows = {n.node: n for n in done.nodes}
    assert rows["index"].differences[0] == pytest.approx(
        published_total(beijing) - published_total(shanghai), abs=1e-9)
    for d in WEIGHTS:
        assert rows[d].scores == pytest.approx((float(beijing[d]), float(shanghai[d])))
        assert rows[d].differences[0] == pytest.approx(float(beijing[d]) - float(shanghai[d]))
    with pytest.raises(XlAiIndexError, match="at least two"):
        api.compare(BOOK, ["北京"])


def test_compare_editions_sees_one_changed_sub_score(book, tmp_path):
    wb = openpyxl.load_workbook(book)
    wb["Given"]["B2"] = 100   # Beijing's environment: 90.54 in the published table
    wb.save(book)
    out = tmp_path / "changes.xlsx"
    done = api.compare_editions(BOOK, book, output=out)
    assert done.path == out and done.sheet in openpyxl.load_workbook(out).sheetnames
    assert done.both == len(PUBLISHED) and len(done.entered) == len(done.left) == 0
    changes = done.table.set_index("unit")
    assert changes.at["beijing", "score_change"] == pytest.approx(
        WEIGHTS["environment"] * (100 - 90.54), abs=1e-9)
    assert changes.drop(index="beijing")["score_change"].abs().max() == pytest.approx(0)
    assert done.as_json()["children"] == list(WEIGHTS)


def test_report_writes_html(tmp_path):
    out = tmp_path / "report.html"
    done = api.report(BOOK, output=out)
    assert done.path == out and done.units == len(PUBLISHED) and done.sections > 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "北京" in page
    with pytest.raises(UnsafeWrite):
        api.report(BOOK, output=tmp_path / "report.txt")


def test_export_ranking_csv(tmp_path):
    done = api.export(BOOK, format="csv", out_dir=tmp_path / "out")
    assert done.units == len(PUBLISHED) and done.folder == tmp_path / "out"
    ranking = tmp_path / "out" / f"{BOOK.stem}_ranking.csv"
    assert ranking in done.files
    with open(ranking, encoding="utf-8-sig") as fh:
        first = next(csv.DictReader(fh))
    assert first["unit"] == "beijing"
    assert float(first["score"]) == pytest.approx(92.9285, abs=1e-4)


@pytest.mark.parametrize(("error", "kind", "code"), [
    (ProblemsFound([Problem("Data", "D5", problem="not a number")]), "problems", 1),
    (UnreadableWorkbook("b.xlsx", "not a zip"), "unreadable", 2),
    (UnsafeWrite("b.xlsx is open in Excel"), "unreadable", 2),
    (WorkbookBusy("b.xlsx", 1.0), "unreadable", 2),
    (UnknownName('unknown city "x"'), "unreadable", 2),
    (XlAiIndexError("fit-weights needs Given"), "failed", 1),
    (FileNotFoundError(2, "No such file", "b.xlsx"), "unreadable", 2),
    (ZeroDivisionError("internal"), "failed", 1),
])
def test_one_error_map(error, kind, code):
    assert api.error_kind(error) == kind
    assert api.exit_code(error) == code


def test_the_api_and_the_command_line_import_without_pandas():
    code = ("import sys, xl_aiindex, xl_aiindex.api, xl_aiindex.cli\n"
            "xl_aiindex.api.recalc\n"
            "print(sorted(m for m in ('pandas', 'numpy', 'openpyxl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_the_python_api_page_runs(tmp_path, monkeypatch):
    """Every ```python block of docs/python-api.md runs, in order, in a scratch folder with a
    copy of the shipped workbooks (the examples build on each other: out.xlsx, my_index.xlsx)."""
    import re

    page = (REPO / "docs" / "python-api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) >= 15
    shutil.copytree(REPO / "workbooks", tmp_path / "workbooks",
                    ignore=shutil.ignore_patterns("seed", "*.py"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/python-api.md", "exec"), namespace)
    assert (tmp_path / "report.html").is_file() and (tmp_path / "my_index.xlsm").is_file()
