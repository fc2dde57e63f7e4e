"""The worksheet functions take an optional year (issue #24): ``=AI_INDEX("北京", 2021)``,
``=AI_RANK("北京",, 2021)``; without it, the latest year. A year the panel lacks, a unit with no
row that year and a year given to a workbook of one edition are ``#AI!`` texts saying so."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO
from panel_book import EXPECTED, panel_book

from udfs import AI_INDEX, AI_RANK, AI_SUBINDEX, AI_TIER, use_book
from udfs.cache import CACHE


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    CACHE.invalidate()


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_ai_index_of_each_year(tmp_path: Path, mode: str) -> None:
    with use_book(panel_book(tmp_path / "p.xlsx", mode)):
        for year, units in EXPECTED[mode].items():
            for unit, want in units.items():
                assert AI_INDEX(unit, year) == pytest.approx(want, abs=1e-9), (mode, year, unit)
        # no year: the latest (2022); a year typed as text or 2021.0 is the same year
        assert AI_INDEX("甲") == pytest.approx(EXPECTED[mode][2022]["a"])
        assert AI_INDEX("a", "2021") == AI_INDEX("a", 2021.0) == AI_INDEX("a", 2021)


def test_rank_tier_and_subindex_within_the_year(tmp_path: Path) -> None:
    with use_book(panel_book(tmp_path / "p.xlsx", "pooled")):
        # =AI_RANK("乙",, 2021): the group argument left out
        assert AI_RANK("乙", None, 2021) == 1 and AI_RANK("乙", None, 2020) == 2
        assert AI_RANK("乙") == 2                          # 2022
        assert AI_TIER("a", True, 2021) == "middle" and AI_TIER("a", True) == "bottom"
        assert AI_SUBINDEX("c", "x", 2020) == pytest.approx(40)   # (30 − 10) / (60 − 10)


def test_a_year_or_unit_that_is_not_there_says_so(tmp_path: Path) -> None:
    with use_book(panel_book(tmp_path / "p.xlsx", "pooled")):
        assert AI_INDEX("c", 2021) == "#AI! c has no row in 2021 (Data or Given)"
        assert AI_RANK("c", None, 2021) == "#AI! c has no row in 2021 (Data or Given)"
        assert AI_INDEX("a", 2019) == ("#AI! year 2019: the workbook has no results for that "
                                       "year (years: 2020, 2021, 2022)")
        assert AI_INDEX("a", "next") == ('#AI! year must be a whole number such as 2021, not '
                                         '"next"')


def test_a_single_edition_refuses_a_year() -> None:
    with use_book(REPO / "workbooks" / "city_ai_index_2020.xlsx"):
        assert AI_INDEX("北京", 2020) == ("#AI! year 2020: this workbook holds one edition (Data "
                                         "and Given have no year column)")
        assert AI_INDEX("北京") == pytest.approx(92.9285)


def test_the_lite_functions_take_the_year_too(tmp_path: Path) -> None:
    """xlwings Lite: the same answers from the ranges of a panel book (=AI_INDEX(model, "a", 2021))."""
    from test_lite import model_of, sheets_of

    from xl_aiindex import lite

    book = panel_book(tmp_path / "p.xlsx", "pooled")
    model = model_of(sheets_of(book))
    for year, units in EXPECTED["pooled"].items():
        for unit, want in units.items():
            assert lite.AI_INDEX(model, unit, year) == pytest.approx(want, abs=1e-9)
    assert lite.AI_RANK(model, "乙", None, 2021) == 1 and lite.AI_RANK(model, "乙") == 2
    assert lite.AI_TIER(model, "a", True, 2021) == "middle"
    assert lite.AI_SUBINDEX(model, "c", "x", 2020) == pytest.approx(40)
    with use_book(book):
        assert lite.AI_INDEX(model, "c", 2021) == AI_INDEX("c", 2021)
