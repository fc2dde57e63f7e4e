"""Panel results (issue #24): a workbook whose Data has a ``year`` column recalculates into
Scores and Ranking with one row per unit-year (ranks and tiers within the year), Tiers per
year and a Trends sheet with a native line chart — values equal to the hand computation of
``tests/engine/test_panel.py`` for each ``panel_normalisation``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
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
    # scores on 0–100: the axis runs 0–100, like every score chart of the workbook
    scaling = chart.find(".//c:valAx/c:scaling", NS)
    assert (scaling.find("c:min", NS).get("val"), scaling.find("c:max", NS).get("val")) == \
        ("0.0", "100.0")


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


def test_formula_mode_per_year_leaves_what_has_no_per_year_formula_as_values(tmp_path) -> None:
    sheets = panel_sheets("per_year")
    sheets["Framework"][0].append("normalisation")
    sheets["Framework"][3].append("zscore")          # y: no conditional standard deviation
    book = write_book(tmp_path / "p.xlsx", sheets)
    r = run("recalc", book, "--formulas", "--top", "0")
    assert r.exit_code == 0, r.output
    assert ("panel_normalisation = per_year: the normalisation of y has no per-year formula "
            "(only minmax, efficacy and goalposts have one): written as values") in r.output
    wb = openpyxl.load_workbook(book)
    try:
        x, y = wb["Scores"]["E2"].value, wb["Scores"]["F2"].value
    finally:
        wb.close()
    assert str(x).startswith("=IF(ISNUMBER(") and "_xlfn.MINIFS(" in x
    assert isinstance(y, float)                       # the engine's z-score of a in 2020
    assert y == pytest.approx(-1.0)    # y 5, 3, 1: z = (5 − 3) / 2, lower is better: −z


def test_formula_mode_per_year_with_weights_from_the_data_is_written_as_values(tmp_path) -> None:
    sheets = panel_sheets("per_year")
    sheets["Framework"][0].append("weighting")
    sheets["Framework"][1].append("entropy")          # each year's own weights
    book = write_book(tmp_path / "p.xlsx", sheets)
    r = run("recalc", book, "--formulas", "--top", "0")
    assert r.exit_code == 0, r.output
    assert "the weights of index are computed from each year's data" in r.output
    assert "live formulas" not in r.output
    wb = openpyxl.load_workbook(book)
    try:
        assert "Calc" not in wb.sheetnames
        assert not any(isinstance(c.value, str) and c.value.startswith("=")
                       for row in wb["Scores"].iter_rows() for c in row)
    finally:
        wb.close()


def test_a_single_year_book_is_written_as_before(small_book: Path) -> None:
    recalc_file(small_book)
    book = openpyxl.load_workbook(small_book, read_only=True)
    try:
        assert "Trends" not in book.sheetnames
        assert [c.value for c in next(book["Scores"].iter_rows(max_row=1))][:2] == ["unit",
                                                                                   "name_zh"]
    finally:
        book.close()


@pytest.mark.libreoffice
def test_libreoffice_recomputes_a_panel_in_formula_mode(tmp_path: Path) -> None:
    """Each panel_normalisation in formula mode: a raw value edited and the cached values
    dropped (openpyxl saves none), LibreOffice's recalculation gives the engine's scores,
    ranks within the year, tier counts per year and Trends of the edited inputs."""
    from lo_harness import mismatches, read_book, recalculate

    from xl_aiindex.workbook.io import compute, load_workbook
    from xl_aiindex.workbook.results import result_sheets

    edited = []
    for i, mode in enumerate(EXPECTED):
        book = panel_book(tmp_path / f"p{i}.xlsx", mode)
        r = run("recalc", book, "--formulas", "--top", "0")
        assert r.exit_code == 0 and "live formulas" in r.output, r.output
        wb = openpyxl.load_workbook(book)
        formulas = [c.value for row in wb["Scores"].iter_rows(min_row=2) for c in row[4:]]
        assert all(isinstance(f, str) and f.startswith("=") for f in formulas)
        if mode != "pooled":     # the statistics of the row's (or the base) year
            assert "_xlfn.MINIFS(" in formulas[0]
        wb["Data"]["C8"] = 45    # b's 2022 x: 50 -> 45 (ranks unchanged, b's scores fall)
        wb.save(tmp_path / f"e{i}.xlsx")
        wb.close()
        edited.append(tmp_path / f"e{i}.xlsx")
    for path, done in zip(edited, recalculate(edited, tmp_path / "lo"), strict=True):
        expected = [s for s in result_sheets(compute(load_workbook(path)))
                    if s.name in ("Scores", "Ranking", "Tiers", "Trends")]
        cached = openpyxl.load_workbook(path, data_only=True)
        assert cached["Scores"]["G8"].value is None      # b's 2022 index: no cached value
        cached.close()
        assert mismatches(read_book(done, path), expected) == [], path.name


def test_a_top_15_over_the_years_has_fifteen_different_line_colours() -> None:
    from xl_aiindex.workbook.charts import Series, line_chart

    chart = ET.fromstring(line_chart("t", "'Trends'!$D$1:$F$1",
                                     [Series(f"'Trends'!$D${r}:$F${r}") for r in range(2, 17)]))
    colours = [s.find("c:spPr/a:ln/a:solidFill/a:srgbClr", NS).get("val")
               for s in chart.findall(".//c:lineChart/c:ser", NS)]
    assert len(colours) == 15 and len(set(colours)) == 15
