"""Names a module exports but imports on first use (PEP 562), so that importing it stays cheap:
``api`` (each command's module) and ``workbook.formulas`` (formula mode's builders)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(module: str, homes: Mapping[str, str], template: str,
               package: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of the module named ``module``: a name of ``homes`` is taken from
    the module ``template.format(homes[name])`` (relative to ``package``) when first asked
    for, and kept in the module from then on; any other name is an AttributeError."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(import_module(template.format(home), package), name)
        setattr(sys.modules[module], name, value)
        return value

    return __getattr__
