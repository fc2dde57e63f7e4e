"""Names and settings as Chinese analysts write them (issue 22, §2–3), engine side: units found
without their administrative suffix or by an alias, the unit word, full-width separators in
Settings, values on another scale, and a long list of one kind of problem told in one line."""

from __future__ import annotations

import pandas as pd
import pytest

from xl_aiindex.errors import MISSING_VALUE, AmbiguousName, Problem, UnknownName
from xl_aiindex.i18n import use_language
from xl_aiindex.lookup import NameIndex
from xl_aiindex.model import IndexModel, Node, Settings
from xl_aiindex.problem_groups import grouped_lines
from xl_aiindex.scale import scale_outliers
from xl_aiindex.settings import parse_settings, unit_word, unit_words

PROVINCES = [
    ("zhejiang", "浙江省", "Zhejiang", ""), ("neimenggu", "内蒙古自治区", "Inner Mongolia", ""),
    ("guangxi", "广西壮族自治区", "Guangxi", ""), ("xizang", "西藏自治区", "Tibet", ""),
    ("ningxia", "宁夏回族自治区", "Ningxia", ""), ("xinjiang", "新疆维吾尔自治区", "Xinjiang", ""),
    ("hongkong", "香港特别行政区", "Hong Kong", ""), ("macao", "澳门特别行政区", "Macao", ""),
    ("beijing", "北京市", "Beijing", "京; Peking；北平"), ("xilingol", "锡林郭勒盟", "Xilin Gol", ""),
    ("daxinganling", "大兴安岭地区", "Da Hinggan Ling", ""), ("enshi", "恩施土家族苗族自治州", "Enshi", ""),
    ("guangzhou", "广州市", "Guangzhou", ""),
]


def _model(rows=PROVINCES, **settings) -> IndexModel:
    units = pd.DataFrame([r[1:] for r in rows], columns=["name_zh", "name_en", "aliases"],
                         index=pd.Index([r[0] for r in rows], dtype=object))
    return IndexModel((Node("r", None), Node("x", "r", weight=1.0)), Settings(**settings), units)


@pytest.mark.parametrize(("typed", "unit"), [
    ("浙江", "zhejiang"), ("内蒙古", "neimenggu"), ("广西", "guangxi"), ("西藏", "xizang"),
    ("宁夏", "ningxia"), ("新疆", "xinjiang"), ("香港", "hongkong"), ("澳门", "macao"),
    ("北京", "beijing"), ("锡林郭勒", "xilingol"), ("大兴安岭", "daxinganling"), ("恩施", "enshi"),
    ("广州", "guangzhou"), ("浙江省", "zhejiang"), (" 廣西 ", "guangxi"),
    # aliases, separated by ; or ；
    ("京", "beijing"), ("peking", "beijing"), ("北平", "beijing"),
])
def test_a_unit_is_found_without_its_administrative_suffix_or_by_an_alias(typed, unit):
    assert NameIndex.of(_model(), "unit").find(typed) == unit


def test_a_name_two_units_share_without_their_suffix_is_ambiguous():
    index = NameIndex.of(_model([("jilin", "吉林省", "Jilin", ""),
                                 ("jilin_city", "吉林市", "Jilin City", ""),
                                 ("changchun", "长春市", "Changchun", "")]), "unit")
    with use_language("en"), pytest.raises(AmbiguousName) as e:
        index.find("吉林")
    assert str(e.value) == (
        'ambiguous city "吉林": it could be jilin (name_zh \'吉林省\' without its suffix) or '
        "jilin_city (name_zh '吉林市' without its suffix); use an id or a name only one of them "
        "has, or rename one in Units so that names and ids do not collide")
    assert index.find("吉林省") == "jilin" and index.find("吉林市") == "jilin_city"
    assert index.find("长春") == "changchun"


def test_the_unit_word_comes_from_settings_unit_label():
    with use_language("en"):
        with pytest.raises(UnknownName, match='^unknown 省份 "浙" — did you mean 浙江省'):
            NameIndex.of(_model(unit_label="省份"), "unit").find("浙")
        with pytest.raises(UnknownName, match='^unknown province "Zhe"'):
            NameIndex.of(_model(unit_label="省份／province"), "unit").find("Zhe")
        with pytest.raises(UnknownName, match='^unknown city "Zhe"'):
            NameIndex.of(_model(), "unit").find("Zhe")
        assert unit_word(Settings(unit_label="省份/province")) == "province"
    with use_language("zh"):
        assert unit_word(Settings(unit_label="省份/province")) == "省份"
    assert unit_words(Settings()) == ("城市", "city")


def test_settings_lists_take_full_width_separators():
    s, problems, notes = parse_settings({
        "compare": "北京／上海；深圳/广州", "tiers": "rank：10，20", "tier_labels": "第一梯队；第二梯队、第三梯队",
        "minmax_range": "０，１００", "missing": "group_mean：region", "unit_label": "省份",
        "missing_markers": "—；暂无;缺失"})
    assert problems == [] and notes == []
    assert s.compare == (("北京", "上海"), ("深圳", "广州"))
    assert (s.tiers.kind, s.tiers.bounds, s.tiers.labels) == ("rank", (10.0, 20.0),
                                                               ("第一梯队", "第二梯队", "第三梯队"))
    assert s.minmax_range == (0.0, 100.0)
    assert s.missing == "group_mean:region"
    assert s.unit_label == "省份"
    assert s.missing_markers == ("—", "暂无", "缺失")
    # blank: the contract's defaults
    d, _, _ = parse_settings({})
    assert d.missing_markers == ("—", "-", "–", "…", "暂无", "无", "N/A", "NA", "#N/A", "n/a")
    assert d.unit_label == ""


def test_uncertainty_choices_take_full_width_separators_and_percentages():
    from xl_aiindex.uncertainty import parse_assumptions

    rows = [("normalisation", "choice", "minmax；zscore"), ("weights", "uniform", "２５％"),
            ("aggregation", "choice", "arithmetic，geometric")]
    assumptions, problems = parse_assumptions(rows)
    assert problems == []
    by_name = {a.name: a for a in assumptions}
    assert by_name["normalisation"].choices == ("minmax", "zscore")
    assert by_name["aggregation"].choices == ("arithmetic", "geometric")
    assert by_name["weights"].amount == pytest.approx(0.25)


def test_scale_outliers_flag_a_value_100_times_away_where_its_neighbours_are_not():
    values = pd.Series([30.0, 41, 35, 38, 28, 39, 33, 3700, 36, 0.0, 0.31],
                       index=[f"u{i}" for i in range(11)])
    found = scale_outliers(values)
    # median of the non-zero magnitudes: 35.5; 3700 is 104×, 0.31 is 1/115 of it; 0 is no typo
    assert [(u, v) for u, v, _r in found] == [("u10", 0.31), ("u7", 3700.0)]
    assert found[1][2] == pytest.approx(3700 / 35.5)
    # a wide spread (log-normal, many orders of magnitude) and values of both signs: nothing
    assert scale_outliers(pd.Series([3.0, 40, 500, 6_000, 70_000, 800_000])) == []
    assert scale_outliers(pd.Series([-2.0, 3, -1, 4, 0.001, 2])) == []
    # negatives count by their magnitude
    assert [u for u, _v, _r in scale_outliers(pd.Series([-30.0, -41, -35, -3800, -28]))] == [3]


def _missing(unit: str, node: str, cell: str) -> Problem:
    return Problem("Data", cell, unit, node, f"unit {unit} has no value for {node}: enter it",
                   node, kind=MISSING_VALUE)


def test_an_empty_data_sheet_is_one_line():
    units = [f"u{i:02d}" for i in range(31)]
    nodes = [f"i{j:02d}" for j in range(15)]
    problems = [_missing(u, n, f"{chr(66 + j)}{i + 2}") for j, n in enumerate(nodes)
                for i, u in enumerate(units)]
    other = Problem("Framework", "E3", "", "d1", "node d1 has weight -0.6: weights must be ≥ 0")
    with use_language("en"):
        lines = grouped_lines([other, *problems])
    assert lines == [
        "Sheet 'Framework', cell E3: node d1 has weight -0.6: weights must be ≥ 0",
        "Sheet 'Data': 465 empty cells: fill in 31 units × 15 indicators (B2 to P32), or set "
        "'missing' to reweight or an imputation method (mean, median, group_mean:COLUMN…)"]
    # some cells only: the count, how many units and indicators, the first cells
    with use_language("en"):
        assert grouped_lines(problems[:12] + problems[40:41]) == [
            "Sheet 'Data': 13 empty cells (12 units, 2 indicators; cells B2, B3, B4, B5, B6, B7, B8, "
            "B9, …): fill them in, or set 'missing' to reweight or an imputation method (mean, "
            "median, group_mean:COLUMN…)"]


def test_a_long_list_of_one_kind_is_grouped_and_a_short_one_is_not():
    def text(i: int) -> Problem:
        return Problem("Data", f"C{i + 2}", f"u{i}", "x2", f"unit u{i}, indicator x2: text "
                       f"'{i}abc' is not a number")

    short = [text(i) for i in range(10)]
    assert grouped_lines(short) == [str(p) for p in short]
    long = [text(i) for i in range(14)]
    with use_language("en"):
        assert grouped_lines(long) == [str(p) for p in long[:3]] + [
            "Sheet 'Data': … and 11 more like these (cells C5, C6, C7, C8, C9, C10, C11, C12, "
            "…; validate --json lists every one)"]


def test_a_long_list_of_notes_of_one_kind_is_grouped():
    from xl_aiindex.problem_groups import grouped_notes

    notes = [f"Sheet 'Framework', cell E{r}: text '20%' read as the number 0.2" for r in range(3, 18)]
    other = "Settings key 'foo' is not one xl-aiindex reads: ignored"
    with use_language("en"):
        assert grouped_notes([other, *notes]) == [other, *notes[:3],
                                                  "… and 12 more like these (cells E6, E7, E8, E9, "
                                                  "E10, E11, E12, E13, …)"]
        assert grouped_notes(notes[:10]) == notes[:10]


def test_scale_outliers_survive_values_at_the_ends_of_the_float_range():
    # a ratio that underflows to 0 or overflows is left out, never a division by zero
    assert scale_outliers(pd.Series([1.0, 2, 3, 4, 5e-324])) == []
    assert scale_outliers(pd.Series([1e-300, 2e-300, 3e-300, 4e-300, 1.7e308])) == []


def test_the_report_takes_the_chinese_part_of_a_bilingual_unit_label():
    from xl_aiindex.workbook.report_table import unit_word as report_word

    assert report_word(Settings(unit_label="省份／province")) == "省份"
    assert report_word(Settings(unit_label="省份")) == "省份"
    assert report_word(Settings()) == "单位"
