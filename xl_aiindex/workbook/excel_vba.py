"""The VBA a macro-enabled workbook carries: xlwings' standalone modules and our wrappers.

:func:`vba_modules` lists, for a workbook with ``sheets`` worksheets:

* ``ThisWorkbook`` and ``Sheet1`` … ``SheetN``: empty document modules (as Excel stores them);
* ``xlwings``: the installed xlwings' ``xlwings.bas``, and ``Dictionary``: the class module
  xlwings' ``quickstart_standalone.xlsm`` carries — together xlwings' **standalone** form, so the
  workbook needs no xlwings add-in and no reference to one (``xlwings quickstart --standalone``
  does the same);
* ``xlwings_udfs``: what *Import Functions* would write for the module ``udfs`` — xlwings' own
  generator (:func:`xlwings.udfs.generate_vba_wrapper`, run in a subprocess that stubs the
  Windows-only modules, see :data:`PROBE`) over the functions and macros found in ``udfs`` *now*,
  so a function someone adds is picked up by rebuilding — plus one change: each ``Function``
  passes its answer through ``XlAiIndexResult``, which turns a marked ``#AI! …`` answer into a
  real Excel error (:mod:`udfs.why` holds the same rule in Python).

Version: ``xlwings.bas`` calls into ``xlwings64-<version>.dll``, which the *installed* xlwings
provides, so the module must come from the same xlwings version as the Python that runs it.
The modules are therefore taken from the installed xlwings at build time (``xl-aiindex excel``
rebuilds a workbook for the xlwings at hand); :func:`embedded_xlwings_version` reads back which
version a workbook carries.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

from ..contract import ERROR_CODES  # CVErr numbers of the errors an argument may carry in
from ..errors import XlAiIndexError
from ..i18n import _
from .vba_project import WORKBOOK_BASE, WORKSHEET_BASE, Module, crlf, document_module

UDF_MODULE = "udfs"
WRAPPER_MODULE = "xlwings_udfs"

#: Runs xlwings' generator as *Import Functions* would on Windows (FACTS.md: stub the Windows
#: modules, swap in xlwings' real decorators before ``udfs`` is imported).
PROBE = r'''
import io, json, sys, types
from types import SimpleNamespace
for name in ("pythoncom", "pywintypes", "win32api", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["pywintypes"].com_error = Exception
sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
sys.modules["win32com"].client = sys.modules["win32com.client"]
import xlwings
import xlwings.udfs as xu
xlwings.func, xlwings.arg, xlwings.ret, xlwings.script = xu.xlfunc, xu.xlarg, xu.xlret, xu.xlsub
import importlib
module = importlib.import_module(sys.argv[1])
out = io.StringIO()
xu.generate_vba_wrapper(sys.argv[1], module, out, SimpleNamespace(Name="book.xlsm"))
print(json.dumps({"vba": out.getvalue(), "xlwings": xlwings.__version__}))
'''

MARK = "#AI! "
UNKNOWN = MARK + "unknown "
ARGUMENT_ERROR = " is the error value "


def _xlwings_dir() -> Path:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise XlAiIndexError(_("xlwings is not installed: pip install xlwings"))
    return Path(spec.origin).parent


def xlwings_version() -> str:
    """The installed xlwings' version (read from its ``xlwings.bas``, without importing it)."""
    m = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', xlwings_bas())
    if m is None:
        raise XlAiIndexError(_("cannot tell the version of the installed xlwings.bas"))
    return m.group(1)


def embedded_xlwings_version(source: str) -> str | None:
    """The xlwings version an ``xlwings`` module's source declares (None if it declares none)."""
    m = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', source)
    return m.group(1) if m else None


@cache
def xlwings_bas() -> str:
    """The installed xlwings' VBA module ``xlwings.bas`` (CRLF line ends)."""
    path = _xlwings_dir() / "xlwings.bas"
    try:
        return crlf(path.read_text(encoding="cp1252"))
    except OSError as e:
        raise XlAiIndexError(_("cannot read {path}: {error}").format(path=path, error=e)) from e


def read_vba_modules(vba_bin: bytes) -> dict[str, str]:
    """Every module's source in a ``vbaProject.bin`` (decoded with the project's code page)."""
    from .vba_project import read_project

    return read_project(vba_bin).sources


@cache
def dictionary_cls() -> str:
    """The ``Dictionary`` class module of xlwings' standalone quickstart workbook."""
    path = _xlwings_dir() / "quickstart_standalone.xlsm"
    try:
        with zipfile.ZipFile(path) as z:
            modules = read_vba_modules(z.read("xl/vbaProject.bin"))
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as e:
        raise XlAiIndexError(_("cannot read the VBA project of {path}: {error}").format(
            path=path, error=e)) from e
    if "Dictionary" not in modules:
        raise XlAiIndexError(_("{path} has no Dictionary class module").format(path=path))
    return crlf(modules["Dictionary"])


def generated_wrappers(module_name: str = UDF_MODULE) -> str:
    """What xlwings' generator writes for ``module_name`` (a subprocess imports it afresh)."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        raise XlAiIndexError(_("the Python module {module} is not installed").format(
            module=module_name))
    folder = str(Path(spec.origin).parent.parent)
    env = {**os.environ, "PYTHONPATH": folder + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", PROBE, module_name], env=env, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        raise XlAiIndexError(_("cannot generate the VBA wrappers of {module}: {error}").format(
            module=module_name,
            error=(done.stderr.strip().splitlines() or [_("no message")])[-1]))
    return str(json.loads(done.stdout)["vba"])


def error_helper() -> str:
    """The VBA function that turns a marked answer into an Excel error (as udfs.why does)."""
    at = len(ARGUMENT_ERROR)
    lines = [
        "Private Function XlAiIndexResult(ByVal answer As Variant) As Variant",
        "    ' xl-aiindex marks a failed call's answer \"#AI! reason\": return a real Excel error,",
        "    ' so IFERROR, ISERROR and IFNA see it; =AI_WHY(cell) shows the reason.",
        "    Dim text As String, at As Long, rest As String",
        "    XlAiIndexResult = answer",
        "    If VarType(answer) <> vbString Then Exit Function",
        "    text = answer",
        f'    If Left$(text, {len(MARK)}) <> "{MARK}" Then Exit Function',
        f"    XlAiIndexResult = CVErr({ERROR_CODES['#VALUE!']})",
        f'    If Left$(text, {len(UNKNOWN)}) = "{UNKNOWN}" Then',
        f"        XlAiIndexResult = CVErr({ERROR_CODES['#N/A']})",
        "        Exit Function",
        "    End If",
        f'    at = InStr(1, text, "{ARGUMENT_ERROR}", vbBinaryCompare)',
        "    If at = 0 Then Exit Function",
        f"    rest = Mid$(text, at + {at})",
    ]
    lines += [f'    If Left$(rest, {len(e)}) = "{e}" Then XlAiIndexResult = CVErr({code})'
              for e, code in ERROR_CODES.items()]
    lines += ["End Function", ""]
    return "\n".join(lines)


def wrapper_module(generated: str, xlwings_version_text: str) -> str:
    """The ``xlwings_udfs`` module: the header *Import Functions* writes, the generated
    wrappers with each Function's answer passed through ``XlAiIndexResult``, and that helper."""
    out = []
    for line in generated.replace("\r\n", "\n").split("\n"):
        out.append(line)
        m = re.match(r"^(\s*)(\w+) = XLPy\.CallUDF\(", line)
        if m:
            out.append(f"{m.group(1)}{m.group(2)} = XlAiIndexResult({m.group(2)})")
    head = [f'Attribute VB_Name = "{WRAPPER_MODULE}"',
            "'Autogenerated code by xlwings - changes will be lost with next import!",
            "'Written by xl-aiindex with the generator of xlwings " + xlwings_version_text
            + "; rebuild with: xl-aiindex excel BOOK.xlsx",
            '#Const App = "Microsoft Excel" \'Adjust when using outside of Excel']
    return crlf("\n".join(head) + "\n" + "\n".join(out).rstrip("\n") + "\n\n" + error_helper())


@cache
def udf_wrappers(module_name: str = UDF_MODULE) -> str:
    """The ``xlwings_udfs`` module for ``module_name`` (generated once per process)."""
    return wrapper_module(generated_wrappers(module_name), xlwings_version())


def sheet_code_name(index: int) -> str:
    """The VBA code name of the ``index``-th worksheet (0-based): ``Sheet1``, ``Sheet2`` …"""
    return f"Sheet{index + 1}"


def vba_modules(sheets: int, module_name: str = UDF_MODULE) -> list[Module]:
    """The modules of a workbook with ``sheets`` worksheets (see the module docstring)."""
    modules = [document_module("ThisWorkbook", WORKBOOK_BASE)]
    modules += [document_module(sheet_code_name(i), WORKSHEET_BASE) for i in range(sheets)]
    modules += [Module("xlwings", xlwings_bas()), Module(WRAPPER_MODULE, udf_wrappers(module_name)),
                Module("Dictionary", dictionary_cls(), "class")]
    return modules
