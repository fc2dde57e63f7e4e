"""Limits of the engine met by a hostile or just large workbook: a tree of any depth, a run too
large for memory, output too large to draw, values quoted as written, ambiguous names, and no
pandas warning reaching the output (issue 19, §3 and §4)."""

from __future__ import annotations

import copy
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SMALL, Sheets, write_book

from xl_aiindex.cli import cli
from xl_aiindex.errors import BadArgument
from xl_aiindex.explain import explain
from xl_aiindex.limits import MAX_BARS
from xl_aiindex.memory import memory_budget
from xl_aiindex.model import IndexModel, Node, Settings
from xl_aiindex.pipeline import build_index, check_model
from xl_aiindex.tree import IndicatorTree, build_tree
from xl_aiindex.uncertainty import (
    CHUNK_BYTES,
    check_run_size,
    largest_samples,
    parse_assumptions,
    run_memory,
    run_uncertainty,
)


def run(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


#: The small index's indicator x1 (10, 20, 30, 40, 50 for a…e) under min-max 0–100: by hand.
X1_NORMALISED = {"a": 0.0, "b": 25.0, "c": 50.0, "d": 75.0, "e": 100.0}


def chain_nodes(depth: int) -> list[Node]:
    """index → n1 → n2 → … → n{depth-1} → x1: ``depth`` levels below the root."""
    nodes = [Node("index", None)]
    for i in range(1, depth):
        nodes.append(Node(f"n{i}", "index" if i == 1 else f"n{i - 1}", weight=1.0))
    nodes.append(Node("x1", f"n{depth - 1}", weight=1.0))
    return nodes


def chain_sheets(depth: int) -> Sheets:
    """The small index with its tree replaced by a chain of single children ``depth`` deep."""
    sheets = copy.deepcopy(SMALL)
    sheets["Framework"] = [sheets["Framework"][0]] + [
        [n.id, n.parent, n.id, n.id, n.weight, 1 if n.id == "x1" else None, None]
        for n in chain_nodes(depth)]
    sheets["Data"] = [["unit", "x1"]] + [[row[0], row[1]] for row in SMALL["Data"][1:]]
    sheets["Uncertainty"] = [["assumption", "how", "values"], ["weights", "uniform", 0.25]]
    return sheets


# ---- 1. a tree of any depth ----

def test_tree_orders_walk_any_depth_without_recursion() -> None:
    depth = 100_000  # far beyond Python's recursion limit
    tree = IndicatorTree(tuple(chain_nodes(depth)))
    assert tree.pre_order[0] == "index" and tree.pre_order[-1] == "x1"
    assert tree.post_order[0] == "x1" and tree.post_order[-1] == "index"
    assert tree.inner[0] == f"n{depth - 1}" and len(tree.inner) == depth
    assert len(tree.descendants("n1")) == depth - 1
    assert tree.depth("x1") == depth


def test_tree_orders_keep_framework_order_of_siblings() -> None:
    tree = IndicatorTree((Node("r", None), Node("a", "r"), Node("b", "r"), Node("a1", "a"),
                          Node("a2", "a"), Node("b1", "b")))
    assert tree.pre_order == ("r", "a", "a1", "a2", "b", "b1")
    assert tree.post_order == ("a1", "a2", "a", "b1", "b", "r")
    assert tree.descendants("a") == ("a1", "a2")


def test_build_tree_checks_a_deep_chain_in_linear_time_and_still_finds_cycles() -> None:
    tree, problems = build_tree(chain_nodes(20_000))  # quadratic walks took minutes here
    assert problems == [] and tree is not None
    cyclic = [Node("r", None), Node("a", "b"), Node("b", "c"), Node("c", "a"), Node("d", "a"),
              Node("x", "r")]
    tree, problems = build_tree(cyclic)
    assert tree is None
    assert [p.problem for p in problems] == ["node a is in a cycle: a -> b -> c -> a"]


def test_a_chain_5000_levels_deep_computes_and_explains() -> None:
    depth = 5000
    units = pd.DataFrame({"name_zh": list("甲乙丙丁戊"), "name_en": list("ABCDE")},
                         index=list("abcde"))
    data = pd.DataFrame({"x1": [10.0, 20.0, 30.0, 40.0, 50.0]}, index=list("abcde"))
    result = build_index(IndexModel(tuple(chain_nodes(depth)), Settings(), units, data))
    # a chain of single children passes the indicator's normalised value straight up
    assert result.total.to_dict() == pytest.approx(X1_NORMALISED)
    assert result.weights_used["weight_in_total"].tolist() == pytest.approx([1.0] * depth)
    table = explain(result, "c", depth=depth + 1)
    assert len(table) == depth + 1
    assert table["node"].iloc[-1] == "x1" and table["depth"].iloc[-1] == depth
    assert table["score"].tolist() == pytest.approx([50.0] * (depth + 1))


@pytest.fixture(scope="module")
def deep_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbook whose tree is a chain 1,100 levels deep, recalculated."""
    path = write_book(tmp_path_factory.mktemp("deep") / "deep.xlsx", chain_sheets(1100))
    r = run("recalc", path)
    assert r.exit_code == 0, r.output
    return path


def test_validate_and_recalc_a_chain_1100_levels_deep(deep_book: Path) -> None:
    r = run("validate", deep_book)
    assert r.exit_code == 0, r.output
    assert r.output == (f"OK: {deep_book}: no problems (5 units, 1 indicators, 1101 nodes, "
                        "input = data)\n")
    rows = list(openpyxl.load_workbook(deep_book)["Ranking"].iter_rows(values_only=True))
    assert rows[0][:5] == ("rank", "unit", "name_zh", "name_en", "score")
    assert {row[1]: row[4] for row in rows[1:]} == pytest.approx(X1_NORMALISED)


@pytest.mark.parametrize("args", [
    ("explain", "{book}", "c", "--depth", "1100"),
    ("audit", "{book}", "-o", "{tmp}/audit.xlsx"),
    ("weights", "{book}"),
    ("uncertainty", "{book}", "--samples", "4", "--budget", "0", "-o", "{tmp}/u.xlsx"),
    ("report", "{book}", "-o", "{tmp}/report.html"),
    ("export", "{book}", "--format", "csv", "--out-dir", "{tmp}/csv"),
    ("compare", "{book}", "a", "e"),
])
def test_every_command_runs_on_a_chain_1100_levels_deep(deep_book: Path, tmp_path: Path,
                                                        args: tuple[str, ...]) -> None:
    r = run(*(a.format(book=deep_book, tmp=tmp_path) for a in args))
    assert r.exit_code == 0, r.output
    assert "RecursionError" not in r.output


def test_explain_walks_down_the_whole_chain(deep_book: Path) -> None:
    r = run("explain", deep_book, "c", "--depth", "1100")
    lines = r.output.splitlines()
    leaf = next(line for line in lines if line.strip().startswith("x1 "))
    assert leaf.startswith(" " * 2 * 1100 + "x1")  # indented one step per level
    assert "50.00" in leaf


def test_formula_mode_writes_a_chain_1100_levels_deep(tmp_path: Path) -> None:
    path = write_book(tmp_path / "deep.xlsx", chain_sheets(1100))
    r = run("recalc", path, "--formulas")
    assert r.exit_code == 0, r.output
    rows = list(openpyxl.load_workbook(path, data_only=True)["Ranking"].iter_rows(values_only=True))
    assert {row[1]: row[4] for row in rows[1:]} == pytest.approx(X1_NORMALISED)


# ---- 2. an uncertainty run too large for memory ----

def test_samples_beyond_memory_are_refused_before_running(tmp_path: Path) -> None:
    book = write_book(tmp_path / "u.xlsx", chain_sheets(2))
    before = book.read_bytes()
    out = tmp_path / "out.xlsx"
    r = run("uncertainty", book, "--samples", 1_000_000_000, "-o", out)
    assert r.exit_code == 2, r.output
    budget, why = memory_budget()
    best = largest_samples(1, 5, budget)
    need = run_memory(1_000_000_000, 1, 5)
    assert r.output == (
        f"Error: --samples 1000000000: the uncertainty analysis would need about "
        f"{need / 2**30:,.0f} GiB of memory (1,000,000,000 × 3 runs × 5 units, with the "
        f"bootstrap of the indices), more than its budget of {_gib(budget)} ({why}); use "
        f"--samples {best} or fewer\n")
    assert run_memory(best, 1, 5) <= budget < run_memory(best + 1, 1, 5)
    assert not out.exists() and book.read_bytes() == before


def _gib(n: float) -> str:
    v = n / 2**30
    return f"{v:,.1f} GiB" if v < 100 else f"{v:,.0f} GiB"


@pytest.mark.parametrize("samples", ["0", "-5"])
def test_samples_below_four_are_a_usage_error(small_book: Path, samples: str) -> None:
    r = run("uncertainty", small_book, "--samples", samples)
    assert r.exit_code == 2
    assert f"Error: Invalid value for '--samples': {samples} is not in the range x>=4." in r.output
    assert r.output.startswith("Usage: cli uncertainty [OPTIONS] BOOK\n")


def test_run_memory_estimate_covers_what_a_run_allocates() -> None:
    n_units, samples = 1000, 1024
    ids = [f"u{i}" for i in range(n_units)]
    nodes = (Node("index", None), Node("a", "index", weight=0.5), Node("b", "index", weight=0.5))
    units = pd.DataFrame({"name_zh": ids, "name_en": ids}, index=ids)
    data = pd.DataFrame(np.random.default_rng(0).random((n_units, 2)), index=ids,
                        columns=["a", "b"])
    model = IndexModel(nodes, Settings(), units, data)
    assumptions, _ = parse_assumptions([("weights", "uniform", 0.25)])
    tracemalloc.start()
    try:
        run_uncertainty(model, assumptions, samples=samples, budget=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = run_memory(samples, 1, n_units)
    assert peak <= estimate
    assert peak >= 0.5 * (estimate - CHUNK_BYTES)  # an estimate, not a blanket bound


def test_a_run_beyond_a_given_budget_is_refused_naming_the_largest_that_fits() -> None:
    budget = (CHUNK_BYTES + 100 * 2**20, "a test budget")
    best = largest_samples(2, 30, budget[0])
    assert run_memory(best, 2, 30) <= budget[0] < run_memory(best + 1, 2, 30)
    check_run_size(best, 2, 30, budget)  # fits: no error
    with pytest.raises(BadArgument, match=rf"more than its budget of 0\.3 GiB \(a test budget\); "
                                          rf"use --samples {best} or fewer$"):
        check_run_size(best + 1, 2, 30, budget)
    # by hand: 4 runs per sample × 30 units × 48 bytes against 501 bootstrap rows × 8 bytes ×
    # (6 + 3 × 2) arrays beside 18 bytes per run and unit
    per_sample = max(4 * 30 * 48, 4 * 30 * 18 + 501 * 8 * 12)
    assert best == (100 * 2**20) // per_sample


# ---- 3. output sizes checked up front ----

def wide_sheets(children: int, units: int, chart_top: int | None = None,
                compare: str | None = None) -> Sheets:
    """The small index's settings with ``children`` indicators under the root and ``units`` units."""
    sheets = copy.deepcopy(SMALL)
    sheets["Settings"] = [r for r in sheets["Settings"] if r[0] != "weights"] + [["weights", "rescale"]]
    if chart_top is not None:
        sheets["Settings"].append(["chart_top", chart_top])
    if compare is not None:
        sheets["Settings"].append(["compare", compare])
    sheets["Framework"] = [sheets["Framework"][0], ["index", None, "总", "Index", None, None, None]]
    sheets["Framework"] += [[f"x{i}", "index", f"指标{i}", f"X{i}", 1.0, 1, None]
                            for i in range(children)]
    sheets["Units"] = [sheets["Units"][0]] + [[f"u{j}", f"单位{j}", f"Unit {j}", "north", j + 1]
                                              for j in range(units)]
    rng = np.random.default_rng(1)
    sheets["Data"] = [["unit"] + [f"x{i}" for i in range(children)]] + [
        [f"u{j}", *rng.random(children).round(6).tolist()] for j in range(units)]
    return sheets


def test_chart_top_that_would_draw_too_many_bars_is_a_problem_before_computing(tmp_path: Path
                                                                                ) -> None:
    book = write_book(tmp_path / "wide.xlsx", wide_sheets(1000, 60, chart_top=60))
    before = book.read_bytes()
    expected = (
        "1 problem found:\n"
        "Sheet 'Settings', cell B11: setting 'chart_top': 60 would draw 1,001 charts (the total "
        "and each of the root's 1,000 children) of 60 bars each: 60,060 bars, more than the "
        "50,000 the Charts sheet may hold; set chart_top to 49 or less (0 = no charts)\n")
    r = run("validate", book)
    assert (r.exit_code, r.output) == (1, expected)
    r = run("recalc", book)
    assert r.exit_code == 1 and r.output.startswith(expected)
    assert book.read_bytes() == before
    assert 1001 * 49 <= MAX_BARS < 1001 * 50


def test_chart_top_counts_only_the_units_there_are(tmp_path: Path) -> None:
    # chart_top 1000 with 40 units draws 40 bars a chart: 1,001 × 40 fits
    book = write_book(tmp_path / "wide.xlsx", wide_sheets(1000, 40, chart_top=1000))
    r = run("validate", book)
    assert r.exit_code == 0, r.output


def test_compare_pairs_that_would_draw_too_many_bars_are_a_problem() -> None:
    children, pairs = 300, 90  # 90 pairs × 2 bars × 300 children = 54,000 bars
    nodes = (Node("index", None), *(Node(f"x{i}", "index", weight=1.0) for i in range(children)))
    units = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["A", "B"]}, index=["a", "b"])
    settings = Settings(weights="rescale", compare=(("a", "b"),) * pairs)
    data = pd.DataFrame(1.0, index=units.index, columns=[f"x{i}" for i in range(children)])
    _, problems, _ = check_model(IndexModel(nodes, settings, units, data))
    assert [(p.field, p.problem) for p in problems] == [(
        "compare", "setting 'compare': 90 pairs of units would draw 54,000 bars (two per child "
                   "of the root, 300 children), more than the 50,000 the Compare sheet may hold; "
                   "list 83 pairs or fewer")]


# ---- 4. a value quoted as written ----

def test_direction_is_quoted_as_written(tmp_path: Path, small: Sheets) -> None:
    small["Framework"][4][5] = 1.9
    small["Framework"][5][5] = 2
    r = run("validate", write_book(tmp_path / "d.xlsx", small))
    assert r.exit_code == 1
    assert r.output == (
        "2 problems found:\n"
        "Sheet 'Framework', cell F5: indicator x1 (指标一) has direction 1.9: use 1 or + (higher "
        "is better), -1 or - (lower is better)\n"
        "Sheet 'Framework', cell F6: indicator x2 (指标二) has direction 2: use 1 or + (higher "
        "is better), -1 or - (lower is better)\n")


# ---- 5. ambiguous names ----

def test_a_name_equal_to_another_units_id_is_a_problem(tmp_path: Path, small: Sheets) -> None:
    small["Units"][1][2] = "b"  # unit a's English name is unit b's id
    for command in ("validate", "recalc"):
        r = run(command, write_book(tmp_path / f"{command}.xlsx", small))
        assert r.exit_code == 1
        assert r.output.startswith(
            "1 problem found:\n"
            "Sheet 'Units', cell C2: name_en 'b' of unit a (甲) is the id of unit b (乙): names "
            "and ids must not collide (a lookup of 'b' could mean either); rename one\n")


def test_a_node_name_equal_to_another_nodes_id_is_a_problem(tmp_path: Path, small: Sheets
                                                            ) -> None:
    small["Framework"][2][3] = "d2"  # d1's English name is d2's id
    r = run("validate", write_book(tmp_path / "n.xlsx", small))
    assert r.exit_code == 1
    assert "Sheet 'Framework', cell D3: name_en 'd2' of node d1 (维度一) is the id of node d2 " \
           "(维度二): names and ids must not collide" in r.output


@pytest.fixture
def twins(tmp_path: Path, small: Sheets) -> Path:
    """Units a and b have English names that differ only in a space: the workbook allows it
    (names differ as written), a lookup cannot tell them apart (it ignores spaces)."""
    small["Units"][1][2], small["Units"][2][2] = "Twin", "T win"
    return write_book(tmp_path / "twins.xlsx", small)


AMBIGUOUS = ('ambiguous city "twin": it could be a (name_en \'Twin\') or b (name_en \'T win\'); '
             "use an id or a name only one of them has, or rename one in Units so that names "
             "and ids do not collide")


@pytest.mark.parametrize("args", [("explain", "twin"), ("compare", "twin", "c")])
def test_an_ambiguous_name_lists_the_candidates(twins: Path, args: tuple[str, ...]) -> None:
    r = run(args[0], twins, *args[1:])
    assert r.exit_code == 2
    assert r.output == f"Error: {AMBIGUOUS}\n"
    assert run("explain", twins, "a").exit_code == 0  # the ids still work


def test_udfs_say_a_name_is_ambiguous(twins: Path) -> None:
    from udfs import AI_INDEX, use_book

    with use_book(twins):
        assert AI_INDEX("twin") == f"#AI! {AMBIGUOUS}"
        assert AI_INDEX("b") == pytest.approx(32.5)


# ---- 6. no pandas warning reaches the output ----

@pytest.mark.filterwarnings("error")
def test_no_warning_with_150_children_of_the_root(tmp_path: Path) -> None:
    sheets = wide_sheets(150, 8)
    sheets["Uncertainty"] = [["assumption", "how", "values"], ["weights", "uniform", 0.25]]
    book = write_book(tmp_path / "wide.xlsx", sheets)
    for args in (("validate", book), ("recalc", book), ("audit", book, "-o", tmp_path / "a.xlsx"),
                 ("weights", book), ("explain", book, "u1"),
                 ("uncertainty", book, "--samples", "4", "--budget", "0", "-o",
                  tmp_path / "u.xlsx")):
        r = run(*args)
        assert r.exit_code == 0, (args[0], r.output)
        assert "Warning" not in r.output
