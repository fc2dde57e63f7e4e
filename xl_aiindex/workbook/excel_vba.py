"""The VBA a macro-enabled workbook carries: xlwings' standalone modules and our wrappers.

:func:`vba_modules` lists, for a workbook with ``sheets`` worksheets:

* ``ThisWorkbook``: a ``Workbook_Open`` calling ``XlAiIndexOnOpen`` (:func:`workbook_code`),
  and ``Sheet1`` … ``SheetN``: empty document modules (as Excel stores them);
* ``xlwings``: the installed xlwings' ``xlwings.bas``, and ``Dictionary``: the class module
  xlwings' ``quickstart_standalone.xlsm`` carries — together xlwings' **standalone** form, so the
  workbook needs no xlwings add-in and no reference to one (``xlwings quickstart --standalone``
  does the same);
* ``xlwings_udfs``: what *Import Functions* would write for the module ``udfs`` — xlwings' own
  generator (:func:`xlwings.udfs.generate_vba_wrapper`, run in a subprocess that stubs the
  Windows-only modules, see :data:`PROBE`) over the functions and macros found in ``udfs`` *now*,
  so a function someone adds is picked up by rebuilding — plus one change: each ``Function``
  passes its answer through ``XlAiIndexResult``, which turns a marked ``#AI! …`` answer into a
  real Excel error (:mod:`udfs.why` holds the same rule in Python); each macro runs through
  ``RunPython`` on the Mac (:func:`_mac_branch`); and ``XlAiIndexOnOpen``
  (:func:`on_open_code`) registers every function's help with ``Application.MacroOptions``,
  from the same Python definitions the generator reads, and recalculates once.

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
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

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
# what xlwings' own Import Functions passes to Application.MacroOptions (after the generator
# has marked the hidden "caller" argument with vba="Nothing"): name, docstring, category and the
# description of each argument Excel shows
functions = []
for attr in dir(module):
    info = getattr(getattr(module, attr), "__xlfunc__", None)
    if info is None or info.get("sub"):
        continue
    functions.append({"name": info["name"], "doc": info["ret"]["doc"], "category": info["category"],
                      "args": [a["doc"] for a in info["args"] if not a["vba"]]})
print(json.dumps({"vba": out.getvalue(), "xlwings": xlwings.__version__, "functions": functions}))
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


@cache
def _probe(module_name: str) -> dict[str, Any]:
    """Run :data:`PROBE` over ``module_name`` in a subprocess that imports it afresh."""
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
    return dict(json.loads(done.stdout))


def generated_wrappers(module_name: str = UDF_MODULE) -> str:
    """What xlwings' generator writes for ``module_name`` (a subprocess imports it afresh)."""
    return str(_probe(module_name)["vba"])


@dataclass(frozen=True)
class FunctionHelp:
    """What *Insert Function* shows of a worksheet function: taken from its Python definition
    (the docstring, ``category=`` and each ``@xw.arg(doc=…)``), as xlwings' *Import Functions*
    takes it."""

    name: str
    description: str
    category: str
    arguments: tuple[str, ...]


def function_help(module_name: str = UDF_MODULE) -> tuple[FunctionHelp, ...]:
    """The help of every worksheet function of ``module_name`` (macros excluded), by name."""
    return tuple(FunctionHelp(f["name"], f["doc"], str(f["category"]), tuple(f["args"]))
                 for f in _probe(module_name)["functions"])


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


#: VBA limits of *Insert Function* help (what xlwings' Import Functions cuts to as well).
HELP_LIMIT = 255
#: Characters of a string literal per VBA statement (a line may hold 1023).
_CHUNK = 180


def vba_text(text: str) -> list[str]:
    """``text`` as VBA expressions whose concatenation is ``text``, ASCII only (the module's
    code page may not hold other characters): printable ASCII in quoted literals, anything else
    as ``ChrW(n)``; each expression short enough for one statement.

    >>> vba_text('tier 第一')
    ['"tier " & ChrW(31532) & ChrW(19968)']
    """
    parts: list[str] = []
    literal = ""
    for ch in text:
        if " " <= ch <= "~":
            literal += '""' if ch == '"' else ch
        else:
            if literal:
                parts.append(f'"{literal}"')
                literal = ""
            code = ord(ch)
            if code > 0xFFFF:   # ChrW takes UTF-16 code units
                hi, lo = divmod(code - 0x10000, 0x400)
                parts += [f"ChrW({0xD800 + hi})", f"ChrW({0xDC00 + lo})"]
            else:
                parts.append(f"ChrW({code})")
    if literal or not parts:
        parts.append(f'"{literal}"')
    chunks, current = [], ""
    for part in parts:
        if current and len(current) + len(part) > _CHUNK:
            chunks.append(current)
            current = ""
        current = part if not current else f"{current} & {part}"
    return [*chunks, current]


def _assign(target: str, text: str, indent: str = "    ") -> list[str]:
    """VBA statements setting ``target`` to ``text`` (see :func:`vba_text`)."""
    chunks = vba_text(text[:HELP_LIMIT])
    return [f"{indent}{target} = {chunks[0]}"] + [f"{indent}{target} = {target} & {c}"
                                                   for c in chunks[1:]]


ON_OPEN = "XlAiIndexOnOpen"


def on_open_code(functions: tuple[FunctionHelp, ...]) -> str:
    """``XlAiIndexOnOpen``, which ``ThisWorkbook``'s ``Workbook_Open`` calls: registers each
    worksheet function's help with ``Application.MacroOptions`` (as xlwings' *Import Functions*
    does from Python: description, category, argument descriptions, the function named
    ``'Book.xlsm'!NAME``) and recalculates the workbook once. Errors are ignored: nothing here
    may stop the workbook opening."""
    lines = [
        f"Public Sub {ON_OPEN}(ByVal book As Object)",
        "    ' Called by Workbook_Open (ThisWorkbook). Written by xl-aiindex excel from the Python",
        "    ' definitions of the functions (docstring, category, @xw.arg doc): rebuild to update.",
        "    On Error Resume Next",
        "#If Mac Then",
        "    ' worksheet functions (classic xlwings UDFs) do not run on the Mac: nothing to register",
        "#Else",
        "    Dim wasSaved As Boolean, d As String, args As Variant",
        "    wasSaved = book.Saved",
    ]
    for f in functions:
        lines += _assign("d", f.description)
        if f.arguments:
            lines.append(f"    ReDim args(0 To {len(f.arguments) - 1})")
            for i, arg in enumerate(f.arguments):
                lines += _assign(f"args({i})", arg)
        else:
            lines.append("    args = Array()")
        lines.append(f"    XlAiIndexDescribe book, {vba_text(f.name)[0]}, d, "
                     f"{vba_text(f.category[:HELP_LIMIT])[0]}, args")
    lines += [
        "    ' Calculate once now that macros run. Excel calculates the file when it opens it",
        "    ' (fullCalcOnLoad, and a calcId older than Excel's), which can be before macros are",
        "    ' enabled: every function cell then shows #NAME? until a full recalculation. Keeping",
        "    ' fullCalcOnLoad and calculating here covers both orders (the cache makes the second",
        "    ' calculation one read of the inputs). Manual calculation mode is respected.",
        "    If Application.Calculation <> -4135 Then Application.CalculateFull  ' xlCalculationManual",
        "    book.Saved = wasSaved  ' registering the help is not an edit of the workbook",
        "#End If",
        "End Sub",
        "",
        "Private Sub XlAiIndexDescribe(ByVal book As Object, ByVal fname As String, _",
        "                              ByVal fdesc As String, ByVal fcat As String, _",
        "                              ByVal args As Variant)",
        "    On Error Resume Next",
        "    Dim target As String",
        "    target = \"'\" & Replace(book.Name, \"'\", \"''\") & \"'!\" & fname",
        "    If UBound(args) >= 0 Then",
        "        Application.MacroOptions Macro:=target, Description:=fdesc, _",
        "            Category:=fcat, ArgumentDescriptions:=args",
        "    Else",
        "        Application.MacroOptions Macro:=target, Description:=fdesc, Category:=fcat",
        "    End If",
        "    If Err.Number <> 0 Then  ' Excel 2007 has no ArgumentDescriptions",
        "        Err.Clear",
        "        Application.MacroOptions Macro:=target, Description:=fdesc, Category:=fcat",
        "    End If",
        "End Sub",
        "",
    ]
    return "\n".join(lines)


def _mac_branch(lines: list[str], module_name: str) -> list[str]:
    """The generated wrappers with each macro (``Sub``) run through ``RunPython`` on the Mac.

    xlwings' generator guards its calls with ``#If App = "Microsoft Excel"``, true on the Mac
    as well, where ``XLPy.CallUDF`` (a Windows DLL) raises run-time error 53. On the Mac a macro
    is run the way xlwings.bas documents it: ``RunPython "import MODULE; MODULE.NAME()"`` (the
    Python side finds the calling book with ``xw.Book.caller()``). Windows keeps CallUDF."""
    out: list[str] = []
    sub: str | None = None
    for line in lines:
        m = re.match(r"^Sub (\w+)\(\)$", line)
        if m:
            sub = m.group(1)
        elif line.startswith("End Sub"):
            sub = None
        guard = re.match(r'^(\s*)#If App = "Microsoft Excel" Then$', line)
        if sub is not None and guard:
            pad = guard.group(1)
            out += [f"{pad}#If Mac Then",
                    f'{pad}    RunPython "import {module_name}; {module_name}.{sub}()"',
                    f'{pad}#ElseIf App = "Microsoft Excel" Then']
            continue
        out.append(line)
    return out


def wrapper_module(generated: str, xlwings_version_text: str,
                   functions: tuple[FunctionHelp, ...] = (),
                   module_name: str = UDF_MODULE) -> str:
    """The ``xlwings_udfs`` module: the header *Import Functions* writes, the generated
    wrappers with each Function's answer passed through ``XlAiIndexResult`` and each macro
    run through ``RunPython`` on the Mac, that helper, and :func:`on_open_code`."""
    out = []
    for line in _mac_branch(generated.replace("\r\n", "\n").split("\n"), module_name):
        out.append(line)
        m = re.match(r"^(\s*)(\w+) = XLPy\.CallUDF\(", line)
        if m:
            out.append(f"{m.group(1)}{m.group(2)} = XlAiIndexResult({m.group(2)})")
    head = [f'Attribute VB_Name = "{WRAPPER_MODULE}"',
            "'Autogenerated code by xlwings - changes will be lost with next import!",
            "'Written by xl-aiindex with the generator of xlwings " + xlwings_version_text
            + "; rebuild with: xl-aiindex excel BOOK.xlsx",
            '#Const App = "Microsoft Excel" \'Adjust when using outside of Excel']
    return crlf("\n".join(head) + "\n" + "\n".join(out).rstrip("\n") + "\n\n" + error_helper()
                + "\n" + on_open_code(functions))


@cache
def udf_wrappers(module_name: str = UDF_MODULE) -> str:
    """The ``xlwings_udfs`` module for ``module_name`` (generated once per process)."""
    return wrapper_module(generated_wrappers(module_name), xlwings_version(),
                          function_help(module_name), module_name)


#: The code ``ThisWorkbook`` carries (its ``Workbook_Open`` calls :func:`on_open_code`'s Sub).
#: A rebuild removes it from the code it carries over (:func:`workbook_code`), so it never
#: appears twice.
ON_OPEN_CALL = f"    {ON_OPEN} Me  ' xl-aiindex: Insert Function help, one recalculation"
WORKBOOK_OPEN = ("Private Sub Workbook_Open()\r\n"
                 "    On Error Resume Next  ' opening the workbook never fails here\r\n"
                 f"{ON_OPEN_CALL}\r\n"
                 "End Sub\r\n")


def without_our_code(body: str) -> str:
    """A ``ThisWorkbook`` body with what :func:`workbook_code` added removed."""
    body = crlf(body).replace(WORKBOOK_OPEN, "")
    return "\r\n".join(line for line in body.split("\r\n") if line != ON_OPEN_CALL)


def workbook_code(user_body: str = "") -> str:
    """The code of ``ThisWorkbook``: the user's (carried over from a rebuilt ``.xlsm``) and a
    ``Workbook_Open`` calling ``XlAiIndexOnOpen`` — or, when the user's code has its own
    ``Workbook_Open`` (an event has one handler), the call as that Sub's first line."""
    body = without_our_code(user_body).strip("\r\n")
    own = re.search(r"^[ \t]*(?:(?:Private|Public)[ \t]+)?Sub[ \t]+Workbook_Open[ \t]*\(\)[^\r\n]*",
                    body, re.M | re.I)
    if own is None:
        return WORKBOOK_OPEN + ("\r\n" + body + "\r\n" if body else "")
    at = own.end()
    return body[:at] + "\r\n" + ON_OPEN_CALL + body[at:] + "\r\n"


def sheet_code_name(index: int) -> str:
    """The VBA code name of the ``index``-th worksheet (0-based): ``Sheet1``, ``Sheet2`` …"""
    return f"Sheet{index + 1}"


def vba_modules(sheets: int, module_name: str = UDF_MODULE) -> list[Module]:
    """The modules of a workbook with ``sheets`` worksheets (see the module docstring)."""
    this = document_module("ThisWorkbook", WORKBOOK_BASE)
    modules = [Module(this.name, this.source + workbook_code(), this.kind)]
    modules += [document_module(sheet_code_name(i), WORKSHEET_BASE) for i in range(sheets)]
    modules += [Module("xlwings", xlwings_bas()), Module(WRAPPER_MODULE, udf_wrappers(module_name)),
                Module("Dictionary", dictionary_cls(), "class")]
    return modules
