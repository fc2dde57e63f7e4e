"""Input as Chinese analysts type it (issue 22, §2–3), read from workbooks: missing-value
markers, 正向/负向 and percentages in Framework, mixed scales, likely unit errors, aliases, the
unit word, and an empty Data sheet told in one line."""

from __future__ import annotations

import pytest
from conftest import run, write_book

from xl_aiindex.workbook.io import compute, load_workbook


def _result(path):
    return compute(load_workbook(path))


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)


def _setting(small, key, value):
    rows = small["Settings"]
    for row in rows:
        if row[0] == key:
            row[1] = value
            return
    rows.append([key, value])


def test_missing_markers_are_read_as_missing_with_one_note(tmp_path, small):
    _setting(small, "missing", "mean")
    for (row, col), marker in zip([(1, 1), (2, 2), (3, 3), (4, 4), (5, 1), (1, 2), (3, 4)],
                                  ["—", "暂无", "N/A", "NA", "#N/A", "n/a", "…"], strict=True):
        small["Data"][row][col] = marker
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("validate", book)
    assert r.exit_code == 0, r.output
    assert ("note: Sheet 'Data': 7 cell(s) read as missing values (—, n/a, 暂无, N/A, …, NA, "
            "#N/A): B2, C2, C3, D4, E4, E5, B6; Settings missing_markers sets which texts mean "
            "missing") in r.output.splitlines()
    # imputed as missing values are: x1's a (B2) and e (B6) get the mean of b, c, d
    imputed = _result(book).stages["prepared"]
    assert imputed.at["a", "x1"] == pytest.approx((20 + 30 + 40) / 3)
    assert imputed.at["e", "x1"] == pytest.approx((20 + 30 + 40) / 3)


def test_missing_markers_setting_changes_the_list(tmp_path, small):
    _setting(small, "missing", "mean")
    _setting(small, "missing_markers", "缺失；ND")
    small["Data"][1][1] = "缺失"
    small["Data"][2][2] = "—"        # no longer a marker: text that is not a number
    r = run("validate", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 1
    assert r.output.splitlines()[1:] == [
        "Sheet 'Data', cell C3: unit b, indicator x2: text '—' is not a number"]


def test_a_unit_whose_id_is_na_is_not_a_missing_value(tmp_path, small):
    small["Units"].append(["NA", "纳米比亚", "Namibia", "south", 60])
    small["Data"].append(["NA", 60, 0, 6, 600])
    small["Data"][3][1] = "NA"      # unit c's x1: a marker, read as missing
    _setting(small, "missing", "mean")
    r = run("validate", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 0, r.output
    assert "(6 units" in r.output
    assert "Sheet 'Data': 1 cell(s) read as missing values (NA): B4" in r.output


def test_direction_words_and_percent_weights_in_framework_compute_as_numbers(tmp_path, small):
    plain = _result(write_book(tmp_path / "plain.xlsx", small))
    fw = small["Framework"]
    fw[4][5], fw[5][5], fw[6][5], fw[7][5] = "正向", "负向", "正", "正指标"
    fw[2][4], fw[3][4] = "60%", "４０％"
    fw[5][5] = "逆向"
    words = _result(write_book(tmp_path / "words.xlsx", small))
    assert words.total.tolist() == pytest.approx(plain.total.tolist())
    assert [n.direction for n in words.model.nodes][3:] == [1, -1, 1, 1]
    assert [n.weight for n in words.model.nodes][1:3] == pytest.approx([0.6, 0.4])
    fw[5][5] = "反"
    r = run("validate", write_book(tmp_path / "bad.xlsx", small))
    assert r.exit_code == 1
    assert "cell F6: node x2: direction: text '反' is not a number" in r.output


def test_a_percentage_among_values_on_the_points_scale_is_a_problem(tmp_path, small):
    small["Data"][3][1] = "３２％"    # unit c, x1: 0.32 among 10, 20, 40, 50
    r = run("validate", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 1
    assert r.output.splitlines()[1:] == [
        "Sheet 'Data', cell B4: unit c (丙), indicator x1 (指标一): '３２％' is read as the share "
        "0.32, but the indicator's other values are like 30 (their median): type 32 as they are "
        "typed, or write every value of the indicator as a percentage"]
    # every value a percentage: one scale, no problem
    for row in range(1, 6):
        small["Data"][row][1] = f"{row * 10}%"
    assert run("validate", write_book(tmp_path / "c.xlsx", small)).exit_code == 0


def test_a_value_100_times_away_from_the_median_is_a_note_naming_unit_indicator_and_cell(
        tmp_path, small):
    small["Data"][5][4] = 50000       # unit e, x4: 500 typed ×100 among 100…400
    r = run("recalc", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 0, r.output
    assert ("note: Sheet 'Data', cell E6: unit e (戊), indicator x4 (指标四): 50000 is 167 times "
            "the median of the indicator's values (300), while the others are not: a unit error "
            "(×100, 万 for 元, a percentage for a share)? check the cell") in r.output.splitlines()
    r = run("audit", tmp_path / "b.xlsx")
    # x4 is skewed by it, too: the skew warning names the value far out
    assert ", far out: e (戊) 50000 [Data!E6] (not treated" in r.output


def test_aliases_find_units_and_a_shared_alias_names_both_rows(tmp_path, small):
    small["Units"][0].append("aliases")
    for row, alias in zip(range(1, 6), ["甲城；A-town", "", "", "", ""], strict=True):
        small["Units"][row].append(alias)
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("explain", book, "A-town")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("甲 (a)")
    small["Units"][4][5] = "甲城"      # unit d claims a's alias
    r = run("validate", write_book(tmp_path / "c.xlsx", small))
    assert r.exit_code == 1
    assert r.output.splitlines()[1:] == [
        "Sheet 'Units', cell F5: unit d: alias '甲城' is also the aliases of unit a (row 2): an "
        "alias must name one unit; remove it from one of the two rows (5 and 2)"]


def test_the_unit_word_is_used_in_messages_and_the_report(tmp_path, small):
    _setting(small, "unit_label", "省份/province")
    _setting(small, "compare", "甲／乙")
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("explain", book, "Omega")
    assert r.exit_code == 2
    assert r.output.startswith('Error: unknown province "Omega"')
    r = run("report", book, "-o", tmp_path / "r.html")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "省份对比" in html and "城市对比" not in html


def test_an_empty_data_sheet_is_one_summary_line(tmp_path, small):
    for row in small["Data"][1:]:
        row[1:] = [None] * 4
    r = run("validate", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 1
    assert r.output == (
        "20 problems found:\n"
        "Sheet 'Data': 20 empty cells: fill in 5 units × 4 indicators (B2 to E6), or set 'missing' "
        "to reweight or an imputation method (mean, median, group_mean:COLUMN…)\n")


def test_an_indicator_with_one_value_for_every_unit_says_what_to_do(tmp_path, small):
    for row in small["Data"][1:]:
        row[3] = 7
    r = run("validate", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 1
    assert r.output.splitlines()[1] == (
        "Sheet 'Data', cell D1: indicator x3 (指标三) has zero spread (every present value is "
        "the same) under minmax normalisation: it tells no units apart, so remove it (from "
        "Framework and Data), or give it goalposts (normalisation goalposts, with goal_low and "
        "goal_high in Framework)")
