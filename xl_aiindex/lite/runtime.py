"""The xlwings Lite decorators (``func``, ``script``, ``arg``, ``ret``) and the ``Book`` type a
script receives — or inert stand-ins where xlwings Lite is not running.

* **In xlwings Lite** (Pyodide, ``sys.platform == "emscripten"``) ``from xlwings import func,
  script, arg, ret`` is Lite's own registration: the add-in reads the options recorded here
  (``@arg("settings", ndim=2)``, ``@ret(object)`` for an object handle…) and registers the
  functions with Excel when the project loads.
* **In CPython** nothing is imported from xlwings, on purpose. xlwings 0.37.8 provides these
  decorators in CPython only as ``xlwings.server`` (and ``xlwings.pro``), which is xlwings PRO
  code (PolyForm Noncommercial / commercial licence) and raises ``LicenseError: Couldn't find an
  xlwings license key`` on import without a key (checked with 0.37.8, see
  ``tests/excel/test_lite.py``); the top-level ``xlwings.func`` there is the *desktop*
  decorator, and importing desktop xlwings is what the Lite path must not do. So the stand-ins
  below mark a function (``__xl_aiindex_lite__`` holds the options given, for tests) and
  return it unchanged: every Lite function is plain Python, callable from tests and scripts.
* **In Pyodide without xlwings** (the offline test under node) the import fails and the same
  stand-ins are used.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: Whether the real xlwings Lite decorators are in use (False: the stand-ins below).
LITE_XLWINGS = False


def _options(f: Any) -> dict[str, Any]:
    if not hasattr(f, "__xl_aiindex_lite__"):
        f.__xl_aiindex_lite__ = {"kind": None, "options": {}, "args": {}, "ret": {}}
    return f.__xl_aiindex_lite__  # type: ignore[no-any-return]


def _marker(kind: str) -> Callable[..., Any]:
    """A stand-in for ``func``/``script``: usable bare (``@func``) or with options
    (``@func(volatile=False)``); records the kind and options, returns the function."""

    def decorator(f: Any = None, **options: Any) -> Any:
        def mark(g: F) -> F:
            record = _options(g)
            record["kind"] = kind
            record["options"] = dict(options)
            return g

        return mark(f) if callable(f) else mark

    decorator.__name__ = kind
    decorator.__doc__ = f"Stand-in for xlwings Lite's ``{kind}`` (records its options only)."
    return decorator


def _arg_stand_in(name: str, convert: Any = None, **options: Any) -> Callable[[F], F]:
    """Stand-in for xlwings Lite's ``arg`` (records the argument's options only)."""

    def mark(g: F) -> F:
        _options(g)["args"][name] = {"convert": convert, **options}
        return g

    return mark


def _ret_stand_in(convert: Any = None, **options: Any) -> Callable[[F], F]:
    """Stand-in for xlwings Lite's ``ret`` (records the result's options only)."""

    def mark(g: F) -> F:
        _options(g)["ret"] = {"convert": convert, **options}
        return g

    return mark


class BookStandIn:
    """The annotation of a script's book outside xlwings Lite (Lite injects an ``xw.Book``)."""


func: Any = _marker("func")
script: Any = _marker("script")
arg: Any = _arg_stand_in
ret: Any = _ret_stand_in
Book: Any = BookStandIn

if sys.platform == "emscripten":  # pragma: no cover - only inside Pyodide
    try:
        from xlwings import Book, arg, func, ret, script  # type: ignore[no-redef]  # noqa: F401

        LITE_XLWINGS = True
    except ImportError:  # Pyodide without xlwings (the offline test): the stand-ins
        pass
