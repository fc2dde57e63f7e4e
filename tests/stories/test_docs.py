"""The docs stay true: every command, method and public function is documented."""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from conftest import docs_text

import xl_aiindex
from xl_aiindex.aggregate import AGGREGATORS
from xl_aiindex.cli import cli
from xl_aiindex.normalise import NORMALISERS
from xl_aiindex.weights import WEIGHTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
DOCS = docs_text()


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_in_the_readme_and_has_help(command):
    assert f"xl-aiindex {command}" in README
    assert cli.commands[command].help


@pytest.mark.parametrize("name", sorted({*NORMALISERS, *AGGREGATORS, *WEIGHTINGS}))
def test_every_method_is_in_the_readme(name):
    assert f"`{name}`" in DOCS


def test_public_api_names_resolve():
    assert sorted(xl_aiindex.__all__) == sorted(["__version__", *xl_aiindex._EXPORTS])
    for name in xl_aiindex._EXPORTS:
        assert getattr(xl_aiindex, name) is not None


def _modules():
    for info in pkgutil.walk_packages(xl_aiindex.__path__, "xl_aiindex."):
        if not info.name.endswith("__main__"):
            yield importlib.import_module(info.name)


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    for module in _modules():
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj):
                missing.append(f"{module.__name__}.{name}")
    assert missing == []
