"""Messages in Chinese: the language comes from --lang, else the workbook's Settings
``language``, else the locale, else English; exact Chinese text of real failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Sheets, run, write_book

BROKEN_ZH = ("发现 2 个问题：\n"
             "工作表 'Framework'，单元格 E3：节点 d1：weight：文本 'x' 不是数字\n"
             "工作表 'Data'，单元格 B2：单元 a，指标 x1：文本 'abc' 不是数字\n")
BROKEN_EN = ("2 problems found:\n"
             "Sheet 'Framework', cell E3: node d1: weight: text 'x' is not a number\n"
             "Sheet 'Data', cell B2: unit a, indicator x1: text 'abc' is not a number\n")


@pytest.fixture
def broken(tmp_path: Path, small: Sheets) -> Path:
    """The small index with a weight and a Data value that are not numbers."""
    small["Data"][1][1] = "abc"
    small["Framework"][2][4] = "x"
    return write_book(tmp_path / "broken.xlsx", small)


def _with_language(small: Sheets, language: str) -> Sheets:
    small["Settings"].append(["language", language])
    return small


def test_chinese_locale_gives_chinese_problems(broken: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """``LANG=zh_CN.UTF-8 xl-aiindex validate broken.xlsx``: exit 1, every line in Chinese."""
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    r = run("validate", broken)
    assert (r.exit_code, r.output) == (1, BROKEN_ZH)


def test_english_is_the_default(broken: Path) -> None:
    r = run("validate", broken)
    assert (r.exit_code, r.output) == (1, BROKEN_EN)


@pytest.mark.parametrize("args", [("--lang", "zh", "validate"), ("--lang=zh", "validate"),
                                  ("validate", "--lang", "zh")])
def test_lang_option_overrides_the_locale(broken: Path, monkeypatch: pytest.MonkeyPatch,
                                          args: tuple[str, ...]) -> None:
    """``--lang zh`` wins over ``LANG=en_US.UTF-8``, before or after the command's name."""
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    r = run(*args, broken)
    assert (r.exit_code, r.output) == (1, BROKEN_ZH)


def test_lang_en_overrides_a_chinese_locale(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    r = run("--lang", "en", "validate", broken)
    assert (r.exit_code, r.output) == (1, BROKEN_EN)


def test_settings_language_gives_chinese_output(tmp_path: Path, small: Sheets) -> None:
    """Settings ``language = zh`` (no --lang, an English locale): the terminal is Chinese."""
    small["Data"][1][1] = "abc"
    book = write_book(tmp_path / "zh.xlsx", _with_language(small, "zh"))
    r = run("validate", book)
    assert (r.exit_code, r.output) == (
        1, "发现 1 个问题：\n工作表 'Data'，单元格 B2：单元 a，指标 x1：文本 'abc' 不是数字\n")


def test_lang_en_overrides_settings_language(tmp_path: Path, small: Sheets) -> None:
    small["Data"][1][1] = "abc"
    book = write_book(tmp_path / "zh.xlsx", _with_language(small, "中文"))
    r = run("--lang", "en", "validate", book)
    assert (r.exit_code, r.output) == (
        1, "1 problem found:\nSheet 'Data', cell B2: unit a, indicator x1: text 'abc' is not "
           "a number\n")


def test_settings_language_gives_a_chinese_problems_sheet(tmp_path: Path, small: Sheets) -> None:
    """The Validate macro writes the problems in the workbook's language (column names, the
    contract's keys, stay)."""
    import openpyxl

    from udfs import HeadlessBook, validate_inputs

    small["Data"][1][1] = "abc"
    path = write_book(tmp_path / "zh.xlsx", _with_language(small, "zh"))
    book = HeadlessBook(path)
    assert validate_inputs(book) is None
    rows = [list(r) for r in openpyxl.load_workbook(path)["Problems"].iter_rows(values_only=True)]
    assert rows == [["sheet", "cell", "unit", "node", "problem"],
                    ["Data", "B2", "", "", "单元 a，指标 x1：文本 'abc' 不是数字"]]


def test_english_workbook_after_a_chinese_one(tmp_path: Path, small: Sheets) -> None:
    """A workbook's language lasts for that workbook: the next one without the key is read in
    the locale's language (a library caller reads many)."""
    from xl_aiindex import api
    from xl_aiindex.errors import ProblemsFound

    small["Data"][1][1] = "abc"
    zh = write_book(tmp_path / "zh.xlsx", _with_language(small, "zh"))
    small["Settings"].pop()
    en = write_book(tmp_path / "en.xlsx", small)
    for path, expected in ((zh, "单元 a，指标 x1：文本 'abc' 不是数字"),
                           (en, "unit a, indicator x1: text 'abc' is not a number")):
        with pytest.raises(ProblemsFound) as e:
            api.validate(path)
        assert e.value.problems[0].problem == expected


def test_bad_settings_language_is_a_problem(tmp_path: Path, small: Sheets) -> None:
    book = write_book(tmp_path / "bad.xlsx", _with_language(small, "klingon"))
    r = run("validate", book)
    assert (r.exit_code, r.output) == (
        1, "1 problem found:\nSheet 'Settings', cell B11: setting 'language': unknown language "
           "'klingon'; choose zh (Chinese) or en (English)\n")


def test_help_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--help`` follows --lang, else the locale; English again afterwards."""
    r = run("--lang", "zh", "validate", "--help")
    assert r.exit_code == 0
    assert "检查 BOOK 的输入和计算，不写入任何内容；列出每一个问题。" in r.output
    assert "出错时显示回溯信息（traceback）。" in r.output
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert "  validate          检查 BOOK 的输入和计算，不写入任何内容\n" in run("--help").output
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert "Check BOOK's inputs and computation" in run("validate", "--help").output


def test_bad_lang_value_is_refused() -> None:
    r = run("--lang", "fr", "validate", "x.xlsx")
    assert r.exit_code == 2 and "'fr' is not one of 'zh', 'en'" in r.output


def test_batch_workers_answer_in_the_chosen_language(broken: Path, tmp_path: Path) -> None:
    """``--lang`` reaches the worker processes of a batch."""
    second = tmp_path / "second.xlsx"
    second.write_bytes(broken.read_bytes())
    r = run("--lang", "zh", "validate", broken, second, "--jobs", "2", "--quiet")
    assert r.exit_code == 1
    assert "工作表 'Data'，单元格 B2：单元 a，指标 x1：文本 'abc' 不是数字" in r.output
    assert "Sheet '" not in r.output


def test_click_texts_in_chinese() -> None:
    """click's own headings and usage errors follow --lang too, and are click's again after."""
    r = run("--lang", "zh", "validate")
    assert r.exit_code == 2 and r.output.endswith("错误：缺少参数 'BOOK...'.\n")
    assert "选项:\n" in run("--lang", "zh", "validate", "--help").output
    r = run("validate")
    assert r.exit_code == 2 and r.output.endswith("Error: Missing argument 'BOOK...'.\n")
