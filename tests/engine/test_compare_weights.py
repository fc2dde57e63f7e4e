"""``xl-aiindex weights``: each method's column equals the engine's own weighting for that method,
and the rank moves are checked by hand."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest
from conftest import REPO, run, write_book

from xl_aiindex import IndexModel, Node, ProblemsFound, Settings, build_index
from xl_aiindex.compare_weights import compare_weights, method_weights
from xl_aiindex.tree import IndicatorTree
from xl_aiindex.workbook.io import compute, load_workbook

DATA_BOOK = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"


def engine_weights(result, node: str, method: str) -> pd.Series:
    """WeightsUsed of ``node`` when the engine itself builds the index with that weighting."""
    model = result.model
    nodes = tuple(replace(n, weighting=method) if n.id == node else n for n in model.nodes)
    used = build_index(model._replace(nodes=nodes)).weights_used
    rows = used[used["node"] == node]
    assert set(rows["method"]) == {method}
    return rows.set_index("child")["weight"]


def check_columns(result, node: str) -> list[str]:
    """Each column of ``node``'s group against the engine built with that weighting; the
    methods checked (one that cannot weight must fail in the engine too)."""
    (group,) = compare_weights(result, node)
    for m in group.methods:
        if m.weights is None:
            with pytest.raises(ProblemsFound):
                engine_weights(result, node, m.method)
            continue
        expected = engine_weights(result, node, m.method)
        assert m.weights.index.tolist() == expected.index.tolist()
        assert m.weights.tolist() == pytest.approx(expected.tolist(), abs=1e-12), m.method
        assert m.weights.sum() == pytest.approx(1.0)
    return [m.method for m in group.methods]


def test_every_column_is_the_engines_weighting_on_the_2020_data_workbook():
    result = compute(load_workbook(DATA_BOOK))
    methods = ["given", "equal", "entropy", "critic", "sd", "pca"]
    assert check_columns(result, "index") == methods
    assert check_columns(result, "research_output") == methods
    # every other group, cheaply: the engine with every group of 2+ children weighted by one
    # method at once, against method_weights on that same result (a group's column depends on
    # its children's scores only, which its own weighting does not change)
    tree = IndicatorTree(result.model.nodes)
    groups = [g for g in tree.pre_order if len(tree.children[g]) >= 2]
    assert len(groups) == 12
    for method in methods[1:]:
        nodes = tuple(replace(n, weighting=method) if n.id in groups else n
                      for n in result.model.nodes)
        other = build_index(result.model._replace(nodes=nodes))
        used = other.weights_used
        for g in groups:
            expected = used[used["node"] == g].set_index("child")["weight"]
            assert method_weights(other, g, method).tolist() == pytest.approx(
                expected.tolist(), abs=1e-12), (g, method)
    used = result.weights_used
    for g in groups:
        assert method_weights(result, g, "given").tolist() == pytest.approx(
            used[used["node"] == g]["weight"].tolist(), abs=1e-15)


def test_ahp_and_budget_columns_where_their_sheets_exist(tmp_path, small):
    small["AHP_index"] = [["", "d1", "d2"], ["d1", 1, 3], ["d2", 1 / 3, 1]]
    small["Budget_d2"] = [["expert", "x3", "x4"], ["e1", 50, 50], ["e2", 10, 30]]
    result = compute(load_workbook(write_book(tmp_path / "w.xlsx", small)))
    assert check_columns(result, "index") == [
        "given", "equal", "entropy", "critic", "sd", "pca", "ahp"]
    assert check_columns(result, "d2") == [
        "given", "equal", "entropy", "critic", "sd", "pca", "budget"]
    # d1's x1 and x2 are perfectly correlated: CRITIC has no information to weight them by
    assert check_columns(result, "d1")[-1] == "pca"
    groups = {g.node: g for g in compare_weights(result)}
    assert groups["d1"].methods[3].error == ("critic gives no usable weights (CRITIC "
                                             "information sum to 0)")
    # by hand: AHP (3, 1)/4; budget mean shares (.375, .625)
    assert groups["index"].methods[-1].weights.tolist() == pytest.approx([0.75, 0.25])
    assert groups["d2"].methods[-1].weights.tolist() == pytest.approx([0.375, 0.625])


def test_rank_moves_by_hand():
    nodes = (Node("index", None), Node("a", "index", weight=0.7), Node("b", "index", weight=0.3))
    units = pd.DataFrame({"name_zh": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"]},
                         index=["u1", "u2", "u3"])
    data = pd.DataFrame({"a": [0.0, 50, 100], "b": [100.0, 0, 60]}, index=units.index)
    # given .7/.3: u1 30, u2 35, u3 88 → ranks 3, 2, 1; equal: 50, 25, 80 → ranks 2, 3, 1
    group = compare_weights(build_index(IndexModel(nodes, Settings(), units, data)))[0]
    given, equal = group.methods[0], group.methods[1]
    assert group.current == "given" and given.units_moved == 0
    assert equal.moves.tolist() == [-1.0, 1.0, 0.0]
    assert (equal.units_moved, equal.largest_move) == (2, 1)


def test_a_method_that_cannot_weight_says_why(tmp_path, small):
    small["Settings"][3][1] = "zscore"     # negative scores: entropy cannot weight them
    result = compute(load_workbook(write_book(tmp_path / "z.xlsx", small)))
    entropy = next(m for m in compare_weights(result, "d1")[0].methods if m.method == "entropy")
    assert entropy.weights is None
    assert entropy.error == ("entropy needs non-negative scores (entropy weighting); use a "
                             "normalisation whose range starts at 0 or above")


def test_weights_command_exact_output(small_book):
    r = run("weights", small_book, "--node", "维度二")
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"Weights by method for {small_book} (* = the current choice; moves: units whose rank "
        "changes if this group alone is weighted so)\n"
        "\n"
        "d2 (维度二): 2 children\n"
        "  child         given*  equal  entropy  critic     sd    pca\n"
        "  x3             0.250  0.500    0.500   0.500  0.500  0.500\n"
        "  x4             0.750  0.500    0.500   0.500  0.500  0.500\n"
        "  units moved        0      0        0       0      0      0\n"
        "  largest move       0      0        0       0      0      0\n")


def test_weights_command_prints_every_method_on_the_2020_data_workbook():
    r = run("weights", DATA_BOOK, "--node", "index")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[2] == "index (中国城市人工智能发展指数): 5 children"
    assert lines[3].split() == ["child", "given*", "equal", "entropy", "critic", "sd", "pca"]
    assert [line.split()[0] for line in lines[4:9]] == ["environment", "funding", "rnd",
                                                       "infrastructure", "outcomes"]
    assert lines[4].split()[1:3] == ["0.150", "0.200"]


def test_weights_json(small_book):
    r = run("weights", small_book, "--json", "--node", "index")
    assert r.exit_code == 0
    data = json.loads(r.output)
    group = data["groups"][0]
    assert (group["node"], group["children"], group["current"]) == ("index", ["d1", "d2"], "given")
    assert group["methods"]["given"] == {"weights": {"d1": 0.6, "d2": 0.4}, "units_moved": 0,
                                         "largest_move": 0, "rank_moves": {}}
    assert group["methods"]["equal"]["weights"] == {"d1": 0.5, "d2": 0.5}


def test_weights_of_an_indicator_or_below_given_is_an_error(small_book):
    r = run("weights", small_book, "--node", "x1")
    assert r.exit_code == 1
    assert r.output == "Error: node x1 (指标一) is an indicator: it has no children to weight\n"
    r = run("weights", REPO / "workbooks" / "city_ai_index_2020.xlsx", "--node", "rnd")
    assert r.exit_code == 1
    assert r.output == ("Error: node rnd (研发能力): its children have no scores (not available "
                        "with input = given below the Given sheet's nodes)\n")
