"""Panel results (issue #24): a workbook whose Data has a ``year`` column recalculates into
Scores and Ranking with one row per unit-year (ranks and tiers within the year), Tiers per
year and a Trends sheet with a native line chart — values equal to the hand computation of
``tests/engine/test_panel.py`` for each ``panel_normalisation``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import run, write_book
from panel_book import EXPECTED, panel_book, panel_sheets
from test_charts import NS, _charts_of

from xl_aiindex.workbook.io import recalc_file


def rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


def records(path: Path, sheet: str) -> list[dict[str, Any]]:
    header, *body = rows(path, sheet)
    return [dict(zip(header, r, strict=True)) for r in body]


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_scores_have_a_row_per_unit_year_equal_to_the_hand_computation(tmp_path: Path,
                                                                       mode: str) -> None:
    book = panel_book(tmp_path / "p.xlsx", mode)
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0, r.output
    header = rows(book, "Scores")[0]
    assert header[:4] == ("unit", "year", "name_zh", "name_en")
    got = {(rec["unit"], rec["year"]): rec["index"] for rec in records(book, "Scores")}
    want = {(u, y): v for y, units in EXPECTED[mode].items() for u, v in units.items()}
    assert got.keys() == want.keys()          # c has no 2021 row: no row, not a blank one
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-9), (mode, k)


def test_ranking_ranks_within_each_year_with_tiers_of_the_year(tmp_path: Path) -> None:
    book = panel_book(tmp_path / "p.xlsx", "pooled")
    recalc_file(book)
    header = rows(book, "Ranking")[0]
    assert header[:4] == ("rank", "unit", "year", "name_zh")
    got = [(rec["year"], rec["rank"], rec["unit"], rec["score"], rec["tier"])
           for rec in records(book, "Ranking")]
    # pooled scores by hand; tiers rank:1,2 -> top / middle / bottom within each year
    assert got == [(2020, 1, "c", pytest.approx(60), "top"), (2020, 2, "b", pytest.approx(30),
                    "middle"), (2020, 3, "a", pytest.approx(0), "bottom"),
                   (2021, 1, "b", pytest.approx(60), "top"), (2021, 2, "a", pytest.approx(20),
                    "middle"),
                   (2022, 1, "c", pytest.approx(100), "top"), (2022, 2, "b", pytest.approx(80),
                    "middle"), (2022, 3, "a", pytest.approx(40), "bottom")]
    tiers = [(rec["year"], rec["label"], rec["units"], rec["count"])
             for rec in records(book, "Tiers")]
    assert tiers == [(2020, "top", "丙", 1), (2020, "middle", "乙", 1), (2020, "bottom", "甲", 1),
                     (2021, "top", "乙", 1), (2021, "middle", "甲", 1), (2021, "bottom", "", 0),
                     (2022, "top", "丙", 1), (2022, "middle", "乙", 1), (2022, "bottom", "甲", 1)]


def test_trends_sheet_and_its_line_chart(tmp_path: Path) -> None:
    book = panel_book(tmp_path / "p.xlsx", "pooled")
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0 and "Trends" in r.output, r.output
    assert rows(book, "Trends") == [
        ("unit", "name_zh", "name_en", "2020", "2021", "2022", "change", "rank_change"),
        # by 2022's rank; c has no 2021 score (blank, not 0); change = 2022 − 2020,
        # rank_change = rank 2020 − rank 2022 (positive: rose)
        ("c", "丙", "C", 60, None, 100, 40, 0),
        ("b", "乙", "B", 30, 60, 80, 50, 0),
        ("a", "甲", "A", 0, 20, 40, 40, 0)]
    (chart,) = _charts_of(book, "Trends")
    assert chart.find(".//c:lineChart", NS) is not None
    sers = chart.findall(".//c:lineChart/c:ser", NS)
    # TOP-N = Settings chart_top (2): one line per unit, over the year columns D:F
    assert [s.find("c:tx/c:strRef/c:f", NS).text for s in sers] == ["'Trends'!$B$2",
                                                                     "'Trends'!$B$3"]
    assert [s.find("c:val/c:numRef/c:f", NS).text for s in sers] == ["'Trends'!$D$2:$F$2",
                                                                     "'Trends'!$D$3:$F$3"]
    assert {s.find("c:cat/c:strRef/c:f", NS).text for s in sers} == {"'Trends'!$D$1:$F$1"}


def test_every_value_grows_so_every_pooled_score_grows_on_the_trends_sheet(tmp_path) -> None:
    sheets = panel_sheets("pooled")
    sheets["Data"] = [["unit", "year", "x", "y"],
                      ["a", 2022, 10, 5], ["b", 2022, 20, 4], ["c", 2022, 30, 3],
                      ["a", 2023, 11, 4.9], ["b", 2023, 21, 3.9], ["c", 2023, 60, 1]]
    book = write_book(tmp_path / "p.xlsx", sheets)
    recalc_file(book)
    assert all(rec["change"] > 0 for rec in records(book, "Trends"))


def test_settings_sheet_trends_renames_it_and_a_users_trends_sheet_is_kept(tmp_path) -> None:
    sheets = panel_sheets("pooled", sheet_trends="各年趋势")
    sheets["Trends"] = [["my own notes"]]
    book = write_book(tmp_path / "p.xlsx", sheets)
    recalc_file(book)
    assert rows(book, "Trends") == [("my own notes",)]
    assert rows(book, "各年趋势")[1][0] == "c"
    sheets.pop("Settings")
    plain = panel_sheets("pooled")
    plain["Trends"] = [["my own notes"]]
    book = write_book(tmp_path / "q.xlsx", plain)
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0 and "sheet_trends" in r.output, r.output
    assert rows(book, "Trends") == [("my own notes",)]


def test_formula_mode_writes_a_panel_as_values_and_says_so(tmp_path: Path) -> None:
    book = panel_book(tmp_path / "p.xlsx", "pooled")
    r = run("recalc", book, "--formulas", "--top", "0")
    assert r.exit_code == 0, r.output
    assert "output = formulas is not available for a panel" in r.output
    wb = openpyxl.load_workbook(book)
    try:
        formulas = [c.value for name in ("Scores", "Ranking", "Tiers") for row in wb[name].iter_rows()
                    for c in row if isinstance(c.value, str) and c.value.startswith("=")]
        assert formulas == [] and "Calc" not in wb.sheetnames
    finally:
        wb.close()
    # the values are the hand computation's, not formulas' stale guesses
    assert records(book, "Scores")[-1]["index"] == pytest.approx(100)


def test_a_single_year_book_is_written_as_before(small_book: Path) -> None:
    recalc_file(small_book)
    book = openpyxl.load_workbook(small_book, read_only=True)
    try:
        assert "Trends" not in book.sheetnames
        assert [c.value for c in next(book["Scores"].iter_rows(max_row=1))][:2] == ["unit",
                                                                                   "name_zh"]
    finally:
        book.close()
