"""The ``xl-aiindex`` command line: each command reads a workbook, makes one library call and
prints. Exit codes (the workbook contract): 0 done; 1 the workbook has problems (each listed with
its sheet and cell); 2 the file cannot be read at all, or the command line is wrong."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from . import __version__, api, i18n
from . import cli_format as show
from .errors import EXIT_PROBLEMS, EXIT_UNREADABLE, ProblemsFound, exit_code, one_line
from .i18n import N_, _, ngettext, normalise_language, use_language

F = TypeVar("F", bound=Callable[..., Any])


class NonEmptyPath(click.Path):
    """A path argument that refuses the empty string: ``Path("")`` is the current folder, and
    an unset shell variable (``xl-aiindex recalc "$BOOK"``) must never mean every workbook in
    it (exit 2, as any bad command line)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """``value`` as click.Path converts it, after refusing an empty one."""
        if isinstance(value, str) and value == "":
            self.fail(_("an empty path was given (an unset shell variable?): name the file or "
                        "folder"), param, ctx)
        return super().convert(value, param, ctx)


def _debug_option(f: F) -> F:
    return click.option("--debug", is_flag=True, help="Show a traceback on errors.")(f)


def _run(debug: bool, action: Callable[[], int | None]) -> None:
    """Run ``action`` (one library call and its printing) and exit with its code, or with the
    code of the error it raised (:func:`~xl_aiindex.errors.exit_code`), after saying what went
    wrong (a traceback only with ``--debug``)."""
    try:
        code = action() or 0
    except BrokenPipeError:  # output piped into `head`: stop quietly
        sys.stderr.close()
        code = 0
    except Exception as e:  # never a traceback for users unless asked for
        if debug:
            traceback.print_exc()
        show.show_error(e)
        code = exit_code(e)
    sys.exit(code)


def _language_in(args: list[str]) -> tuple[str | None, list[str]]:
    """The language ``--lang zh|en`` (or ``--lang=zh``) asks for, wherever it stands on the
    command line, and the arguments without it (it is read before click parses, so that help
    screens are translated and ``validate book.xlsx --lang zh`` works too). A value that is not
    a language is left in place for click to refuse."""
    rest: list[str] = []
    language: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        value = None
        if arg == "--lang" and i + 1 < len(args):
            value, step = args[i + 1], 2
        elif arg.startswith("--lang="):
            value, step = arg.partition("=")[2], 1
        if value is not None and normalise_language(value) is not None:
            language = normalise_language(value)
            i += step
            continue
        rest.append(arg)
        i += 1
    return language, rest


def _localise_help(command: click.Command) -> None:
    """Put ``command``'s help texts (and its subcommands', its options') in the current
    language; the English ones stay in ``_help_source`` (the catalogue's msgids:
    :func:`xl_aiindex.i18n_tools.help_texts`)."""
    import inspect

    for owner, attribute in ((command, "help"), (command, "short_help"), (command, "epilog"),
                             *((p, "help") for p in command.params)):
        sources = owner.__dict__.setdefault("_help_source", {})
        if attribute not in sources:
            text = getattr(owner, attribute, None)
            sources[attribute] = (inspect.cleandoc(text) if owner is command else text) \
                if text else text
        if sources[attribute]:
            setattr(owner, attribute, i18n.translations(i18n.current_language())
                    .gettext(sources[attribute]))
    if not command.__dict__["_help_source"]["short_help"]:
        # click shortens a help to its first words, which Chinese does not separate by spaces:
        # the first clause of a translated help is the command list's summary
        translated = command.help or ""
        command.short_help = re.split("[。：；]", translated, maxsplit=1)[0][:40] \
            if translated != command.__dict__["_help_source"]["help"] else None
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _localise_help(sub)


#: click's own texts the command line shows (help headings, usage errors), marked for the
#: catalogue: click looks each up with ``gettext``, which :func:`_click_in_language` points at it.
CLICK_TEXTS = (
    N_("Usage:"), N_("Options"), N_("Commands"), N_("Show this message and exit."),
    N_("Error: {message}"), N_("Try '{command} {option}' for help."), N_("Missing argument"),
    N_("Missing option"), N_("Missing command."), N_("No such option {name!r}."),
    N_("No such command {name!r}."), N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"), N_("Aborted!"), N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a directory."), N_("file"), N_("directory"), N_("path"),
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 2),
    ngettext("Got unexpected extra argument ({args})",
             "Got unexpected extra arguments ({args})", 2),
    ngettext("Option {name!r} requires an argument.",
             "Option {name!r} requires {nargs} arguments.", 2),
    ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 2),
)


@contextlib.contextmanager
def _click_in_language() -> Iterator[None]:
    """click's own texts (help headings, usage errors) in the current language while the
    block runs: its modules' ``gettext`` look in the catalogue (a text it lacks stays
    click's)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    catalogue = i18n.translations(i18n.current_language())
    modules = (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
               click.types)
    saved = [(m, name, getattr(m, name)) for m in modules for name in ("_", "ngettext")
             if hasattr(m, name)]
    for m, name, _original in saved:
        setattr(m, name, catalogue.gettext if name == "_" else catalogue.ngettext)
    try:
        yield
    finally:
        for m, name, original in saved:
            setattr(m, name, original)


class LocalisedGroup(click.Group):
    """The command group, in the language ``--lang`` asks for (else the locale's): its help
    screens and every message of the run."""

    def main(self, args: Sequence[str] | None = None, *more: Any, **options: Any) -> Any:
        """Run the command line with ``args`` (``sys.argv`` when None) in its language."""
        language, rest = _language_in(list(sys.argv[1:] if args is None else args))
        with use_language(language), _click_in_language():
            _localise_help(self)
            # sys.argv untouched: click reads it itself (and expands wildcards on Windows)
            return super().main(rest if args is not None or language else None, *more,
                                **options)


def _run_json(debug: bool, book: Path, action: Callable[[], dict[str, Any]]) -> None:
    """Run ``action`` (one library call returning plain data) and print its JSON, exit 0; on
    an error, print the JSON record ``validate --json`` prints for a failed workbook
    (``path``, ``status``, ``error``, ``problems``) and exit with the error's code."""
    from .errors import error_kind

    try:
        doc = action()
        code = 0
    except Exception as e:
        if debug:
            traceback.print_exc()
        problems = [one_line(str(p)) for p in e.problems] if isinstance(e, ProblemsFound) else []
        doc = {"path": str(book), "status": error_kind(e),
               "error": problems[0] if problems else one_line(str(e)), "problems": problems}
        code = exit_code(e)
    click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
    sys.exit(code)


def _year_option(f: F) -> F:
    """``--year``: the year of a panel workbook (Data with a ``year`` column) to work on."""
    return click.option("--year", type=int, default=None,
                        help=_("The year of a workbook with a year column in Data (default: "
                               "the latest); a workbook of one edition refuses it."))(f)


def _json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True,
                        help=N_("Print JSON (the result as plain data; on an error, the record "
                               "validate --json prints), nothing else."))(f)


@click.group(cls=LocalisedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xl-aiindex")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of messages, help and what is written into workbooks: zh (Chinese) "
                   "or en (English). Default: the workbook's Settings 'language', else the "
                   "locale (LANG=zh_CN.UTF-8 gives Chinese), else English.")
def cli(lang: str | None = None) -> None:
    """Build, compute, check and explain composite indices kept in Excel workbooks.

    Exit codes: 0 done; 1 the workbook has problems (each listed with its sheet and cell);
    2 the file cannot be read at all, or the command line is wrong.
    """


def _batch_options(f: F) -> F:
    for option in reversed([
        click.option("--recursive", "-r", is_flag=True,
                     help="With a folder: also the workbooks in its subfolders."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                     help="How many workbooks at once (default: the number of cores)."),
        click.option("--quiet", "-q", is_flag=True,
                     help="No progress, ranking or OK line: only notes, failures and (with several "
                          "workbooks) the summary line."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print one JSON record per workbook (path, status, seconds, units, "
                          "error…), nothing else."),
    ]):
        f = option(f)
    return f


def _count(n: int, noun: str) -> str:
    """``1 workbook``, ``3 workbooks``, in the current language."""
    return show.counted(n, noun)


def _is_batch(books: Sequence[str]) -> bool:
    import glob

    return len(books) != 1 or Path(books[0]).is_dir() or (
        glob.has_magic(books[0]) and not Path(books[0]).exists())


def _batch(command: str, books: Sequence[str], out_dir: Path | None, recursive: bool,
           jobs: int | None, quiet: bool, as_json: bool, options: dict[str, Any],
           output: Path | None = None) -> int:
    """Run ``command`` on many workbooks; print progress, a summary (or JSON); exit code.
    ``output``: where the one workbook of ``books`` goes (``-o`` with ``--json``)."""
    from .batch import InputError, default_jobs, expand_inputs, output_paths, run_batch

    try:
        inputs = expand_inputs(books, recursive)
        outputs: list[Path | None] = [output] if output is not None else \
            output_paths(inputs, out_dir)
    except InputError as e:
        click.echo(_("Error: {error}").format(error=one_line(str(e))), err=True)
        return EXIT_UNREADABLE
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    n = len(inputs)
    workers = min(jobs or default_jobs(), n)
    recalculating = command == "recalc"
    verbose = not (quiet or as_json)
    bar: Any = None
    current: list[str] = [""]
    if verbose and sys.stderr.isatty():
        label = _("Recalculating {workbooks} ({workers} at a time)") if recalculating else \
            _("Validating {workbooks} ({workers} at a time)")
        bar = click.progressbar(length=n, label=label.format(workbooks=_count(n, "workbook"),
                                                             workers=workers),
                                file=sys.stderr, show_pos=True,
                                item_show_func=lambda _item: current[0] or None)
        bar.__enter__()
    elif verbose:
        line = _("Recalculating {workbooks}, {workers} at a time") if recalculating else \
            _("Validating {workbooks}, {workers} at a time")
        click.echo(line.format(workbooks=_count(n, "workbook"), workers=workers), err=True)

    # file names print as text, never as commands: a newline in a name would forge a line
    # (``FAILED``), an escape sequence would drive the terminal
    def started(path: Path) -> None:
        current[0] = one_line(str(path))

    def done(record: Any) -> None:
        if bar is not None:
            bar.update(1)
        elif verbose:
            tail = f"{record.seconds:.2f} s" if record.ok else record.error
            status = _("ok") if record.ok else _("FAILED")
            click.echo(f"{status:<6} {one_line(record.path)}: {one_line(tail)}", err=True)

    try:
        records = run_batch(command, inputs, outputs, workers,
                            {**options, "language": i18n.chosen_language()}, started, done)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    show.show_batch(command, records, quiet=quiet, as_json=as_json)
    return EXIT_PROBLEMS if any(not r.ok for r in records) else 0


@cli.command()
@click.argument("books", nargs=-1, required=True, metavar="BOOK...", type=NonEmptyPath())
@click.option("-o", "--output", type=NonEmptyPath(dir_okay=False, path_type=Path),
              help="Write the recalculated workbook here instead of in place (one BOOK).")
@click.option("--out-dir", type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Write each recalculated workbook into this folder (several BOOKs).")
@_batch_options
@click.option("--top", default=10, show_default=True, help="How many ranked units to print.")
@click.option("--formulas/--values", "formulas", default=None,
              help="Write the result sheets as live formulas with cached values, or as values "
                   "(default: the Settings key 'output').")
@click.option("--force", is_flag=True,
              help="Overwrite result cells edited by hand since the last recalc, and replace "
                   "sheets with result-sheet names that the tool did not write.")
@click.option("--wait", "wait", type=click.FloatRange(min=0), default=30.0, show_default=True,
              metavar="SECONDS",
              help="How long to wait while another xl-aiindex is writing the same workbook.")
@click.option("--check", is_flag=True,
              help="Write nothing: exit 0 when the result sheets match the inputs, 1 when the "
                   "inputs changed (or results were edited) since the last recalc.")
@_debug_option
def recalc(books: tuple[str, ...], output: Path | None, out_dir: Path | None, recursive: bool,
           jobs: int | None, quiet: bool, as_json: bool, top: int, formulas: bool | None,
           force: bool, wait: float, check: bool, debug: bool) -> None:
    """Recompute BOOK and rewrite its result sheets (Scores, Ranking, Tiers, WeightsUsed,
    GroupRanking, Charts, Compare, Treatment as they apply; Log gets one row appended). Input
    sheets are never written; nothing is written when the inputs have problems, when a sheet
    to replace is not one the tool wrote, or when result cells were edited by hand since the
    last recalc (they are listed; --force overwrites them). The file is replaced atomically,
    one writer at a time.
    With --formulas (or Settings output = formulas) the result sheets are live formulas on the
    input sheets, with the computed values cached, plus the helper sheets Calc and CalcStats.

    Example:

        xl-aiindex recalc workbooks/city_ai_index_2020.xlsx -o out.xlsx

        xl-aiindex recalc my_index.xlsx --formulas

    BOOK may be several files, folders (their .xlsx/.xlsm workbooks; --recursive for
    subfolders) or glob patterns: they are recalculated --jobs at a time, each on its own (one
    failure stops nothing else), with progress and a summary; the exit code is 1 if any failed.

        xl-aiindex recalc scenarios/ --out-dir results/ --jobs 2

    With --check nothing is computed or written: the Log row of the last recalc holds a hash
    of the inputs, compared with the inputs now (exit 0: up to date; 1: stale).

        xl-aiindex recalc --check my_index.xlsx
    """
    if check:
        if len(books) != 1 or output is not None or out_dir is not None or as_json:
            raise click.UsageError(_("--check takes one workbook, and no -o, --out-dir or "
                                     "--json"))
        def check_action() -> int:
            state = api.check(books[0])
            show.show_check(state)
            return 0 if state.fresh else EXIT_PROBLEMS

        _run(debug, check_action)
        return
    batch = _is_batch(books)
    if output is not None and (batch or out_dir is not None):
        raise click.UsageError(_("-o names one output file; with several workbooks use "
                                 "--out-dir DIR") if batch else
                               _("give -o OUT or --out-dir DIR, not both"))
    if batch or out_dir is not None or as_json:
        sys.exit(_batch("recalc", books, out_dir, recursive, jobs, quiet, as_json,
                        {"formulas": formulas, "force": force, "wait": wait}, output))

    def action() -> None:
        done = api.recalc(books[0], output=output, formulas=formulas, force=force, wait=wait,
                          top=0 if quiet else top)
        show.notes(done.notes)
        if not quiet:
            show.show_recalc(done, top)

    _run(debug, action)


@cli.command()
@click.argument("books", nargs=-1, required=True, metavar="BOOK...", type=NonEmptyPath())
@_batch_options
@_debug_option
def validate(books: tuple[str, ...], recursive: bool, jobs: int | None, quiet: bool,
             as_json: bool, debug: bool) -> None:
    """Check BOOK's inputs and computation without writing anything; list every problem.

    Example:

        xl-aiindex validate workbooks/city_ai_index_2020.xlsx

    BOOK may be several files, folders or glob patterns (as for recalc): every problem of every
    workbook is listed, and the exit code is 1 if any has problems.
    """
    if _is_batch(books) or as_json:
        sys.exit(_batch("validate", books, None, recursive, jobs, quiet, as_json, {}))

    def action() -> None:
        done = api.validate(books[0])
        show.notes(done.notes)
        if not quiet:
            show.show_validate(done)

    _run(debug, action)


@cli.command("fit-weights")
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.option("--node", default=None, help="Fit the weights of this node's children "
                                           "(default: the root's).")
@_json_option
@_debug_option
def fit_weights_command(book: Path, node: str | None, as_json: bool, debug: bool) -> None:
    """Infer the non-negative weights, summing to 1, that best turn the Given sub-scores of a
    node's children into the node's given scores (the root: the `published` column), by least
    squares, and print each unit's residual.

    Example:

        xl-aiindex fit-weights workbooks/city_ai_index_2020.xlsx
    """
    if as_json:
        _run_json(debug, book, lambda: api.fit_json(book, api.fit_weights(book, node=node)))
    _run(debug, lambda: show.show_fit(api.fit_weights(book, node=node)))


@cli.command()
@click.option("--framework", "framework", required=True, metavar="TREE.csv",
              type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help="The indicator tree: the Framework's columns (id, parent, name_zh, name_en, "
                   "weight, direction, normalisation…), one row per node, any depth.")
@click.option("--units", "units", required=True, metavar="UNITS.csv",
              type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help="The units: id, name_zh, name_en, then grouping or numeric columns.")
@click.option("--data", "data", metavar="DATA.csv", default=None,
              type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help=N_("Fill the Data sheet from this file: the units (ids or names) in the first "
                     "column, one column per indicator headed by its id, Chinese or English "
                     "name."))
@click.option("-o", "--output", required=True, metavar="BOOK.xlsx",
              type=NonEmptyPath(dir_okay=False, path_type=Path), help="The workbook to write.")
@click.option("--force", is_flag=True, help="Overwrite BOOK.xlsx if it exists.")
@_debug_option
def new(framework: Path, units: Path, data: Path | None, output: Path, force: bool,
        debug: bool) -> None:
    """Write a ready workbook for your own index: the tree of TREE.csv (any depth) and the
    units of UNITS.csv in Framework and Units, Data with a row per unit to fill in, Settings
    with the defaults, drop-downs, a bilingual README and empty result sheets. Then fill Data
    and run recalc. Refuses to overwrite an existing BOOK.xlsx unless --force.

    Example:

        xl-aiindex new --framework tree.csv --units units.csv -o my_index.xlsx

        xl-aiindex new --framework tree.csv --units units.csv --data data.csv -o my_index.xlsx
    """
    def action() -> int:
        try:
            done = api.new_workbook(framework, units, output, force=force, data=data)
        except ProblemsFound as e:   # the CSVs' problems: file and cell
            show.show_file_problems(e)
            return EXIT_PROBLEMS
        show.show_new(done)
        return 0

    _run(debug, action)


@cli.command()
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=NonEmptyPath(dir_okay=False, path_type=Path), metavar="OUT.xlsm",
              help="The macro-enabled workbook to write (default: BOOK with the suffix .xlsm).")
@click.option("--force", is_flag=True, help="Overwrite OUT.xlsm if it exists, and replace "
                                           "an Examples or xlwings.conf sheet of BOOK that the "
                                           "tool did not write.")
@click.option("--interpreter", "interpreter_win", default=None, metavar="PYTHON.EXE",
              help="Pin this Python (Windows) in the xlwings.conf sheet (default: the one the "
                   "xlwings add-in or its config file names).")
@click.option("--lite", is_flag=True, help="For xlwings Lite instead (Excel on Windows, Mac "
              "and the web): add a defined name per input sheet and a Lite Examples sheet to "
              "BOOK (or OUT), no VBA (docs/lite.md).")
@_debug_option
def excel(book: Path, output: Path | None, force: bool, interpreter_win: str | None,
          lite: bool, debug: bool) -> None:
    """Turn a workbook of the contract into a macro-enabled workbook for Excel: the AI_*
    functions and the Rebuild/Validate macros in its VBA project (xlwings standalone: no
    add-in, no Import Functions), an xlwings.conf sheet, an Examples sheet for its units and
    nodes, and buttons. Built for the installed xlwings; run it again after upgrading xlwings.

    Example:

        xl-aiindex excel my_index.xlsx -o my_index.xlsm
    """
    if lite:
        if interpreter_win is not None:
            from .i18n import _

            raise click.UsageError(_("--interpreter is for the desktop .xlsm, not with --lite"))
        _run(debug, lambda: show.show_excel_lite(api.excel_lite(book, output=output,
                                                                force=force)))
        return
    _run(debug, lambda: show.show_excel(api.excel(book, output=output, force=force,
                                                  interpreter_win=interpreter_win)))


@cli.command()
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=NonEmptyPath(dir_okay=False, path_type=Path),
              help="Write the results here instead of in place.")
@click.option("--samples", default=512, show_default=True, type=click.IntRange(min=4),
              help="Base sample size N to start from (the index runs N × (assumptions + 2) "
                   "times); doubled while the indices are not "
                   "precise enough and --budget allows.")
@click.option("--budget", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds the automatic doubling of N may take (0: run N as given).")
@click.option("--seed", default=1, show_default=True, help="Seed of the sample, for repeatable runs.")
@click.option("--top", default=10, show_default=True, help="How many units to print.")
@click.option("--force", is_flag=True,
              help="Overwrite cells of UncertaintyResults and Sensitivity edited by hand (or "
                   "sheets of those names the tool did not write).")
@_year_option
@_debug_option
def uncertainty(book: Path, output: Path | None, samples: int, budget: float, seed: int, top: int,
                force: bool, year: int | None, debug: bool) -> None:
    """Vary what the Uncertainty sheet lists (weights, methods, indicators), run the index
    many times, and write how far each unit's rank moves (UncertaintyResults) and which
    assumption moves the ranks most (Sensitivity: Sobol' indices with 95 % intervals).
    Without an Uncertainty sheet the default analysis runs (weights ±25 %, the normalisation
    alternatives, the missing-value methods where Data has blanks), with a note.

    Example:

        xl-aiindex uncertainty workbooks/city_ai_index_2020_data.xlsx -o out.xlsx
    """
    def action() -> None:
        with show.progress_bar(_("Running the index")) as progress:
            done = api.uncertainty(book, output=output, samples=samples, budget=budget,
                                   seed=seed, force=force, progress=progress, year=year)
        show.show_uncertainty(done, top)

    _run(debug, action)


@cli.command()
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.argument("unit")
@click.option("--node", default=None, help="Explain this node (id or name; default: the index).")
@click.option("--depth", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many levels below the node to show.")
@_year_option
@_json_option
@_debug_option
def explain(book: Path, unit: str, node: str | None, depth: int, year: int | None,
            as_json: bool, debug: bool) -> None:
    """Explain UNIT's score (an id, Chinese or English name): each child's weight, the unit's
    score and rank on it, its contribution (weight × score, under arithmetic aggregation) and
    the gap to the best unit — and where the unit loses most.

    Example:

        xl-aiindex explain workbooks/city_ai_index_2020.xlsx 南京

        xl-aiindex explain workbooks/city_ai_index_2020_data.xlsx Nanjing --node rnd --depth 2
    """
    if as_json:
        _run_json(debug, book, lambda: api.explain(book, unit, node=node, depth=depth,
                                                   year=year).as_json())
    _run(debug, lambda: show.show_explain(api.explain(book, unit, node=node, depth=depth,
                                                      year=year), depth))


@cli.command("audit")
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=NonEmptyPath(dir_okay=False, path_type=Path),
              help="Write the Audit sheet here instead of in place.")
@click.option("--no-sheet", is_flag=True, help="Only print: write no Audit sheet.")
@click.option("--force", is_flag=True,
              help="Replace an Audit sheet the tool did not write, or cells of it edited by "
                   "hand.")
@_year_option
@_json_option
@_debug_option
def audit_command(book: Path, output: Path | None, no_sheet: bool, force: bool,
                  year: int | None, as_json: bool, debug: bool) -> None:
    """Audit the index statistically, as the OECD-JRC Handbook and COINr do: per indicator
    min, max, mean, sd, skewness, kurtosis, missing values and whether it needs outlier
    treatment; each node's correlation with its parent and the total; Cronbach's alpha and the
    first principal component's share per sibling group; negative and near-duplicate (r > 0.92)
    sibling pairs; each indicator's effective importance (squared correlation with the total,
    normalised) beside its weight in the total. Prints warnings first, then a table per sibling
    group, and writes the Audit sheet (one row per node).

    Example:

        xl-aiindex audit workbooks/city_ai_index_2020_data.xlsx -o out.xlsx
    """
    if as_json:
        _run_json(debug, book, lambda: api.audit(book, output=output, write=not no_sheet,
                                                 force=force, year=year).as_json())

    def action() -> None:
        done = api.audit(book, output=output, write=not no_sheet, force=force, year=year)
        show.notes(done.notes)
        show.show_audit(done)

    _run(debug, action)


@cli.command("weights")
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.option("--node", default=None, help="Only this node's children (id or name; default: "
                                           "every sibling group with two or more members).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (weights and rank moves per "
                                                      "method), nothing else.")
@_year_option
@_debug_option
def weights_command(book: Path, node: str | None, as_json: bool, year: int | None,
                    debug: bool) -> None:
    """Compare weighting methods before choosing one: per sibling group, the weights each
    method gives (given, equal, entropy, critic, sd, pca; ahp and budget where the workbook has
    their sheets) side by side, and how many units would change rank, and by how much at most,
    if that group alone were weighted that way (* marks the current choice). Writes nothing.

    Example:

        xl-aiindex weights workbooks/city_ai_index_2020_data.xlsx --node index
    """
    def action() -> None:
        done = api.weights(book, node=node, year=year)
        if as_json:
            click.echo(json.dumps(done.as_json(), ensure_ascii=False, indent=1))
            return
        show.notes(done.notes)
        show.show_weights(done)

    _run(debug, action)


@cli.command()
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.argument("units", nargs=-1, required=True, metavar="UNIT UNIT...")
@click.option("--node", default=None, help=N_("Compare on this node's children (id or name; "
                                             "default: the index's)."))
@_year_option
@_json_option
@_debug_option
def compare(book: Path, units: tuple[str, ...], node: str | None, year: int | None,
            as_json: bool, debug: bool) -> None:
    """Compare two or more units (ids, Chinese or English names) side by side: their score
    and rank on each child of the root (or of --node) and on the index (that node), and the
    difference of each to the first.

    Example:

        xl-aiindex compare workbooks/city_ai_index_2020.xlsx 北京 上海

        xl-aiindex compare workbooks/city_ai_index_2020_data.xlsx 北京 上海 --node rnd
    """
    if len(units) < 2:
        raise click.UsageError(_("name at least two units to compare"))
    if as_json:
        _run_json(debug, book, lambda: api.compare(book, units, node=node,
                                                   year=year).as_json())
    _run(debug, lambda: show.show_compare(api.compare(book, units, node=node, year=year)))


@cli.command("compare-editions")
@click.argument("old", type=NonEmptyPath(dir_okay=False, path_type=Path))
@click.argument("new", type=NonEmptyPath(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=NonEmptyPath(dir_okay=False, path_type=Path),
              help="Write NEW with the Changes sheet here instead of into NEW.")
@click.option("--no-write", is_flag=True, help="Print only; write no Changes sheet.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option("--top", default=10, show_default=True, help="How many units to print.")
@click.option("--common-scale", is_flag=True,
              help="Normalise both editions' data together before comparing, so a change in "
                   "score is a change in the unit's own values.")
@click.option("--force", is_flag=True,
              help="Replace a Changes sheet the tool did not write, or cells of it edited by "
                   "hand; compare editions that share fewer than half of their units.")
@_debug_option
def compare_editions_command(old: Path, new: Path, output: Path | None, no_write: bool,
                             as_json: bool, top: int, common_scale: bool, force: bool,
                             debug: bool) -> None:
    """Compare two editions of the same index (OLD and NEW workbooks, units matched by id):
    per unit the change of rank, score and tier overall and on each child of the root, and
    the units that entered or left. Writes the table as the Changes sheet into NEW (or -o OUT).

    Example:

        xl-aiindex compare-editions index_2020.xlsx index_2021.xlsx
    """
    def action() -> None:
        done = api.compare_editions(old, new, output=output, write=not no_write, force=force,
                                    common_scale=common_scale)
        if as_json:
            click.echo(json.dumps(done.as_json(), ensure_ascii=False, indent=1))
        else:
            show.show_editions(done, top)

    _run(debug, action)


@cli.command()
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=NonEmptyPath(dir_okay=False, path_type=Path), required=True,
              help="The file to write: .html or .htm (the page) or .pdf (printed by headless "
                   "Chromium or WeasyPrint); never the workbook.")
@_year_option
@_debug_option
def report(book: Path, output: Path, year: int | None, debug: bool) -> None:
    """Write a self-contained bilingual HTML report of BOOK: ranking with tiers, the TOP-N and
    comparison charts (inline SVG), the weights in use, the uncertainty and audit results when
    the workbook has them, and a methodology annex (tree, weights, methods and formulas,
    imputed values, outliers, uncertainty set-up). No external file or address: it opens
    offline and prints to A4; -o report.pdf prints it to PDF.

    Example:

        xl-aiindex report workbooks/city_ai_index_2020.xlsx -o report.html
    """
    _run(debug, lambda: show.show_report(api.report(book, output=output, year=year)))


@cli.command()
@click.argument("book", type=NonEmptyPath(dir_okay=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True,
              help="csv: one file per table; json: one file with every table.")
@click.option("--out-dir", type=NonEmptyPath(file_okay=False, path_type=Path), default=None,
              help="Folder to write to (default: BOOKSTEM-export beside the workbook).")
@click.option("--encoding", type=click.Choice(["utf-8-sig", "utf-8", "gb18030", "gbk"],
                                             case_sensitive=False), default=None,
              help="The CSV files' encoding (default utf-8-sig: UTF-8 with a byte-order mark, "
                   "which Excel opens as UTF-8).")
@click.option("--force", is_flag=True, help="Overwrite exported files that exist.")
@_debug_option
def export(book: Path, fmt: str, out_dir: Path | None, encoding: str | None, force: bool,
           debug: bool) -> None:
    """Export the result tables (ranking, scores, tiers, weights, framework, compare and the
    uncertainty and audit sheets when present) for other tools: numbers as numbers, names in
    Chinese and English; CSV files are named BOOKSTEM_TABLE.csv, UTF-8 with a byte-order mark
    unless --encoding says otherwise. Existing files are refused unless --force.

    Example:

        xl-aiindex export workbooks/city_ai_index_2020.xlsx --format csv --out-dir out/
    """
    if encoding is not None and fmt != "csv":
        raise click.UsageError(_("--encoding applies to --format csv only (JSON is UTF-8)"))
    _run(debug, lambda: show.show_export(api.export(
        book, format=fmt, out_dir=out_dir, encoding=(encoding or "utf-8-sig").lower(),
        force=force)))


#: The BLAS threads of a command run (unless the environment sets them): its arrays are small
#: (one workbook's units × indicators), and OpenBLAS's idle worker threads spin for about a
#: tenth of a second after numpy loads, taking a core from the run on a small machine.
BLAS_THREADS = "1"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.
    Sets ``OPENBLAS_NUM_THREADS`` (:data:`BLAS_THREADS`) unless already set: numpy is not
    loaded yet (the commands import it on first use), so the setting holds for the run."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", BLAS_THREADS)
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="xl-aiindex",
                 standalone_mode=True)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def run() -> NoReturn:
    """The ``xl-aiindex`` program (console script and ``python -m xl_aiindex``): :func:`main`,
    then :func:`~xl_aiindex.fast_exit.leave` with its exit code."""
    from .fast_exit import leave

    leave(main())
