"""The UDFs, AI_WHY and the macros answer in the workbook's Settings language; the English tags
the VBA reads an Excel error from stay on a translated answer."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import Sheets, write_book
from test_excel import excel_cell

from udfs import AI_SUBINDEX, AI_TIER, AI_WHY, HeadlessBook, use_book, validate_inputs
from udfs.cache import CACHE
from udfs.why import ERRORS, error_code


@pytest.fixture
def chinese_book(tmp_path: Path, small: Sheets) -> Path:
    CACHE.invalidate()
    small["Settings"].append(["language", "zh"])
    return write_book(tmp_path / "zh.xlsx", small)


def test_udf_errors_in_the_workbooks_language(chinese_book: Path) -> None:
    with use_book(chinese_book):
        assert AI_TIER("a", "yes") == '#AI! as_label 必须是 TRUE、FALSE、1 或 0，而不是 "yes"'
        answer = AI_SUBINDEX("#DIV/0!", "x1")
    assert answer == "#AI! city 是错误值 #DIV/0! [ is the error value #DIV/0!]"
    assert error_code(answer) == "#DIV/0!"   # what the VBA turns it into


def test_ai_why_in_the_workbooks_language(chinese_book: Path) -> None:
    ERRORS.clear()
    cell = excel_cell(chinese_book, "Data", "$H$2")
    answer = AI_SUBINDEX("#REF!", "x1", caller=cell)
    assert error_code(answer) == "#REF!"
    why = SimpleNamespace(sheet=cell.sheet, address="$H$2")
    assert AI_WHY(why) == "city 是错误值 #REF!"


def test_validate_macro_says_it_in_chinese(chinese_book: Path) -> None:
    book = HeadlessBook(chinese_book)
    validate_inputs(book)
    assert book.messages == [("info", "没有发现问题")]


def test_unknown_name_in_chinese_is_still_na(chinese_book: Path) -> None:
    """A Chinese "unknown" answer keeps the English tag the VBA turns into #N/A; AI_WHY shows
    the Chinese reason alone."""
    from udfs import AI_INDEX

    ERRORS.clear()
    cell = excel_cell(chinese_book, "Data", "$H$3")
    answer = AI_INDEX("Alphx", caller=cell)
    assert answer == '#AI! unknown 未知的城市“Alphx”——是否指 Alpha？'
    assert error_code(answer) == "#N/A"
    assert AI_WHY(SimpleNamespace(sheet=cell.sheet, address="$H$3")) == \
        '未知的城市“Alphx”——是否指 Alpha？'


def test_examples_sheet_checks_ai_why_in_the_workbooks_language(chinese_book: Path) -> None:
    """The Examples row of AI_WHY tests the reason's start in the language the workbook
    answers in (a Chinese reason has no ASCII quote to cut at)."""
    from xl_aiindex.i18n import use_language
    from xl_aiindex.workbook.io import compute, load_workbook
    from xl_aiindex.workbook.xlsm import examples

    with use_language(None):
        rows = examples(compute(load_workbook(chinese_book)), None)
    why = next(r for r in rows if r.formula.startswith("=AI_WHY("))
    assert why.value == "未知的城市“Pekin”——是否指 Epsilon？"
    assert why.test == '=LEFT({c},5)="未知的城市"'
