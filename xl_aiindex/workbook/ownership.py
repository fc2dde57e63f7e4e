"""Which sheets xl-aiindex may write, and whether a sheet of such a name is the tool's own.

Every sheet any command writes is named in :data:`~xl_aiindex.contract.TOOL_SHEETS`
(a new result sheet is added there by name; the README and the workbooks' README sheet name them all). A writer replaces an
existing sheet only when the tool wrote it (:func:`check_owned`):

* its fingerprint is in the store sheet (:mod:`xl_aiindex.workbook.fingerprint`), or
* it holds nothing, or only a header row whose every cell is a column the tool writes there
  (the empty result sheets of ``xl-aiindex new``), or
* it is ``Problems`` with the contract's header (the Validate macro writes it).

Anything else is the user's own sheet that happens to carry the name: it is refused (one
problem naming the sheet and a cell it holds), unless ``force``. A chart sheet, dialog sheet or
macro sheet under such a name is always refused (nothing can be written into it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..contract import (
    AHP_PREFIX,
    BUDGET_PREFIX,
    EXAMPLES,
    INPUT_SHEETS,
    LOG,
    MAX_SHEET_NAME,
    PROBLEMS,
    PROBLEMS_HEADER,
    README,
    RESERVED_SHEET_NAME,
    SETTINGS,
    SHEET_NAME_FORBIDDEN,
    STORE_SHEET,
    TOOL_SHEETS,
    TRENDS,
    UNCERTAINTY,
)
from ..contract import key as _key
from ..errors import Problem
from ..i18n import N_, _
from ..model import Settings
from ..settings import SHEET_NAME_EXAMPLES, SHEET_NAME_KEYS
from .cells import address, text
from .grid import BookSource

if TYPE_CHECKING:  # annotations only: the Lite reader (xl_aiindex.lite) imports this module,
    # and fingerprint/sheetspec would pull in the XML writer (defusedxml) it must not need
    from .fingerprint import Stored
    from .sheetspec import SheetSpec

#: Sheet kinds (relationship types) by the words people know them by.
_KIND_WORDS = {"chartsheet": N_("a chart sheet"), "dialogsheet": N_("a dialog sheet"),
               "xlMacrosheet": N_("an Excel 4 macro sheet"), "xlIntlMacrosheet":
               N_("an Excel 4 macro sheet"), "missing": N_("a sheet without content part")}


def _kind_words(kind: str) -> str:
    """A sheet kind in the words people know it by, in the current language."""
    words = _KIND_WORDS.get(kind)
    return _(words) if words else _("not a worksheet ({kind})").format(kind=kind)


def is_tool_sheet(name: str) -> bool:
    """Whether ``name`` is one of :data:`TOOL_SHEETS` (case-insensitive, spaces ignored)."""
    return _key(name) in {_key(n) for n in TOOL_SHEETS}


def kind_problems(kinds: Mapping[str, str], names: Sequence[str], verb: str = "recalc"
                  ) -> list[Problem]:
    """A problem for each of ``names`` that exists in the workbook but is not a worksheet
    (``kinds``: :meth:`~xl_aiindex.workbook.package.Package.kinds`)."""
    wanted = {_key(n): n for n in names}
    out = []
    for real, kind in kinds.items():
        if _key(real) in wanted and kind != "worksheet":
            out.append(Problem(real, problem=_(
                "sheet '{sheet}' is {what}, but {verb} writes its results to a worksheet of this "
                "name: rename or delete that sheet").format(sheet=real, what=_kind_words(kind),
                                                            verb=verb)))
    return out


def _first_content(values: list[list[Any]], header: set[str], first: str = ""
                   ) -> tuple[int, int, Any] | None:
    """The first cell that makes a sheet the user's: anything below row 1, or a header cell
    that is not a column the tool writes there; None for an empty or header-only sheet. A
    header row that starts with the tool's first column (``first``) and holds only text is the
    tool's, whatever node columns it names (those of an earlier tree)."""
    row0 = values[0] if values else []
    if first and row0 and _key(row0[0]) == first and \
            all(v is None or isinstance(v, str) for v in row0):
        header = header | {_key(v) for v in row0}
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            if r == 0 and _key(v) in header:
                continue
            return r, c, v
    return None


#: How a refusal ends on the command line (``--force`` replaces the user's sheet).
CLI_REMEDY = N_("rename your sheet (or delete it), or use --force to replace it")


def ownership_problems(book: BookSource, specs: Sequence[SheetSpec],
                       sheet_names: Sequence[str], stored: Stored | None,
                       verb: str = "recalc") -> list[Problem]:
    """A problem for each sheet of ``specs`` that exists in the workbook ``book`` reads (the
    reader over its opened package) but was not written by the tool (module docstring);
    ``sheet_names``: the workbook's sheets."""
    return foreign_sheet_problems(lambda name: book.grid(name).values, specs, sheet_names,
                                  stored, verb)


def foreign_sheet_problems(values: Callable[[str], list[list[Any]]],
                           specs: Sequence[SheetSpec], sheet_names: Sequence[str],
                           stored: Stored | None, verb: str = "recalc",
                           remedy: str = CLI_REMEDY) -> list[Problem]:
    """What :func:`ownership_problems` finds, over any reader: ``values(name)`` gives the cell
    values of the workbook's sheet ``name`` (an exact name of ``sheet_names``), as a file
    reader or an Excel book (the macros: ``udfs.macros``) reads them; it is called only for
    the sheets that have no stored fingerprint. ``remedy``: what the problem tells the user
    to do."""
    existing = {_key(n): n for n in sheet_names}
    todo: list[tuple[str, SheetSpec]] = []
    for spec in specs:
        k = _key(spec.name)
        if k not in existing or k == _key(STORE_SHEET):
            continue
        if stored is not None and k in stored.sheets:
            continue
        todo.append((existing[k], spec))
    out: list[Problem] = []
    for real, _spec, cell, shown in _foreign(values, todo):
        out.append(Problem(real, cell, problem=_(
            "sheet '{sheet}' was not written by xl-aiindex (it holds '{shown}' in {cell}), but "
            "{verb} writes its results to a sheet of this name and would replace it: "
            "{remedy}").format(sheet=real, shown=shown, cell=cell, verb=verb, remedy=_(remedy))))
    return out


def _foreign(values: Callable[[str], list[list[Any]]], todo: Sequence[tuple[str, SheetSpec]]
             ) -> Iterator[tuple[str, SheetSpec, str, str]]:
    """Of the workbook's sheets ``todo`` (its exact name, the sheet the tool would write
    there), those the user wrote: ``(name, spec, cell, what the cell holds)`` (module
    docstring)."""
    for real, spec in todo:
        header = {_key(c.value) for c in (spec.rows[0] if spec.rows else [])
                  if c.value is not None}
        if _key(real) == _key(PROBLEMS):
            header |= set(PROBLEMS_HEADER)
        grid = values(real)
        if _key(real) == _key(PROBLEMS) and grid and \
                tuple(_key(v) for v in grid[0][:5]) == PROBLEMS_HEADER:
            continue
        first = _key(spec.rows[0][0].value) if spec.rows and spec.rows[0] else ""
        hit = _first_content(grid, header, first)
        if hit is None:
            continue
        r, c, v = hit
        shown = " ".join(text(v).split())
        shown = shown if len(shown) <= 30 else shown[:29] + "…"
        yield real, spec, address(r, c), shown


def optional_names(settings: Settings) -> dict[str, str]:
    """The optional result sheets (:data:`~xl_aiindex.contract.OPTIONAL_SHEETS`) under the names ``settings``
    gives them: folded name -> the Settings key naming it."""
    return {_key(settings.sheet(default)): k for k, default in SHEET_NAME_KEYS.items()}


def skip_optional(kinds: Mapping[str, str], values: Callable[[str], list[list[Any]]],
                  specs: Sequence[SheetSpec], sheet_names: Sequence[str],
                  stored: Stored | None, settings: Settings, force: bool = False
                  ) -> tuple[list[SheetSpec], list[str]]:
    """``specs`` without the optional result sheets (:data:`~xl_aiindex.contract.OPTIONAL_SHEETS`, under the names
    ``settings`` gives them) whose name a sheet of the user's has: a worksheet the tool did
    not write, or a chart or other sheet (``kinds``: the workbook's sheet kinds;
    ``values(name)``: a sheet's cell values). Returns the sheets to write and a note per
    sheet skipped, saying how to get it: the core sheets are never skipped (their owner
    refuses them: :func:`foreign_sheet_problems`). ``force`` (``recalc --force``) skips only
    the sheets that are not worksheets: a worksheet of the name is replaced, as a core sheet
    is (the result sheets of an older version, written without fingerprints, are updated)."""
    optional = optional_names(settings)
    existing = {_key(n): n for n in sheet_names}
    kind_of = {_key(n): k for n, k in kinds.items()}
    skipped: dict[str, tuple[str, str]] = {}   # folded name -> (real name, what it is)
    todo: list[tuple[str, SheetSpec]] = []
    for spec in specs:
        k = _key(spec.name)
        if k not in optional or k not in existing:
            continue
        kind = kind_of.get(k, "worksheet")
        if kind != "worksheet":
            words = _KIND_WORDS.get(kind)
            skipped[k] = (existing[k], _("is {what} of yours").format(
                what=_(words) if words else _("not a worksheet")))
        elif not force and (stored is None or k not in stored.sheets):
            todo.append((existing[k], spec))
    forced: set[str] = set()   # the user's worksheets, which recalc --force replaces
    for real, _spec, cell, shown in _foreign(values, todo):
        skipped[_key(real)] = (real, _("is yours (it holds '{shown}' in {cell})").format(
            shown=shown, cell=cell))
        forced.add(_key(real))
    notes = []
    for k, (real, what) in skipped.items():
        key = optional[k]
        default = SHEET_NAME_KEYS[key]
        how = _("name a sheet for it in Settings, e.g. {key} = {example}").format(
            key=key, example=SHEET_NAME_EXAMPLES[key]) if k == _key(default) else \
            _("give Settings {key} another name than '{sheet}'").format(key=key, sheet=real)
        if k in forced:
            how += _(" (or recalc --force to replace your sheet)")
        notes.append(_("sheet '{sheet}' {what}: it was left as it is and the {default} result "
                       "sheet was not written; to get {default}, {how}").format(
                           sheet=real, what=what, default=default, how=how))
    return [s for s in specs if _key(s.name) not in skipped], notes


def tool_sheets_readme() -> tuple[str, str]:
    """The README sheet's row (English, Chinese) naming every sheet the tool may write."""
    rewritten = [n for n in TOOL_SHEETS if n not in (LOG, STORE_SHEET)]
    return (
        f"Sheets xl-aiindex writes (rewritten by its commands; do not type into them): "
        f"{', '.join(rewritten)}. Log gets one row per run (your own rows, columns and notes there "
        f"are kept); the very hidden {STORE_SHEET} holds the fingerprints that detect hand edits. "
        "A sheet of yours that carries one of these names is never replaced: the command stops "
        "and names it.",
        f"xl-aiindex 写入的表（由命令重写，请勿手工填写）：{'、'.join(rewritten)}。Log 每次运行追加一行"
        f"（您在其中添加的行、列和备注保留）；深度隐藏的 {STORE_SHEET} 保存用于发现手工修改的指纹。"
        "您自己的表若与上述表同名，不会被替换：命令会停止并指出该表。",
    )


def sheet_name_problems(settings: Settings) -> list[Problem]:
    """A problem (of its Settings key) for each name the Settings give an optional result
    sheet (``sheet_charts``…) that Excel refuses (more than :data:`MAX_SHEET_NAME`
    characters, one of ``[]:*?/\\``, ``'`` at either end, ``History``), that an input sheet
    has (``AHP_…`` and ``Budget_…`` by prefix) or another result sheet, or that two keys
    give."""
    taken = {_key(n): _("the input sheet '{sheet}'").format(sheet=n)
             for n in (*INPUT_SHEETS, UNCERTAINTY, README)}
    taken |= {_key(n): _("the result sheet '{sheet}'").format(sheet=n)
              for n in (*TOOL_SHEETS, TRENDS, EXAMPLES, "xlwings.conf")}
    keys = {default: k for k, default in SHEET_NAME_KEYS.items()}
    out: list[Problem] = []

    def bad(key: str, what: str) -> None:
        out.append(Problem(SETTINGS, field=key, problem=_("setting '{key}': {problem}").format(
            key=key, problem=what)))

    for default, name in settings.sheet_names:
        key = keys[default]
        folded = _key(name)
        others = [keys[d] for d, n in settings.sheet_names if d != default and _key(n) == folded]
        if len(name) > MAX_SHEET_NAME:
            bad(key, _("'{name}' has {count} characters; a sheet name has at most {limit}").format(
                name=name, count=len(name), limit=MAX_SHEET_NAME))
        elif any(ch in SHEET_NAME_FORBIDDEN for ch in name) or any(ord(ch) < 32 for ch in name):
            bad(key, _("'{name}' is not a sheet name Excel accepts: it may not hold any of "
                       "{characters} or control characters").format(
                           name=name, characters=" ".join(SHEET_NAME_FORBIDDEN)))
        elif name.startswith("'") or name.endswith("'") or folded == _key(RESERVED_SHEET_NAME):
            bad(key, _("'{name}' is not a sheet name Excel accepts (no ' at either end; "
                       "'{reserved}' is reserved)").format(name=name,
                                                          reserved=RESERVED_SHEET_NAME))
        elif folded != _key(default) and folded in taken:
            bad(key, _("'{name}' is {taken}; name the {default} sheet otherwise, e.g. {key} = "
                       "{example}").format(name=name, taken=taken[folded], default=default,
                                           key=key, example=SHEET_NAME_EXAMPLES[key]))
        elif folded.startswith((_key(AHP_PREFIX) + "_", _key(BUDGET_PREFIX) + "_")):
            bad(key, _("'{name}' is the name of an input sheet ({ahp}_… and {budget}_… hold "
                       "matrices); name the {default} sheet otherwise").format(
                           name=name, ahp=AHP_PREFIX, budget=BUDGET_PREFIX, default=default))
        elif others:
            bad(key, _("'{name}' is also the name given by {other}; give each sheet its own "
                       "name").format(name=name, other=others[0]))
    return out
