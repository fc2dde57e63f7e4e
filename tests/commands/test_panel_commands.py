"""``--year`` on the commands that work on one result (issue #24): weights, uncertainty,
audit, explain, compare and report answer for that year of a panel (default: the latest); a
workbook of one edition refuses ``--year`` with exit code 2 and says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run
from panel_book import EXPECTED, panel_book

from xl_aiindex import api


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return panel_book(tmp_path / "p.xlsx", "pooled")


def test_explain_gives_the_years_score_and_rank(book: Path) -> None:
    for year, want in EXPECTED["pooled"].items():
        done = api.explain(book, "a", year=year)
        assert done.total == pytest.approx(want["a"])
        assert (done.standing.rank, done.standing.ranked) == (len(want), len(want))
    latest = api.explain(book, "甲")
    assert latest.total == pytest.approx(EXPECTED["pooled"][2022]["a"])
    r = run("explain", book, "a", "--year", "2021", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["total"] == pytest.approx(20)
    assert json.loads(r.output)["year"] == 2021
    r = run("explain", book, "a", "--year", "2021")
    assert r.output.startswith(f"甲 (a) in {book} (2021): index 20.00, rank 2 of 2, middle\n")


def test_compare_within_a_year(book: Path) -> None:
    r = run("compare", book, "b", "c", "--year", "2020", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["year"] == 2020
    rows = {row["node"]: row for row in json.loads(r.output)["rows"]}
    assert rows["index"]["scores"] == {"b": pytest.approx(30), "c": pytest.approx(60)}


def test_recalc_says_which_years_ranking_it_prints(book: Path) -> None:
    r = run("recalc", book, "--top", "1")
    assert r.exit_code == 0, r.output
    assert ("Ranking of 2022 (years 2020–2022, panel_normalisation = pooled; every year in the "
            "sheets Ranking and Trends):\nrank  unit  name   score  tier\n   1  c     丙    100.00  "
            "top\n") in r.output


def test_a_unit_without_a_row_that_year_is_not_found(book: Path) -> None:
    for args in (("explain", book, "丙"), ("compare", book, "a", "c")):
        r = run(*args, "--year", "2021")
        assert (r.exit_code, r.output) == (2, "Error: c has no row in 2021 (Data or Given)\n")


def test_weights_audit_uncertainty_and_report_take_a_year(book: Path, tmp_path: Path) -> None:
    assert api.weights(book, year=2021).groups
    audited = api.audit(book, write=False, year=2021)
    assert audited.units == 2                          # c has no 2021 row
    assert api.audit(book, write=False).units == 3
    done = api.uncertainty(book, output=tmp_path / "u.xlsx", samples=8, budget=0, year=2021)
    assert any("uncertainty of 2021" in n for n in done.notes)
    assert sorted(done.result.summary["unit"]) == ["a", "b"]
    page = tmp_path / "r.html"
    r = run("report", book, "-o", page, "--year", "2020")
    assert r.exit_code == 0, r.output
    html = page.read_text(encoding="utf-8")
    assert 'id="trends"' in html and "年份 year 2020" in html


#: The commands with --year, each with the arguments it needs ({out}: a file to write).
YEAR_COMMANDS = [("explain", "a"), ("compare", "a", "b"), ("weights",), ("audit", "--no-sheet"),
                 ("report", "-o", "{out}"), ("uncertainty", "--samples", "8", "--budget", "0")]


@pytest.mark.parametrize("args", YEAR_COMMANDS)
def test_a_year_the_panel_lacks_is_refused(book: Path, tmp_path: Path, args) -> None:
    args = [a.format(out=tmp_path / "r.html") for a in args]
    r = run(args[0], book, *args[1:], "--year", "2019")
    assert r.exit_code == 2, r.output
    assert "year 2019: the workbook has no results for that year (years: 2020, 2021, 2022)" \
        in r.output


@pytest.mark.parametrize("args", YEAR_COMMANDS)
def test_a_single_edition_refuses_year(small_book: Path, tmp_path: Path, args) -> None:
    args = [a.format(out=tmp_path / "r.html") for a in args]
    r = run(args[0], small_book, *args[1:], "--year", "2021")
    assert r.exit_code == 2, r.output
    assert "year 2021: this workbook holds one edition (Data and Given have no year column)" \
        in r.output


def test_export_writes_every_year_and_the_trends(book: Path, tmp_path: Path) -> None:
    r = run("export", book, "--format", "csv", "--out-dir", tmp_path / "out")
    assert r.exit_code == 0, r.output
    ranking = (tmp_path / "out" / "p_ranking.csv").read_text(encoding="utf-8-sig").splitlines()
    assert ranking[0].startswith("rank,unit,year,")
    assert len(ranking) == 1 + 8                   # one row per unit-year
    trends = (tmp_path / "out" / "p_trends.csv").read_text(encoding="utf-8-sig").splitlines()
    assert trends[:2] == ["unit,name_zh,name_en,2020,2021,2022,change,rank_change",
                          "c,丙,C,60,,100,40,0"]
