"""Optional result sheets (issue 19 §6): a user's own sheet named like an extra the tool writes
(Charts, Compare, GroupRanking, Treatment) never blocks the core results. The extra is skipped
with a note naming the Settings key that gives it another name (``sheet_charts = 图表``); the
user's sheet stays byte for byte; the core sheets (Scores, Ranking…) keep their refusal."""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SMALL, Sheets, write_book

from xl_aiindex.cli import cli
from xl_aiindex.settings import parse_settings
from xl_aiindex.workbook.ownership import sheet_name_problems

NOTE = ("note: sheet 'Charts' is yours (it holds 'My own notes' in A1): it was left as it is "
        "and the Charts result sheet was not written; to get Charts, name a sheet for it in "
        "Settings, e.g. sheet_charts = 图表 (or recalc --force to replace your sheet)")


def run(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _book(tmp_path: Path, extra: Sheets, settings: list[list[Any]] = ()) -> Path:   # type: ignore[assignment]
    sheets = {k: [list(r) for r in v] for k, v in SMALL.items()}
    sheets["Settings"].extend(settings)
    sheets.update(extra)
    return write_book(tmp_path / "book.xlsx", sheets)


def sheet_part(path: Path, name: str) -> bytes:
    """The bytes of the part holding sheet ``name`` (by workbook.xml and its relationships)."""
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(r'<sheet [^>]*name="' + re.escape(name) + r'"[^>]*r:id="([^"]+)"', wb)
        assert rid, f"no sheet {name}"
        target = re.search(r'<Relationship [^>]*Id="' + rid.group(1) + r'"[^>]*Target="([^"]+)"',
                           rels) or re.search(r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="'
                                              + rid.group(1) + '"', rels)
        assert target
        part = target.group(1)
        part = part.lstrip("/") if part.startswith("/") else posixpath.join("xl", part)
        return z.read(part)


def _values(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


USER_CHARTS: Sheets = {"Charts": [["My own notes"], [1, 2], ["a chart of mine"]]}


def test_own_charts_sheet_is_kept_and_the_core_results_are_written(tmp_path: Path) -> None:
    book = _book(tmp_path, USER_CHARTS)
    before = sheet_part(book, "Charts")
    out = run("recalc", book)
    assert out.exit_code == 0, out.output
    assert NOTE in out.output
    assert "Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking and Log" in out.output
    assert sheet_part(book, "Charts") == before
    ranking = _values(book, "Ranking")
    assert ranking[0][:2] == ("rank", "unit")
    # minmax 0..100, x2 reversed; d1 = 0.6, d2 = 0.4: e is best (100), a worst (0)
    assert [r[1] for r in ranking[1:]] == ["e", "d", "c", "b", "a"]
    assert ranking[1][4] == pytest.approx(100.0) and ranking[-1][4] == pytest.approx(0.0)
    assert _values(book, "Tiers")[1][0] == 1
    assert _values(book, "Scores")[0][0] == "unit"
    log = _values(book, "Log")
    assert len(log) == 2 and "sheet_charts = 图表" in str(log[1])
    # a second run says the same, and still writes
    again = run("recalc", book)
    assert again.exit_code == 0 and NOTE in again.output
    assert sheet_part(book, "Charts") == before


def test_force_replaces_the_users_optional_sheet_as_the_note_says(tmp_path: Path) -> None:
    book = _book(tmp_path, USER_CHARTS)
    out = run("recalc", book, "--force")
    assert out.exit_code == 0, out.output
    assert "note: sheet 'Charts'" not in out.output
    assert "Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, Charts and Log" in out.output
    assert _values(book, "Charts")[0][:2] == ("chart", "position")
    assert run("recalc", book).exit_code == 0   # now the tool's: quiet


def test_validate_says_the_same_note(tmp_path: Path) -> None:
    book = _book(tmp_path, USER_CHARTS)
    out = run("validate", book)
    assert out.exit_code == 0, out.output
    assert NOTE in out.output


def test_configured_name_writes_the_charts_there_and_a_second_recalc_is_quiet(
        tmp_path: Path) -> None:
    book = _book(tmp_path, USER_CHARTS, [["sheet_charts", "图表"]])
    before = sheet_part(book, "Charts")
    out = run("recalc", book)
    assert out.exit_code == 0, out.output
    assert "Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, 图表 and Log" in out.output
    assert "note: sheet 'Charts'" not in out.output
    assert sheet_part(book, "Charts") == before
    charts = _values(book, "图表")
    assert charts[0][:4] == ("chart", "position", "rank", "unit")
    assert charts[1][3] == "e"
    with zipfile.ZipFile(book) as z:
        refs = {ref for n in z.namelist() if n.startswith("xl/charts/chart")
                for ref in re.findall(r"<c:f>([^<]*)</c:f>", z.read(n).decode())}
    assert refs and all(r.startswith("'图表'!") for r in refs), refs
    again = run("recalc", book)
    assert again.exit_code == 0, again.output
    assert "note" not in again.output and "by hand" not in again.output
    assert "not written by" not in again.output
    assert sheet_part(book, "Charts") == before
    check = run("recalc", "--check", book)
    assert check.exit_code == 0, check.output


def test_renamed_group_ranking_and_compare(tmp_path: Path) -> None:
    book = _book(tmp_path, {"GroupRanking": [["mine"]], "Compare": [["mine too"]]},
                 [["compare", "a/b"], ["sheet_compare", "对比"]])
    out = run("recalc", book)
    assert out.exit_code == 0, out.output
    assert ("note: sheet 'GroupRanking' is yours (it holds 'mine' in A1): it was left as it is "
            "and the GroupRanking result sheet was not written; to get GroupRanking, name a "
            "sheet for it in Settings, e.g. sheet_groupranking = 分组排名 (or recalc --force to "
            "replace your sheet)") in out.output
    assert _values(book, "GroupRanking") == [("mine",)]
    assert _values(book, "Compare") == [("mine too",)]
    compare = _values(book, "对比")
    assert compare[0][0] == "pair" and compare[1][4] == "a"


def test_users_chart_sheet_named_charts_is_kept(tmp_path: Path) -> None:
    book = _book(tmp_path, {})
    wb = openpyxl.load_workbook(book)
    chart = openpyxl.chart.BarChart()
    chart.add_data(openpyxl.chart.Reference(wb["Data"], min_col=2, min_row=1, max_row=6),
                   titles_from_data=True)
    wb.create_chartsheet("Charts").add_chart(chart)
    wb.save(book)
    out = run("recalc", book)
    assert out.exit_code == 0, out.output
    assert "note: sheet 'Charts' is a chart sheet of yours: it was left as it is" in out.output
    assert _values(book, "Ranking")[1][1] == "e"


def test_a_users_ranking_sheet_is_still_refused(tmp_path: Path) -> None:
    book = _book(tmp_path, {"Ranking": [["My ranking"]]})
    before = book.read_bytes()
    out = run("recalc", book)
    assert out.exit_code == 1, out.output
    assert "sheet 'Ranking' was not written by xl-aiindex (it holds 'My ranking' in A1)" \
        in out.output
    assert book.read_bytes() == before


@pytest.mark.parametrize(("value", "expected"), [
    ("Ranking", "setting 'sheet_charts': 'Ranking' is the result sheet 'Ranking'; name the "
                "Charts sheet otherwise, e.g. sheet_charts = 图表"),
    ("data", "setting 'sheet_charts': 'data' is the input sheet 'Data'; name the Charts sheet "
             "otherwise, e.g. sheet_charts = 图表"),
    ("a/b", "setting 'sheet_charts': 'a/b' is not a sheet name Excel accepts: it may not hold "
            "any of [ ] : * ? / \\ or control characters"),
    ("x" * 32, "setting 'sheet_charts': '" + "x" * 32 + "' has 32 characters; a sheet name has "
               "at most 31"),
    ("'图表", "setting 'sheet_charts': ''图表' is not a sheet name Excel accepts (no ' at "
              "either end; 'History' is reserved)"),
    ("Budget_d1", "setting 'sheet_charts': 'Budget_d1' is the name of an input sheet"),
])
def test_bad_sheet_names_are_problems(value: str, expected: str) -> None:
    settings, problems, _ = parse_settings({"sheet_charts": value})
    assert problems == []
    problems = sheet_name_problems(settings)
    assert len(problems) == 1 and problems[0].problem.startswith(expected), problems
    assert problems[0].sheet == "Settings" and problems[0].field == "sheet_charts"


def test_two_optional_sheets_cannot_share_a_name() -> None:
    settings, _, _ = parse_settings({"sheet_charts": "图", "sheet_compare": "图"})
    problems = sheet_name_problems(settings)
    assert [p.field for p in problems] == ["sheet_charts", "sheet_compare"]
    assert "also the name given by sheet_compare" in problems[0].problem


def test_good_names_and_blank() -> None:
    settings, problems, notes = parse_settings({"sheet_charts": " 图表 ", "sheet_treatment": "",
                                                "sheet_compare": "Compare"})
    assert problems == [] and notes == [] and sheet_name_problems(settings) == []
    assert settings.sheet("Charts") == "图表" and settings.sheet("Treatment") == "Treatment"
    assert settings.sheet("Compare") == "Compare" and settings.sheet("Ranking") == "Ranking"


def test_bad_sheet_name_names_the_settings_cell(tmp_path: Path) -> None:
    book = _book(tmp_path, {}, [["sheet_charts", "Scores"]])
    out = run("validate", book)
    assert out.exit_code == 1, out.output
    assert "B11" in out.output and "'Scores' is the result sheet 'Scores'" in out.output


def test_rebuild_macro_skips_the_users_charts_too(tmp_path: Path) -> None:
    from udfs import HeadlessBook
    from udfs.cache import CACHE
    from udfs.macros import run_rebuild

    CACHE.invalidate()
    book = _book(tmp_path, USER_CHARTS)
    before = sheet_part(book, "Charts")
    hb = HeadlessBook(book)
    report = run_rebuild(hb)
    assert report.result is not None and report.problems == ()
    assert "Ranking" in report.sheets and "Charts" not in report.sheets
    assert NOTE.removeprefix("note: ") in report.notes
    assert hb.messages[-1][0] == "info" and NOTE.removeprefix("note: ") in hb.messages[-1][1]
    assert sheet_part(book, "Charts") == before
    assert _values(book, "Ranking")[1][1] == "e"


def test_a_configured_name_taken_by_a_users_sheet_is_skipped_too(tmp_path: Path) -> None:
    book = _book(tmp_path, {"图表": [["mine"]]}, [["sheet_charts", "图表"]])
    out = run("recalc", book)
    assert out.exit_code == 0, out.output
    assert ("note: sheet '图表' is yours (it holds 'mine' in A1): it was left as it is and the "
            "Charts result sheet was not written; to get Charts, give Settings sheet_charts "
            "another name than '图表' (or recalc --force to replace your sheet)") in out.output
    assert _values(book, "图表") == [("mine",)]


def test_the_contracts_optional_sheets_are_those_settings_can_rename() -> None:
    from xl_aiindex.contract import OPTIONAL_SHEETS
    from xl_aiindex.settings import SHEET_NAME_KEYS

    assert sorted(OPTIONAL_SHEETS) == sorted(SHEET_NAME_KEYS.values())
