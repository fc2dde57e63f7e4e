"""The worksheet functions, called as Python through the headless book (no Excel)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import REPO, Sheets, write_book

import udfs
from udfs import (
    AI_FIT_WEIGHTS,
    AI_INDEX,
    AI_RANK,
    AI_RANKING,
    AI_SCORES,
    AI_SUBINDEX,
    AI_TIER,
    AI_WEIGHT,
    HeadlessBook,
    use_book,
)
from udfs.cache import CACHE
from xl_aiindex import pipeline
from xl_aiindex.workbook.io import compute, load_workbook
from xl_aiindex.workbook.results import ranking_table, scores_table

REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 10.0) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """An empty cache with a hand-moved clock for every test."""
    clock = Clock()
    CACHE.invalidate()
    monkeypatch.setattr(CACHE, "clock", clock)
    monkeypatch.setattr(CACHE, "reads", 0)
    monkeypatch.setattr(CACHE, "builds", 0)
    return clock


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls of ``pipeline.build_index``."""
    calls: list[int] = []
    real = pipeline.build_index

    def counting(model: Any) -> Any:
        calls.append(1)
        return real(model)

    monkeypatch.setattr(pipeline, "build_index", counting)
    return calls


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    """A copy of the reference workbook (input = given) that a test may edit."""
    return Path(shutil.copy(REFERENCE, tmp_path / "reference.xlsx"))


def edit(path: Path, sheet: str, cell: str, value: Any) -> None:
    """Change one cell of a workbook file, as a user saving it would."""
    book = openpyxl.load_workbook(path)
    book[sheet][cell] = value
    book.save(path)


# ---- the reference workbook ----

def test_reference_values() -> None:
    with use_book(REFERENCE):
        assert AI_INDEX("北京") == pytest.approx(92.93, abs=0.01)
        assert AI_RANK("Shanghai") == 2
        assert AI_TIER("郑州") == 3
        assert AI_TIER("郑州", True) == "第三梯队"
        assert AI_SUBINDEX("北京", "rnd") == pytest.approx(90.91)
        assert AI_SUBINDEX("北京", "研发能力") == AI_SUBINDEX("beijing", "RND")
        assert AI_WEIGHT("rnd") == pytest.approx(0.25)
        assert AI_WEIGHT("index") == 1.0


def test_every_udf_matches_the_engine_for_every_unit() -> None:
    result = compute(load_workbook(REFERENCE))
    units = result.model.units
    children = [n.id for n in result.model.nodes if n.parent == result.root]
    with use_book(REFERENCE):
        for unit in units.index:
            for name in (unit, units.at[unit, "name_zh"], units.at[unit, "name_en"]):
                assert AI_INDEX(name) == pytest.approx(result.total[unit], abs=1e-12)
                assert AI_RANK(name) == int(result.rank[unit])
                assert AI_TIER(name) == int(result.tier[unit])
            for child in children:
                assert AI_SUBINDEX(unit, child) == pytest.approx(result.scores.at[unit, child])
        for row in result.weights_used.itertuples():
            assert AI_WEIGHT(row.child) == pytest.approx(row.weight_in_total)


def test_tables_spill_with_headers() -> None:
    result = compute(load_workbook(REFERENCE))
    with use_book(REFERENCE):
        ranking, scores = AI_RANKING(), AI_SCORES()
    table = ranking_table(result)
    assert ranking[0] == list(table.columns)
    assert len(ranking) == len(table) + 1 == 31
    # rank a whole number; tier the label the analyst reads (the number: AI_TIER)
    assert ranking[1][:6] == [1, "beijing", "北京", "Beijing", pytest.approx(92.9285), "第一梯队"]
    assert all(isinstance(r[0], int) and r[5] in ("第一梯队", "第二梯队", "第三梯队")
               for r in ranking[1:])
    assert all(len(r) == len(ranking[0]) for r in ranking)
    full = scores_table(result)
    assert scores[0] == list(full.columns)
    assert len(scores) == len(full) + 1
    # nodes below the given level have no score: no column (Scores has none either)
    assert "talent" not in scores[0] and "rnd" in scores[0]
    got = pd.DataFrame(scores[1:], columns=scores[0])
    assert got["index"].tolist() == pytest.approx(full["index"].tolist())


def test_given_mode_below_the_given_level() -> None:
    with use_book(REFERENCE):
        for call in (AI_SUBINDEX("北京", "talent"), AI_SUBINDEX("北京", "I01"), AI_WEIGHT("talent")):
            assert call.startswith("#AI! not available with input = given")


# ---- the small data-mode workbook ----

def test_small_book_data_mode(small_book: Path) -> None:
    result = compute(load_workbook(small_book))
    with use_book(small_book):
        for unit in result.model.units.index:
            assert AI_INDEX(unit) == pytest.approx(result.total[unit])
            for node in ("d1", "d2", "x1", "x2", "x3", "x4"):
                assert AI_SUBINDEX(unit, node) == pytest.approx(result.scores.at[unit, node])
        assert AI_SUBINDEX("Epsilon", "x2") == pytest.approx(100.0)  # direction -1: lowest raw best
        assert AI_WEIGHT("x4") == pytest.approx(0.4 * 0.75)
        assert AI_WEIGHT("指标一") == pytest.approx(0.3)
        assert AI_TIER("戊", True) == "top"


def test_caller_may_be_a_path_or_a_book(small_book: Path) -> None:
    assert AI_RANK("e", caller=str(small_book)) == 1
    assert AI_RANK("e", caller=HeadlessBook(small_book)) == 1
    assert AI_RANK("e") == "#AI! no workbook: call from Excel, or set one with udfs.use_book(PATH)"


# ---- matching and error texts ----

@pytest.mark.parametrize("name", ["beijing", "BEIJING", " Beijing ", "bei jing", "北京", " 北 京 ",
                                  "ＢＥＩＪＩＮＧ", [["beijing"]], ("北京",)])
def test_city_names_are_matched_loosely(name: Any) -> None:
    with use_book(REFERENCE):
        assert AI_INDEX(name) == pytest.approx(92.9285)


@pytest.mark.parametrize(("args", "text"), [
    (("Pekin",), '#AI! unknown city "Pekin" — did you mean Beijing or Kunming?'),
    (("Shanghia",), '#AI! unknown city "Shanghia" — did you mean Shanghai?'),
    (("北精",), '#AI! unknown city "北精" — did you mean 北京?'),
    (("Xyz",), '#AI! unknown city "Xyz" — use a Units id, name_zh or name_en '
                    '(e.g. beijing, 北京, Beijing)'),
    ((None,), "#AI! city is blank"),
    (("  ",), "#AI! city is blank"),
    ((True,), '#AI! city is TRUE: give a text such as "北京"'),
    (([["beijing", "shanghai"]],), "#AI! city must be one cell, not a range of 2 cells"),
    (("#N/A",), "#AI! city is the error value #N/A"),
    ((float("nan"),), "#AI! city is not a finite number"),
    ((3.0,), '#AI! unknown city "3" — use a Units id, name_zh or name_en (e.g. beijing, 北京, Beijing)'),
])
def test_city_errors(args: tuple[Any, ...], text: str) -> None:
    with use_book(REFERENCE):
        assert AI_INDEX(*args) == text
        assert AI_RANK(*args) == text
        assert AI_TIER(*args) == text


def test_node_errors() -> None:
    with use_book(REFERENCE):
        assert AI_SUBINDEX("北京", "rdn") == '#AI! unknown node "rdn" — did you mean rnd?'
        assert AI_WEIGHT("infra") == '#AI! unknown node "infra" — did you mean infrastructure?'
        assert AI_WEIGHT("zzz") == ('#AI! unknown node "zzz" — use a Framework id, name_zh or '
                                    'name_en (e.g. index)')
        assert AI_WEIGHT("") == "#AI! node is blank"
        assert AI_SUBINDEX("Pekin", "rdn").startswith('#AI! unknown city "Pekin"')


def test_workbook_problems_show_the_first_and_the_count(small: Sheets, tmp_path: Path) -> None:
    small["Framework"][2][4] = 0.7  # d1: 0.7 + 0.4 ≠ 1
    bad = write_book(tmp_path / "bad.xlsx", small)
    with use_book(bad):
        text = AI_INDEX("a")
        assert text.startswith("#AI! 1 problem in the workbook: Sheet 'Framework', cell E3: the "
                               "weights of the children of index (总指数) sum to 1.1, not 1")
        assert AI_RANKING() == text == AI_WEIGHT("d1")
    small["Data"][1][1] = "abc"
    small["Data"][2][2] = "xyz"
    worse = write_book(tmp_path / "worse.xlsx", small)
    with use_book(worse):
        text = AI_INDEX("a")
        assert text.startswith("#AI! 2 problems in the workbook; first: Sheet 'Data', cell B2: ")
        assert text.endswith("(run validate_inputs to list them all)")


def test_unreadable_workbook(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_text("a,b\n1,2\n")
    assert AI_INDEX("a", caller=junk).startswith("#AI! cannot read the workbook: ")
    assert "text file (CSV?)" in AI_INDEX("a", caller=junk)


def test_no_traceback_even_on_internal_errors(small_book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(model: Any) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(pipeline, "build_index", boom)
    assert AI_INDEX("a", caller=small_book) == "#AI! internal error (ZeroDivisionError: boom)"


# ---- the cache ----

def test_200_calls_run_the_engine_once(reference: Path, builds: list[int], fresh_cache: Clock) -> None:
    calls = [lambda: AI_INDEX("北京"), lambda: AI_RANK("上海"), lambda: AI_TIER("郑州"),
             lambda: AI_SUBINDEX("深圳", "funding"), lambda: AI_WEIGHT("rnd"),
             lambda: AI_RANKING(), lambda: AI_SCORES(), lambda: AI_INDEX("Pekin")]
    with use_book(reference):
        for i in range(200):
            calls[i % len(calls)]()
            fresh_cache.tick(0.001)  # a burst: calls a millisecond apart
        assert len(builds) == 1
        assert CACHE.reads == 1
        # a later recalculation (any edit, F9) with unchanged inputs: read again, no engine run
        fresh_cache.tick(5)
        for _ in range(200):
            AI_INDEX("北京")
        assert len(builds) == 1
        assert CACHE.reads == 2


def setting_cell(path: Path, name: str) -> str:
    """The value cell of Settings key ``name``."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        for r, row in enumerate(book["Settings"].iter_rows(values_only=True), start=1):
            if row[0] == name:
                return f"B{r}"
    finally:
        book.close()
    raise KeyError(name)


@pytest.mark.parametrize(("sheet", "cell", "value", "check"), [
    ("Given", "B2", 100.0, lambda: AI_INDEX("北京") == pytest.approx(92.9285 + 0.15 * (100 - 90.54))),
    ("Framework", "E4", 0.1, lambda: AI_INDEX("北京").startswith("#AI! 1 problem")),  # a weight
    ("Settings", "tiers", "score:90,85", lambda: AI_TIER("上海") == 2),  # a method choice
])
def test_an_input_edit_invalidates(reference: Path, builds: list[int], fresh_cache: Clock,
                                   sheet: str, cell: str, value: Any, check: Any) -> None:
    if sheet == "Settings":
        cell = setting_cell(reference, cell)
    with use_book(reference):
        assert AI_INDEX("北京") == pytest.approx(92.9285)
        assert AI_TIER("上海") == 1
        edit(reference, sheet, cell, value)
        fresh_cache.tick(1)
        assert check()
        assert len(builds) == 2
        for _ in range(50):
            assert check()
        assert len(builds) == 2


def test_within_a_burst_nothing_is_read(reference: Path, builds: list[int], fresh_cache: Clock) -> None:
    """The documented price of the window: an edit inside it shows at the next recalculation."""
    with use_book(reference):
        assert AI_INDEX("北京") == pytest.approx(92.9285)
        edit(reference, "Given", "B2", 100.0)
        fresh_cache.tick(CACHE.window / 2)
        assert AI_INDEX("北京") == pytest.approx(92.9285)
        fresh_cache.tick(CACHE.window)
        assert AI_INDEX("北京") == pytest.approx(92.9285 + 0.15 * (100 - 90.54))
        assert len(builds) == 2


def test_helper_columns_do_not_matter_but_new_input_sheets_do(small: Sheets, tmp_path: Path,
                                                              builds: list[int],
                                                              fresh_cache: Clock) -> None:
    path = write_book(tmp_path / "small.xlsx", small)
    with use_book(path):
        before = AI_INDEX("a")
        edit(path, "Units", "G2", "a note")  # not a column the contract names: result unchanged
        fresh_cache.tick()
        assert AI_INDEX("a") == before
        small["Framework"][0].append("weighting")
        for row in small["Framework"][1:]:
            row.append("ahp" if row[0] == "index" else None)
        small["AHP_index"] = [["", "d1", "d2"], ["d1", 1, 3], ["d2", 1 / 3, 1]]
        write_book(path, small)
        fresh_cache.tick()
        assert AI_WEIGHT("d1") == pytest.approx(0.75)
    assert len(builds) == 3


def test_udfs_invalidate(small_book: Path, builds: list[int]) -> None:
    with use_book(small_book):
        AI_INDEX("a")
        udfs.invalidate()
        AI_INDEX("a")
    assert len(builds) == 2


# ---- AI_FIT_WEIGHTS ----

def test_fit_weights_recovers_weights() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(50, 100, size=(12, 3))
    y = x @ np.array([0.5, 0.3, 0.2])
    out = AI_FIT_WEIGHTS([["a", "b", "c"], *x.tolist()], [["total"], *[[v] for v in y]])
    assert out[0] == ["node", "weight"]
    assert [r[0] for r in out[1:4]] == ["a", "b", "c"]
    assert [r[1] for r in out[1:4]] == pytest.approx([0.5, 0.3, 0.2], abs=1e-6)
    assert out[4][0] == "rmse" and out[4][1] == pytest.approx(0, abs=1e-6)
    assert out[6] == ["row", "residual"]
    assert len(out) == 7 + 12
    assert all(len(r) == 2 for r in out)


def test_fit_weights_reference_given_sheet() -> None:
    book = openpyxl.load_workbook(REFERENCE, read_only=True, data_only=True)
    rows = [list(r) for r in book["Given"].iter_rows(values_only=True)]
    book.close()
    out = AI_FIT_WEIGHTS([r[1:6] for r in rows], [r[6] for r in rows])  # 1-D totals
    weights = dict((r[0], r[1]) for r in out[1:6])
    assert weights == pytest.approx({"environment": 0.15, "funding": 0.2, "rnd": 0.25,
                                     "infrastructure": 0.2, "outcomes": 0.2}, abs=0.002)
    assert out[7][1] < 0.01  # max |residual|: the published totals are rounded to 0.01


def test_fit_weights_without_header_and_with_blanks() -> None:
    x = [[1.0, 3.0], [2.0, 1.0], [3.0, 2.0], [None, 5.0], [4.0, 4.0]]
    y = [0.25 * a + 0.75 * b if a is not None else 9 for a, b in x]
    out = AI_FIT_WEIGHTS(x, y)
    assert out[1][0] == "column 1" and out[1][1] == pytest.approx(0.25, abs=1e-6)
    assert out[-2] == [4, None]  # the row with a blank is left out of the fit


@pytest.mark.parametrize(("subscores", "totals", "text"), [
    ([[1, 2], [3, 4]], [1, 2, 3], "#AI! subscores has 2 data rows but totals has 3: give the same "
                                  "units in the same order"),
    ([[1, "abc"], [3, 4]], [1, 2], "#AI! subscores: row 1, column 2: text 'abc' is not a number"),
    ([[1, 2], [3, 4]], [1, True], "#AI! totals: row 2, column 1: TRUE is not a number"),
    ([[1, 2, 3], [3, 4]], [1, 2], "#AI! subscores must be a rectangular range"),
    ([["a", "a"], [1, 2], [3, 4]], [1, 2], "#AI! subscores: the header names a column twice"),
    ([[1, 2, 3]], [5], "#AI! AI_FIT_WEIGHTS needs at least 3 units with every sub-score and the "
                       "total present; has 1"),
    ([], [], "#AI! subscores is empty"),
])
def test_fit_weights_errors(subscores: Any, totals: Any, text: str) -> None:
    assert AI_FIT_WEIGHTS(subscores, totals) == text


# ---- imports ----

def test_imports_touch_no_excel() -> None:
    code = ("import sys\n"
            "import xl_aiindex, xl_aiindex.workbook.xlwings_book, xl_aiindex.workbook.xlsm\n"
            "assert 'xlwings' not in sys.modules, 'xl_aiindex imported xlwings'\n"
            "import udfs\n"
            "assert callable(udfs.AI_INDEX) and callable(udfs.rebuild_results)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
