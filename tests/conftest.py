"""Shared fixtures: small workbooks written cell by cell, so each test states its inputs."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]

#: The tests by layer (engine, reading, writing, commands, excel, stories, project); a few share
#: helpers across layers (``from test_macros import FakeBook``), so every layer's folder is
#: importable whatever order pytest collects them in.
LAYERS = ("engine", "reading", "writing", "commands", "excel", "stories", "project")
for _layer in LAYERS:
    if str(Path(__file__).resolve().parent / _layer) not in sys.path:
        sys.path.append(str(Path(__file__).resolve().parent / _layer))
DATA = Path(__file__).resolve().parent / "data"
#: The README and every page of docs/, README first: where the user documentation lives.
DOC_PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))


def docs_text() -> str:
    """The README and docs/*.md as one text (examples and names may be on any page)."""
    return "\n".join(p.read_text(encoding="utf-8") for p in DOC_PAGES)

Sheets = dict[str, list[list[Any]]]

#: A small index: root -> two dimensions -> four indicators; five units. Hand-computable.
SMALL: Sheets = {
    "Settings": [
        ["key", "value"],
        ["name_en", "Small test index"],
        ["input", "data"],
        ["normalisation", "minmax"],
        ["minmax_range", "0,100"],
        ["aggregation", "arithmetic"],
        ["weights", "strict"],
        ["tiers", "rank:2,4"],
        ["tier_labels", "top;middle;bottom"],
        ["missing", "error"],
    ],
    "Framework": [
        ["id", "parent", "name_zh", "name_en", "weight", "direction", "normalisation"],
        ["index", None, "总指数", "Index", None, None, None],
        ["d1", "index", "维度一", "Dimension 1", 0.6, None, None],
        ["d2", "index", "维度二", "Dimension 2", 0.4, None, None],
        ["x1", "d1", "指标一", "Indicator 1", 0.5, 1, None],
        ["x2", "d1", "指标二", "Indicator 2", 0.5, -1, None],
        ["x3", "d2", "指标三", "Indicator 3", 0.25, 1, None],
        ["x4", "d2", "指标四", "Indicator 4", 0.75, 1, None],
    ],
    "Units": [
        ["id", "name_zh", "name_en", "region", "population"],
        ["a", "甲", "Alpha", "north", 10],
        ["b", "乙", "Beta", "north", 20],
        ["c", "丙", "Gamma", "south", 30],
        ["d", "丁", "Delta", "south", 40],
        ["e", "戊", "Epsilon", "south", 50],
    ],
    "Data": [
        ["unit", "x1", "x2", "x3", "x4"],
        ["a", 10, 5, 1, 100],
        ["b", 20, 4, 2, 300],
        ["c", 30, 3, 3, 200],
        ["d", 40, 2, 4, 400],
        ["e", 50, 1, 5, 500],
    ],
}


@pytest.fixture(autouse=True)
def english_by_default(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every test runs in English unless it asks for Chinese: a Chinese locale on the machine
    (``LANG=zh_CN.UTF-8``) must not change the messages tests compare, and a workbook's
    Settings ``language`` read by one test must not carry over to the next."""
    from xl_aiindex.i18n import set_language, set_workbook_language

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    set_language(None)
    set_workbook_language(None)
    yield
    set_language(None)
    set_workbook_language(None)


def run(*args: object) -> Result:
    """Run the ``xl-aiindex`` command line in-process with ``args`` (each turned into text);
    the result has ``exit_code``, ``output`` and ``stderr``."""
    from xl_aiindex.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def write_book(path: Path, sheets: Sheets) -> Path:
    """Write ``sheets`` (name -> rows, row 1 first) as an .xlsx with openpyxl."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def set_settings(book: openpyxl.Workbook, values: dict[str, Any]) -> None:
    """Give Settings keys of an opened workbook these values: a key's row changed in place, a
    key the sheet lacks appended."""
    wanted = dict(values)
    settings = book["Settings"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value in wanted:
            row[1].value = wanted.pop(row[0].value)
    for k, v in wanted.items():
        settings.append([k, v])


@pytest.fixture
def small() -> Sheets:
    """A deep copy of the small index's sheets, to mutate."""
    return copy.deepcopy(SMALL)


@pytest.fixture
def small_book(tmp_path: Path, small: Sheets) -> Path:
    """The small index written to a file."""
    return write_book(tmp_path / "small.xlsx", small)


def book_with_chart_sheet(path: Path, sheets: Sheets, name: str = "Ranking") -> Path:
    """``sheets`` written with xlsxwriter, plus a chart sheet called ``name`` (where a result
    sheet belongs) charting Data's column B."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path)
    for sheet, rows in sheets.items():
        ws = wb.add_worksheet(sheet)
        for r, row in enumerate(rows):
            ws.write_row(r, 0, [v if v is not None else "" for v in row])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Data!$B$2:$B$6"})
    wb.add_chartsheet(name).set_chart(chart)
    wb.close()
    return path


def assert_chart_sheet_refused(book: Path) -> None:
    """``validate`` and ``recalc`` both list the one problem of a chart sheet named Ranking."""
    line = ("Sheet 'Ranking': sheet 'Ranking' is a chart sheet, but recalc writes its results to "
            "a worksheet of this name: rename or delete that sheet")
    for args in (["validate", book], ["recalc", book, "--top", "0"]):
        r = run(*args)
        assert (r.exit_code, r.output) == (1, f"1 problem found:\n{line}\n"), args


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``libreoffice`` run a real spreadsheet application: skipped with a reason
    where ``soffice`` is missing (``.ci/run`` installs it, so CI runs them)."""
    from lo_harness import find_soffice

    if find_soffice() is not None:
        return
    skip = pytest.mark.skip(reason="LibreOffice (soffice) is not installed; .ci/run installs it")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)
