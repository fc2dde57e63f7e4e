"""Panel workbooks read (issue #24): a ``year`` column after ``unit`` in Data makes the rows
unit-years; bad years and duplicate unit-years are problems naming their cells; the engine's
problems of a year are placed in that year's row; Settings ``panel_normalisation`` checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run, write_book
from panel_book import panel_sheets

from xl_aiindex.workbook.book import load_workbook


def test_a_year_column_reads_one_row_per_unit_and_year(tmp_path: Path) -> None:
    loaded = load_workbook(write_book(tmp_path / "p.xlsx", panel_sheets()))
    data = loaded.model.data
    assert list(data.index.names) == ["unit", "year"]
    assert list(data.index) == [("a", 2020), ("b", 2020), ("c", 2020), ("a", 2021),
                                ("b", 2021), ("a", 2022), ("b", 2022), ("c", 2022)]
    assert data.loc[("b", 2021)].tolist() == [40.0, 2.0]
    assert loaded.model.settings.panel_normalisation == "pooled"
    # the year column is neither an indicator nor a column "ignored" with a note
    assert list(data.columns) == ["x", "y"]
    assert not any("year" in n for n in loaded.notes)


def test_without_a_year_column_nothing_changes(small_book: Path) -> None:
    data = load_workbook(small_book).model.data
    assert data.index.nlevels == 1 and data.index.name == "unit"


def _validate(tmp_path: Path, sheets) -> tuple[int, list[str]]:
    r = run("validate", write_book(tmp_path / "p.xlsx", sheets))
    return r.exit_code, r.output.splitlines()[1:]


def test_a_duplicate_unit_year_names_both_rows(tmp_path: Path) -> None:
    sheets = panel_sheets()
    sheets["Data"].append(["b", 2021, 1, 1])         # row 10; b's 2021 row is row 6
    sheets["Data"].append(["b", 2023, 1, 1])         # another year: fine
    code, lines = _validate(tmp_path, sheets)
    assert code == 1
    assert lines == ["Sheet 'Data', cell A10: unit 'b' has a second row in 2021 here "
                     "(first in row 6)"]


@pytest.mark.parametrize(("year", "shown"), [(2021.5, "2021.5"), ("next", "next"),
                                             (None, "blank")])
def test_a_year_that_is_not_a_whole_number_is_a_problem_at_its_cell(tmp_path: Path, year,
                                                                       shown) -> None:
    sheets = panel_sheets()
    sheets["Data"][3][1] = year                       # c's 2020 row: row 4, year in column B
    code, lines = _validate(tmp_path, sheets)
    assert code == 1
    assert lines == [f"Sheet 'Data', cell B4: year {shown}: a year is a whole number such as 2021"]


@pytest.mark.parametrize("mode", ["pooled", "per_year", "base:2020"])
def test_a_problem_of_one_year_is_placed_in_that_years_row(tmp_path: Path, mode: str) -> None:
    sheets = panel_sheets(mode)
    sheets["Data"][5][3] = None                       # b's 2021 y: cell D6
    code, lines = _validate(tmp_path, sheets)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("Sheet 'Data', cell D6: unit b ")
    assert "@" not in lines[0]                        # no stacked unit-year id leaks out


@pytest.mark.parametrize(("value", "expected"), [
    ("per_year", "per_year"), (" Pooled ", "pooled"), ("base:2021", "base:2021"),
    ("BASE:2020", "base:2020")])
def test_panel_normalisation_is_read(tmp_path: Path, value: str, expected: str) -> None:
    loaded = load_workbook(write_book(tmp_path / "p.xlsx", panel_sheets(value)))
    assert loaded.model.settings.panel_normalisation == expected


@pytest.mark.parametrize(("value", "problem"), [
    ("global", "'global' is not one of pooled, per_year, base:YEAR (e.g. base:2020)"),
    ("base:", "'base:' is not one of pooled, per_year, base:YEAR (e.g. base:2020)"),
    ("base:2019", "'base:2019': the panel has no year 2019 (years: 2020, 2021, 2022)")])
def test_a_bad_panel_normalisation_is_a_problem_at_its_cell(tmp_path: Path, value: str,
                                                            problem: str) -> None:
    code, lines = _validate(tmp_path, panel_sheets(value))
    row = 1 + next(i for i, r in enumerate(panel_sheets()["Settings"])
                   if r[0] == "panel_normalisation")
    assert (code, lines) == (1, [f"Sheet 'Settings', cell B{row}: setting "
                                 f"'panel_normalisation': {problem}"])
