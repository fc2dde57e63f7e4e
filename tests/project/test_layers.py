"""The layers of the code base, read from its source with ``ast`` (nothing is imported):
imports go one way, the engine never reaches up into the workbook layer or the Excel add-in,
and modules stay small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("xl_aiindex", "udfs")

#: Engine modules (``xl_aiindex/*.py``) that are the command layer, above the workbook layer:
#: they may import ``xl_aiindex.workbook`` (and would be allowed ``udfs``).
COMMAND_LAYER = frozenset({
    "xl_aiindex",             # __init__.py: the public API, which re-exports workbook.io's loaders
    "xl_aiindex.__main__",    # python -m xl_aiindex
    "xl_aiindex.cli",         # the command line
    "xl_aiindex.cli_format",  # what the command line prints
    "xl_aiindex.api",         # the library call of each command (xl_aiindex/commands/)
    "xl_aiindex.batch",       # the command line over a folder of workbooks
    "xl_aiindex.terminal",    # what the command line prints
    "xl_aiindex.i18n_tools",  # the catalogue's upkeep: reads the command line's help texts
})

#: Import cycles excused: none (a pair goes here only while a change that breaks it is under way).
EXCUSED_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset()

MAX_LINES = 800
#: Today's modules over MAX_LINES, which later work splits along their concerns. Do not add
#: to this list: split the module instead.
TOO_LONG_TODAY: frozenset[str] = frozenset()


def _module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of PACKAGES."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _module_files()


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (never executed: not a dependency)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skipped.update(id(n) for n in ast.walk(stmt))
    return skipped


def _imports(name: str, path: Path) -> set[str]:
    """The project modules ``name`` imports, at module level and inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # "from pkg import sub" imports the submodule; "from mod import name" the module
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:   # "import a.b.c" of a package's name
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_the_import_graph_is_read():
    """The reader sees the imports the checks below rely on (else they could not fail)."""
    assert "xl_aiindex.workbook.results" in GRAPH["xl_aiindex.workbook.formulas.tables"]
    assert "xl_aiindex.workbook.ooxml" in GRAPH["udfs.books"]
    assert "xl_aiindex.workbook.io" in GRAPH["xl_aiindex.commands.validate"]   # in functions
    assert "xl_aiindex.workbook.ooxml.xmltext" in GRAPH["xl_aiindex.workbook.ooxml.opc"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    graph = {name: {t for t in targets if (name, t) not in EXCUSED_CYCLE_EDGES}
             for name, targets in GRAPH.items()}
    assert _cycles(graph) == []


def test_the_engine_does_not_import_the_workbook_layer_or_the_add_in():
    engine = [n for n, p in MODULES.items()
              if n.startswith("xl_aiindex") and p.parent == ROOT / "xl_aiindex"
              and n not in COMMAND_LAYER]
    assert "xl_aiindex.settings" in engine and "xl_aiindex.pipeline" in engine
    upward = {n: sorted(t for t in GRAPH[n] if t.startswith(("xl_aiindex.workbook", "udfs")))
              for n in engine}
    assert {n: t for n, t in upward.items() if t} == {}


def test_no_module_is_too_long():
    lengths = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
               for p in MODULES.values()}
    too_long = {f: n for f, n in lengths.items() if n > MAX_LINES and f not in TOO_LONG_TODAY}
    assert too_long == {}
    assert not any("ooxml" in f for f in TOO_LONG_TODAY)


def test_only_the_file_layer_replaces_files() -> None:
    """One write path: ``os.replace`` (the atomic step of every write) is called in
    ``workbook/files.py`` only; everything else writes through it."""
    callers = []
    for name, path in _module_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("replace", "rename")
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "os"):
                callers.append(name)
    assert sorted(set(callers)) == ["xl_aiindex.workbook.files"]
