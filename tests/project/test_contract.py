"""The workbook contract is defined once (``xl_aiindex/contract.py``): no other module
of ``xl_aiindex`` or ``udfs`` defines its sheet names, column lists, error values, limits or
name key again (read from the source with ``ast``), and the readers, writers and macros that
used their own copies now agree."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xl_aiindex import contract

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("xl_aiindex", "udfs")
CONTRACT_FILE = Path("xl_aiindex/contract.py")

#: The contract's collections: a literal equal to one of them elsewhere is a second definition.
COLLECTIONS = {name: getattr(contract, name) for name in (
    "INPUT_SHEETS", "SETTINGS_COLUMNS", "FRAMEWORK_COLUMNS", "UNITS_COLUMNS", "TOOL_SHEETS",
    "CORE_SHEETS", "OPTIONAL_SHEETS", "PROBLEMS_HEADER", "TIERS_COLUMNS", "WEIGHTS_USED_COLUMNS", "LOG_COLUMNS",
    "LOG_WIDTHS", "ERROR_CODES", "FORMULA_ERRORS", "ERROR_VALUES")}
#: Excel's limits: a module-level number equal to one of them elsewhere is a second definition.
LIMITS = {name: getattr(contract, name) for name in (
    "MAX_ROWS", "MAX_COLS", "MAX_TEXT", "MAX_FORMULA", "MAX_SHEET_CELLS")}
#: The contract's public names: none is assigned a literal anywhere else.
PUBLIC = {n for n in dir(contract) if n.isupper()}


def _sources(root: Path) -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if rel != CONTRACT_FILE:
                yield rel, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _literal(node: ast.expr) -> Any:
    """The value of a literal display (``frozenset({...})`` included); None if not one."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in ("frozenset", "set", "tuple") and len(node.args) == 1:
        node = node.args[0]
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return [v.decode("latin-1") if isinstance(v, bytes) else v for v in value]
    return value


def _same(value: Any, defined: Any) -> bool:
    if isinstance(defined, dict):
        return isinstance(value, dict) and value == defined
    if not isinstance(value, list) or isinstance(defined, str | int):
        return False
    if isinstance(defined, frozenset):
        return all(isinstance(v, str) for v in value) and set(value) == set(defined)
    return tuple(value) == tuple(defined)


def second_definitions(root: Path) -> list[str]:
    """Where the source tree below ``root`` defines a piece of the contract again."""
    found: list[str] = []
    errors = set(contract.ERROR_VALUES)
    for rel, tree in _sources(root):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                value = _literal(node.value)
                for name, defined in COLLECTIONS.items():
                    if value is not None and _same(value, defined):
                        found.append(f"{rel}:{node.lineno}: {', '.join(names)} = "
                                     f"contract.{name}")
                for name in names:
                    if name in PUBLIC and value is not None:
                        found.append(f"{rel}:{node.lineno}: {name} assigned a literal")
                    if isinstance(value, int) and not isinstance(value, bool) and \
                            value in LIMITS.values() and node in tree.body:
                        found.append(f"{rel}:{node.lineno}: {name} = {value} (a limit)")
            if isinstance(node, ast.Set | ast.Tuple | ast.List | ast.Dict):
                items = node.keys if isinstance(node, ast.Dict) else node.elts
                texts = {(i.value.decode("latin-1") if isinstance(i.value, bytes) else i.value)
                         for i in items if isinstance(i, ast.Constant)
                         and isinstance(i.value, str | bytes)}
                if len({t for t in texts if isinstance(t, str)} & errors) >= 2:
                    found.append(f"{rel}:{node.lineno}: Excel's error values listed again")
            if isinstance(node, ast.FunctionDef) and len(node.body) == 1 and \
                    isinstance(node.body[0], ast.Return) and node.body[0].value is not None:
                body = ast.unparse(node.body[0].value)
                if body.endswith((".strip().casefold()", ".strip().lower()")) or \
                        (body.startswith("text(") and body.endswith((").casefold()", ").lower()"))):
                    found.append(f"{rel}:{node.lineno}: {node.name}() is a second name key")
    return found


def test_the_contract_is_defined_once() -> None:
    assert second_definitions(ROOT) == []


def test_every_tool_sheet_is_core_optional_or_a_commands() -> None:
    kinds = (contract.CORE_SHEETS, contract.OPTIONAL_SHEETS, contract.COMMAND_SHEETS)
    assert sorted(n for k in kinds for n in k) == sorted(contract.TOOL_SHEETS)
    assert len(set(contract.TOOL_SHEETS)) == len(contract.TOOL_SHEETS)
    assert {"Scores", "Ranking", "Tiers", "WeightsUsed", "Log", "Problems"} < set(contract.CORE_SHEETS)


def test_the_scan_finds_a_second_definition(tmp_path: Path) -> None:
    # the check is not vacuous: copies of each kind, as the tree had them, are all found
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / CONTRACT_FILE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / CONTRACT_FILE, tmp_path / CONTRACT_FILE)
    (tmp_path / "xl_aiindex" / "copies.py").write_text(
        'FRAMEWORK_COLUMNS = ("id", "parent", "name_zh", "name_en", "weight", "direction",\n'
        '    "normalisation", "goal_low", "goal_high", "denominator", "transform", "aggregation",\n'
        '    "weighting", "unit", "source", "note")\n'
        '_ERRORS = {b"#N/A", b"#VALUE!", b"#DIV/0!", b"#REF!", b"#NAME?", b"#NUM!", b"#NULL!"}\n'
        'LIMIT = 8192\n'
        'STORE_SHEET = "_xl_aiindex"\n'
        'def _key(name):\n'
        '    return name.strip().casefold()\n', encoding="utf-8")
    found = "\n".join(second_definitions(tmp_path))
    for what in ("FRAMEWORK_COLUMNS = contract.FRAMEWORK_COLUMNS", "_ERRORS = contract.FORMULA_ERRORS",
                 "Excel's error values listed again", "LIMIT = 8192 (a limit)",
                 "STORE_SHEET assigned a literal", "_key() is a second name key"):
        assert what in found


def test_every_module_matches_names_with_the_contract_key() -> None:
    from xl_aiindex.workbook import ownership, read
    from xl_aiindex.workbook.ooxml import plan

    assert read.key is contract.key
    assert ownership._key is contract.key
    assert plan._sheet_key is contract.key
    # the reader and the ownership check now agree on a name only Unicode case folding matches
    assert contract.key(" STRASSE ") == contract.key("straße") == "strasse"


def test_one_stale_problems_rule() -> None:
    from xl_aiindex.contract import PROBLEMS_HEADER
    from xl_aiindex.workbook.writer import stale_problems

    assert stale_problems(["Settings", "Scores"]) == []
    (sheet,) = stale_problems(["Settings", " PROBLEMS "])
    assert sheet.name == "Problems"
    assert [c.value for c in sheet.rows[0]] == list(PROBLEMS_HEADER)
    assert len(sheet.rows) == 1   # emptied: the header alone


def test_recalc_and_the_macros_read_the_written_sheets_alike(small_book: Path) -> None:
    from udfs.books import HeadlessBook
    from udfs.macros import BookState, book_state
    from xl_aiindex.workbook.book import BookState as LibraryState
    from xl_aiindex.workbook.book import load_workbook
    from xl_aiindex.workbook.writer import recalc_file

    recalc_file(small_book)
    recalc_file(small_book)   # two Log rows and a store
    assert BookState is LibraryState
    loaded = load_workbook(small_book)
    book = HeadlessBook(small_book)
    try:
        state = book_state(book)
    finally:
        book.close()
    assert state.names == loaded.sheet_names
    assert state.stored == loaded.stored and state.stored is not None
    assert dict(state.log_header) == dict(loaded.log_header)
    assert len(state.log_rows) == len(loaded.log_rows) == 2
    assert state.log_width == loaded.log_width
    assert [r[1] for r in state.log_rows] == ["recalc", "recalc"]


def test_the_udfs_compute_as_recalc_does(small_book: Path) -> None:
    from udfs.books import HeadlessBook
    from udfs.cache import Snapshot, evaluate
    from xl_aiindex.workbook.book import compute, load_workbook

    book = HeadlessBook(small_book)
    try:
        outcome = evaluate(Snapshot(book))
    finally:
        book.close()
    assert outcome.result is not None
    expected = compute(load_workbook(small_book))
    got = outcome.result.scores
    assert list(got.index) == list(expected.scores.index)
    assert ((got - expected.scores).abs().max().max()) < 1e-9


def test_a_rebuild_refuses_a_chart_sheet_of_a_result_sheets_name(tmp_path: Path) -> None:
    """The headless book reads sheet kinds as recalc does (the reading package): a chart sheet
    named Scores stops the rebuild before any result is written; Problems says why."""
    import openpyxl
    from conftest import SMALL, write_book
    from openpyxl.chart import BarChart, Reference

    from udfs.books import HeadlessBook
    from udfs.cache import CACHE
    from udfs.macros import run_rebuild

    path = write_book(tmp_path / "chart.xlsx", SMALL)
    wb = openpyxl.load_workbook(path)
    chart = BarChart()
    chart.add_data(Reference(wb["Data"], min_col=2, min_row=1, max_row=6), titles_from_data=True)
    wb.create_chartsheet("Scores").add_chart(chart)
    wb.save(path)
    before = path.read_bytes()
    CACHE.invalidate()
    book = HeadlessBook(path)
    try:
        assert book.sheet_kinds()["Scores"] == "chartsheet"
        report = run_rebuild(book)
    finally:
        book.close()
    assert report.sheets == ("Problems",)   # the refusal listed, no result written
    assert any(p.sheet == "Scores" and "is a chart sheet" in p.problem for p in report.problems)
    assert path.read_bytes() != before
    after = openpyxl.load_workbook(path)
    assert type(after["Scores"]).__name__ == "Chartsheet"
    assert "Ranking" not in after.sheetnames
    assert any("is a chart sheet" in str(r[-1]) for r in after["Problems"].iter_rows(values_only=True))
