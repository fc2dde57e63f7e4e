"""The message catalogue: every message of the code has a Chinese translation, the shipped .mo
is the .po compiled, and each translation keeps its message's placeholders."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

pytest.importorskip("babel")

from xl_aiindex import i18n_tools  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message (``{{`` and ``}}`` are literal braces)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _strings(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _key(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def test_every_message_of_the_code_has_a_chinese_translation() -> None:
    """Extract with Babel now (the code as it is) and look each message up in the .po: a
    message added to the code without a translation fails here (run
    ``python -m xl_aiindex.i18n_tools update`` and fill its msgstr)."""
    template = i18n_tools.extract()
    assert len([m for m in template if m.id]) > 50   # the extraction found the messages
    assert i18n_tools.missing("zh", template) == []


def test_missing_translation_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself fails on a message the .po lacks."""
    from babel.messages.catalog import Catalog

    template = Catalog()
    template.add("a message nobody translated {name}")
    assert i18n_tools.missing("zh", template) == ["a message nobody translated {name}"]


def test_shipped_mo_is_the_po_compiled() -> None:
    """The .mo the package reads says exactly what the .po says (a .po edited without
    recompiling fails here)."""
    from babel.messages.mofile import read_mo

    po = i18n_tools.read_catalogue("zh")
    with i18n_tools.mo_path("zh").open("rb") as f:
        mo = read_mo(f)
    translated = {_key(m.id): _key(m.string) for m in po if m.id and m.string and not m.fuzzy
                  and all(_strings(m.string))}
    compiled = {_key(m.id): _key(m.string) for m in mo if m.id}
    assert compiled == translated


def test_translations_keep_the_placeholders_of_their_message() -> None:
    """``{name}`` in the English message is ``{name}`` in the Chinese one (format() would raise
    KeyError, or drop a value, otherwise); Chinese has one plural form: the plural message's."""
    wrong = []
    for m in i18n_tools.read_catalogue("zh"):
        if not m.id or not m.string:
            continue
        wanted = _placeholders(_strings(m.id)[-1])
        for translation in _strings(m.string):
            if translation and _placeholders(translation) != wanted:
                wrong.append((m.id, translation))
    assert wrong == []


def test_no_message_is_built_before_it_is_translated() -> None:
    """``_()`` gets a literal (or a constant marked with ``N_``): an f-string or a
    concatenation inside it is looked up as the finished text, which no catalogue holds."""
    bad = []
    for folder in i18n_tools.SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in ("_", "N_", "ngettext")):
                    for arg in node.args[:2 if node.func.id == "ngettext" else 1]:
                        # a literal, or a constant marked where it is defined (N_("…"))
                        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                                or isinstance(arg, ast.Name) and node.func.id == "_"):
                            bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []


def test_no_function_hides_the_translation_function() -> None:
    """In a module that imports ``_`` from the catalogue, a function that assigns ``_``
    (``for _ in …``, ``a, _ = …``) makes it a local: ``_("…")`` there fails at run time."""
    bad = []
    for folder in i18n_tools.SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imports_it = any(isinstance(n, ast.ImportFrom) and (n.module or "").endswith("i18n")
                             and any(a.name == "_" for a in n.names) for n in ast.walk(tree))
            if not imports_it:
                continue
            for func in ast.walk(tree):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    continue
                args = func.args
                names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
                if "_" in names:
                    bad.append(f"{path.relative_to(ROOT)}:{func.lineno}")
                if isinstance(func, ast.Lambda):
                    continue
                for stmt in ast.walk(func):
                    if isinstance(stmt, ast.For | ast.Assign | ast.With | ast.AnnAssign):
                        targets = [stmt.target] if isinstance(stmt, ast.For | ast.AnnAssign) else \
                            stmt.targets if isinstance(stmt, ast.Assign) else \
                            [i.optional_vars for i in stmt.items if i.optional_vars]
                        for t in targets:
                            if any(isinstance(n, ast.Name) and n.id == "_" for n in ast.walk(t)):
                                bad.append(f"{path.relative_to(ROOT)}:{stmt.lineno}")
    assert bad == []


def test_the_help_texts_extracted_are_english_after_a_run_in_chinese() -> None:
    """A run in Chinese translates the help screens in place; the catalogue's msgids are still
    the English texts (the extraction once depended on the order the tests ran in)."""
    from click.testing import CliRunner

    from xl_aiindex.cli import cli

    before = list(i18n_tools.help_texts())
    for args in (["--lang", "zh", "--help"], ["--lang", "zh", "recalc", "--help"]):
        assert CliRunner().invoke(cli, args).exit_code == 0
    assert list(i18n_tools.help_texts()) == before
    assert "构建" in (cli.help or "")   # the run did translate them in place
