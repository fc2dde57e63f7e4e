"""Rankings within the groups of Units' grouping columns: GroupRanking and AI_RANK(city, group)."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_book

from udfs import AI_RANK, use_book
from udfs.cache import CACHE
from xl_aiindex import IndexModel, Node, Settings, build_index
from xl_aiindex.cli import cli
from xl_aiindex.groups import group_ranking, group_ranks, grouping_columns

NODES = (Node("index", None), Node("x", "index", weight=1.0))


def result(values, columns, **settings):
    """A one-indicator index: min-max of ``values`` is the total (0..100)."""
    ids = [f"u{i + 1}" for i in range(len(values))]
    units = pd.DataFrame({"name_zh": ids, "name_en": ids, **columns}, index=ids)
    data = pd.DataFrame({"x": values}, index=ids, dtype=float)
    return build_index(IndexModel(NODES, Settings(**settings), units, data))


def test_grouping_columns_are_the_text_columns():
    units = pd.DataFrame({"name_zh": ["a"], "name_en": ["A"], "region": ["n"],
                          "population": [3.0], "code": [7], "tier": ["1线"], "empty": [None]})
    assert grouping_columns(units) == ["region", "tier"]


def test_group_ranks_by_hand():
    # totals (min-max of 0, 10, 20, 30, 40, 50): 0, 20, 40, 60, 80, 100
    r = result([0, 10, 20, 30, 40, 50],
               {"region": ["n", "s", "n", "s", "s", None], "size": ["big", "big", "small", "big",
                                                                    "small", "small"]})
    table = group_ranking(r)
    assert table.columns.tolist() == ["grouping", "group", "rank", "unit", "name_zh", "name_en",
                                      "score"]
    # region n: u3 (40) 1, u1 (0) 2; s: u5 (80) 1, u4 (60) 2, u2 (20) 3; u6 has no region
    # size big: u4 (60) 1, u2 (20) 2, u1 (0) 3; small: u6 (100) 1, u5 (80) 2, u3 (40) 3
    assert table[["grouping", "group", "rank", "unit", "score"]].values.tolist() == [
        ["region", "n", 1, "u3", 40.0], ["region", "n", 2, "u1", 0.0],
        ["region", "s", 1, "u5", 80.0], ["region", "s", 2, "u4", 60.0],
        ["region", "s", 3, "u2", 20.0],
        ["size", "big", 1, "u4", 60.0], ["size", "big", 2, "u2", 20.0],
        ["size", "big", 3, "u1", 0.0],
        ["size", "small", 1, "u6", 100.0], ["size", "small", 2, "u5", 80.0],
        ["size", "small", 3, "u3", 40.0]]


def test_ties_share_the_better_rank_within_a_group_and_rank_decimals_apply():
    # totals 0, 50.04, 50.0, 100: at 1 decimal 50.04 and 50.0 tie
    r = result([0, 50.04, 50.0, 100], {"region": ["a", "a", "a", "b"]}, rank_decimals=1)
    assert group_ranks(r, "region").tolist() == [3.0, 1.0, 1.0, 1.0]
    r = result([0, 50.04, 50.0, 100], {"region": ["a", "a", "a", "b"]})
    assert group_ranks(r, "region").tolist() == [3.0, 1.0, 2.0, 1.0]


def test_units_not_ranked_overall_are_not_ranked_in_their_group():
    r = result([0, 10, np.nan, 30], {"region": ["a", "a", "a", "a"]}, missing="reweight")
    assert group_ranks(r, "region").tolist()[:2] == [3.0, 2.0]
    assert np.isnan(group_ranks(r, "region")["u3"])
    assert group_ranking(r)["unit"].tolist() == ["u4", "u2", "u1"]


def test_no_grouping_column_no_table():
    assert group_ranking(result([1, 2], {})).empty


def test_recalc_writes_group_ranking_and_ai_rank_reads_it(tmp_path, small):
    book = write_book(tmp_path / "g.xlsx", small)
    r = CliRunner().invoke(cli, ["recalc", str(book)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rows = list(openpyxl.load_workbook(book)["GroupRanking"].iter_rows(values_only=True))
    # small totals: a 0, b 32.5, c 42.5, d 75, e 100; north a, b; south c, d, e
    assert rows == [
        ("grouping", "group", "rank", "unit", "name_zh", "name_en", "score"),
        ("region", "north", 1, "b", "乙", "Beta", 32.5),
        ("region", "north", 2, "a", "甲", "Alpha", 0),
        ("region", "south", 1, "e", "戊", "Epsilon", 100),
        ("region", "south", 2, "d", "丁", "Delta", 75),
        ("region", "south", 3, "c", "丙", "Gamma", 42.5)]
    CACHE.invalidate()
    with use_book(book):
        assert AI_RANK("Gamma") == 3
        assert AI_RANK("Gamma", "region") == 3
        assert AI_RANK("乙", " REGION ") == 1
        assert AI_RANK("a", "region") == 2
        assert AI_RANK("a", "") == 5
        assert AI_RANK("a", "population") == ('#AI! group "population" is not a grouping column '
                                              'of Units; grouping columns: region')
        assert AI_RANK("a", [["region", "x"]]) == "#AI! group must be one cell, not a range of 2 cells"


@pytest.mark.parametrize("blank", [None, "  "])
def test_ai_rank_of_a_unit_without_a_group(tmp_path, small, blank):
    small["Units"][1][3] = blank
    book = write_book(tmp_path / "g.xlsx", small)
    CACHE.invalidate()
    with use_book(book):
        assert AI_RANK("a", "region") == "#AI! a has no region in Units: it is in no group of that column"
        assert AI_RANK("b", "region") == 1


def test_group_ranks_are_rank_units_within_each_group():
    # group_ranks ranks every group in one call: the ranks must be those rank_units gives each
    # group on its own (rounded ties, units not ranked overall, blank and padded group names)
    from xl_aiindex.rank import rank_units

    rng = np.random.default_rng(7)
    values = rng.integers(0, 6, size=40).astype(float) + rng.choice([0.0, 0.004, 0.006], 40)
    region = list(rng.choice(["n", " n ", "s", "", None, "w"], size=40))
    for decimals in (None, 0):
        r = result(list(values), {"region": region}, rank_decimals=decimals)
        got = group_ranks(r, "region")
        keys = pd.Series([None if v is None or not str(v).strip() else str(v).strip()
                          for v in region], index=r.total.index)
        eligible = r.rank.notna()
        for key in keys.dropna().unique():
            members = keys.index[keys == key]
            expected = rank_units(r.total[members], decimals, eligible[members])
            assert got[members].tolist() == pytest.approx(expected.tolist(), nan_ok=True)
        assert got[keys.isna()].isna().all()
        assert got.notna().sum() == eligible[keys.notna()].sum()
