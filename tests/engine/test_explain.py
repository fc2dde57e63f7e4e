"""Explaining a unit's score, checked against the published table by hand."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from xl_aiindex import load_workbook
from xl_aiindex.cli import cli
from xl_aiindex.explain import explain
from xl_aiindex.lookup import NameIndex
from xl_aiindex.pipeline import build_index

REPO = Path(__file__).resolve().parents[2]
GIVEN = REPO / "workbooks" / "city_ai_index_2020.xlsx"
DATA = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"


def test_contributions_sum_to_the_score_and_match_the_published_table():
    result = build_index(load_workbook(GIVEN).model)
    table = explain(result, "nanjing").set_index("node")
    # Nanjing's published first-level scores and the 2020 weights, by hand:
    # 0.15·84.95 + 0.20·60.09 + 0.25·84.85 + 0.20·82.76 + 0.20·85.14
    # = 12.7425 + 12.018 + 21.2125 + 16.552 + 17.028 = 79.553
    assert table.loc["funding", "contribution"] == pytest.approx(0.20 * 60.09)
    assert table.loc["index", "score"] == pytest.approx(79.553)
    assert table.drop("index")["contribution"].sum() == pytest.approx(79.553)
    # funding: Beijing's 92.68 is the best, Nanjing is 6th of 30
    assert table.loc["funding", "gap_to_best"] == pytest.approx(92.68 - 60.09)
    assert table.loc["funding", "rank"] == 6 and table.loc["funding", "of"] == 30


def test_depth_goes_down_the_tree_in_data_mode():
    result = build_index(load_workbook(DATA).model)
    table = explain(result, "nanjing", "rnd", depth=2)
    assert table["node"].tolist() == ["rnd", "talent", "I08", "I09", "research_output", "I10",
                                      "I11", "I12"]
    talent = table.set_index("node").loc[["I08", "I09"], "contribution"].sum()
    assert talent == pytest.approx(table.set_index("node").loc["talent", "score"])


def test_names_are_found_in_any_script():
    model = load_workbook(GIVEN).model
    units = NameIndex.of(model, "unit")
    assert units.find("南京") == units.find(" NANJING ") == units.find("ｎａｎｊｉｎｇ") == "nanjing"
    assert NameIndex.of(model, "node").find("研发能力") == "rnd"


def test_cli_output_and_errors():
    r = CliRunner().invoke(cli, ["explain", str(GIVEN), "南京"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == f"南京 (nanjing) in {GIVEN}: index 79.55, rank 5 of 30, 第一梯队"
    assert lines[-1] == ("Largest loss: funding (资金支持力度): weight 0.200 × gap 32.59 = 6.52 "
                         "points of index")
    r = CliRunner().invoke(cli, ["explain", str(GIVEN), "Pekin"])
    assert (r.exit_code, r.output) == (
        2, 'Error: unknown city "Pekin" — did you mean Beijing or Kunming?\n')
    r = CliRunner().invoke(cli, ["explain", str(GIVEN), "beijing", "--node", "talent"])
    assert r.exit_code == 1
    assert "not available with input = given" in r.output
