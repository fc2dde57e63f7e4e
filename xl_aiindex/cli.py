"""The ``xl-aiindex`` command line: each command reads a workbook, makes one library call and
prints. Exit codes (the workbook contract): 0 done; 1 the workbook has problems (each listed with
its sheet and cell); 2 the file cannot be read at all, or the command line is wrong."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import (
    BadArgument,
    ProblemsFound,
    UnknownName,
    UnreadableWorkbook,
    UnsafeWrite,
    XlAiIndexError,
    one_line,
)

EXIT_PROBLEMS = 1
EXIT_UNREADABLE = 2

F = TypeVar("F", bound=Callable[..., Any])


def _debug_option(f: F) -> F:
    return click.option("--debug", is_flag=True, help="Show a traceback on errors.")(f)


def _run(debug: bool, action: Callable[[], int | None]) -> None:
    """Run ``action``, turning the package's errors into messages and exit codes."""
    try:
        code = action() or 0
    except ProblemsFound as e:
        if debug:
            traceback.print_exc()
        count = len(e.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found:", err=True)
        for p in e.problems:
            click.echo(str(p), err=True)
        code = EXIT_PROBLEMS
    except (UnreadableWorkbook, UnsafeWrite, UnknownName, BadArgument) as e:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {one_line(str(e))}", err=True)
        code = EXIT_UNREADABLE
    except XlAiIndexError as e:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {e}", err=True)
        code = EXIT_PROBLEMS
    except BrokenPipeError:  # output piped into `head`: stop quietly
        sys.stderr.close()
        code = 0
    except OSError as e:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {e.filename or ''}: {e.strerror or e}", err=True)
        code = EXIT_UNREADABLE
    except Exception as e:  # never a traceback for users unless asked for
        if debug:
            traceback.print_exc()
        click.echo(f"Error: internal error ({type(e).__name__}: {e}); run again with --debug "
                   "for a traceback, and please report it", err=True)
        code = EXIT_PROBLEMS
    sys.exit(code)


def _notes(notes: Sequence[str]) -> None:
    for n in notes:
        click.echo(f"note: {one_line(n)}", err=True)


def _fmt(v: Any, digits: int = 2) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "" if f != f else f"{f:.{digits}f}"


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    """Plain aligned columns (wide characters count double, as a terminal shows them)."""
    from .terminal import display_width, pad

    rows = [[one_line(s) for s in r] for r in rows]   # names print as text, never as commands
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(pad(s, widths[i], i in right) for i, s in enumerate(r)).rstrip()
            for r in rows]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xl-aiindex")
def cli() -> None:
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
    """``1 workbook``, ``3 workbooks``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _is_batch(books: Sequence[str]) -> bool:
    import glob

    return len(books) != 1 or Path(books[0]).is_dir() or (
        glob.has_magic(books[0]) and not Path(books[0]).exists())


def _batch(command: str, books: Sequence[str], out_dir: Path | None, recursive: bool,
           jobs: int | None, quiet: bool, as_json: bool, options: dict[str, Any],
           output: Path | None = None) -> int:
    """Run ``command`` on many workbooks; print progress, a summary (or JSON); exit code.
    ``output``: where the one workbook of ``books`` goes (``-o`` with ``--json``)."""
    import json

    from .batch import InputError, default_jobs, expand_inputs, output_paths, run_batch

    try:
        inputs = expand_inputs(books, recursive)
        outputs: list[Path | None] = [output] if output is not None else \
            output_paths(inputs, out_dir)
    except InputError as e:
        click.echo(f"Error: {e}", err=True)
        return EXIT_UNREADABLE
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    n = len(inputs)
    workers = min(jobs or default_jobs(), n)
    verb = "Recalculating" if command == "recalc" else "Validating"
    show = not (quiet or as_json)
    bar: Any = None
    current: list[str] = [""]
    if show and sys.stderr.isatty():
        bar = click.progressbar(length=n, label=f"{verb} {_count(n, 'workbook')} ({workers} at a time)",
                                file=sys.stderr, show_pos=True,
                                item_show_func=lambda _: current[0] or None)
        bar.__enter__()
    elif show:
        click.echo(f"{verb} {_count(n, 'workbook')}, {workers} at a time", err=True)

    def started(path: Path) -> None:
        current[0] = str(path)

    def done(record: Any) -> None:
        if bar is not None:
            bar.update(1)
        elif show:
            tail = f"{record.seconds:.2f} s" if record.ok else record.error
            click.echo(f"{'ok' if record.ok else 'FAILED':<6} {record.path}: {tail}", err=True)

    try:
        records = run_batch(command, inputs, outputs, workers, options, started, done)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    failed = [r for r in records if not r.ok]
    if not as_json:
        for r in records:
            for note in r.notes:
                click.echo(f"note: {r.path}: {one_line(note)}", err=True)
    if as_json:
        for r in records:
            click.echo(json.dumps(r.as_json(), ensure_ascii=False))
        return EXIT_PROBLEMS if failed else 0
    if command == "validate":
        for r in failed:
            click.echo(f"{r.path}: " + (f"{len(r.problems)} problem{'s' if len(r.problems) != 1 else ''}:"
                                        if r.problems else r.error))
            for line in r.problems:
                click.echo(f"  {line}")
    rows = [["status", "workbook", "seconds", "units", "reason"]]
    for r in records if not quiet else failed:
        rows.append(["ok" if r.ok else "FAILED", r.path, f"{r.seconds:.2f}",
                     "" if r.units is None else str(r.units), one_line(r.error)])
    if len(rows) > 1:
        for line in _table(rows, right={2, 3}):
            click.echo(line)
    total = sum(r.seconds for r in records)
    click.echo(f"{n - len(failed)} ok, {len(failed)} failed ({n} workbook{'s' if n != 1 else ''}, "
               f"{total:.1f} s of work)")
    return EXIT_PROBLEMS if failed else 0


@cli.command()
@click.argument("books", nargs=-1, required=True, metavar="BOOK...")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the recalculated workbook here instead of in place (one BOOK).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
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
    mode = None if formulas is None else ("formulas" if formulas else "values")
    if check:
        if len(books) != 1 or output is not None or out_dir is not None or as_json:
            raise click.UsageError("--check takes one workbook, and no -o, --out-dir or --json")
        _run(debug, lambda: _check(Path(books[0])))
        return
    batch = _is_batch(books)
    if output is not None and (batch or out_dir is not None):
        raise click.UsageError("-o names one output file; with several workbooks use "
                               "--out-dir DIR" if batch else "give -o OUT or --out-dir DIR, "
                               "not both")
    if batch or out_dir is not None or as_json:
        sys.exit(_batch("recalc", books, out_dir, recursive, jobs, quiet, as_json,
                        {"output": mode, "force": force, "wait": wait}, output))
    book = Path(books[0])

    def action() -> int:
        import pandas as pd

        from .workbook.io import recalc_file
        from .workbook.results import ranking_table

        written: list[str] = []
        result = recalc_file(book, output, output=mode, force=force, wait=wait, written=written)
        _notes(result.notes)
        if quiet:
            return 0
        target = output or book
        tree_nodes = len(result.model.nodes)
        click.echo(f"Recalculated {book}: {len(result.scores)} units, {tree_nodes} nodes "
                   f"(input = {result.model.settings.input})")
        live = " (live formulas with cached values)" \
            if (mode or result.model.settings.output) == "formulas" else ""
        # the Problems sheet a validation may have filled is emptied on success: not news
        names = [n for n in dict.fromkeys(written) if n.lower() != "problems"]
        listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        click.echo(f"Wrote {listed} to {target}{live}")
        if top > 0:
            ranking = ranking_table(result)
            rows = [["rank", "unit", "name", "score", "tier"]]
            rule = result.model.settings.tiers
            for rec in ranking.head(top).itertuples(index=False):
                name = str(rec.name_zh or rec.name_en or "")
                t = result.tier.get(rec.unit, 0)
                tier = rule.label(int(t)) if t == t and t else ""
                rank = "" if pd.isna(rec.rank) else str(int(rec.rank))
                rows.append([rank, str(rec.unit), name, _fmt(rec.score), tier])
            click.echo("")
            for line in _table(rows, right={0, 3}):
                click.echo(line)
            if len(ranking) > top:
                click.echo(f"… {len(ranking) - top} more in sheet Ranking")
        return 0

    _run(debug, action)


def _check(book: Path) -> int:
    """``recalc --check``: say whether BOOK's results match its inputs; 0 fresh, 1 stale."""
    from .workbook.check import check_file

    state = check_file(book)
    if state.fresh:
        click.echo(f"Up to date: {book}: the result sheets match the inputs (last recalc "
                   f"{state.last_run}, inputs hash {state.current})")
        return 0
    click.echo(f"Stale: {book}: the result sheets do not match the inputs; run "
               f"xl-aiindex recalc {book}")
    for reason in state.reasons:
        click.echo(f"  {reason}")
    return EXIT_PROBLEMS


@cli.command()
@click.argument("books", nargs=-1, required=True, metavar="BOOK...")
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
    book = Path(books[0])

    def action() -> int:
        from .workbook.io import validate_file

        result, notes = validate_file(book)
        _notes(notes)
        if quiet:
            return 0
        model = result.model
        leaves = sum(1 for n in model.nodes if n.id not in {m.parent for m in model.nodes})
        click.echo(f"OK: {book}: no problems ({len(result.scores)} units, {leaves} indicators, "
                   f"{len(model.nodes)} nodes, input = {model.settings.input})")
        return 0

    _run(debug, action)


@cli.command("fit-weights")
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--node", default=None, help="Fit the weights of this node's children "
                                           "(default: the root's).")
@_debug_option
def fit_weights_command(book: Path, node: str | None, debug: bool) -> None:
    """Infer the non-negative weights, summing to 1, that best turn the Given sub-scores of a
    node's children into the node's given scores (the root: the `published` column), by least
    squares, and print each unit's residual.

    Example:

        xl-aiindex fit-weights workbooks/city_ai_index_2020.xlsx
    """

    def action() -> int:
        from .fit import fit_from_model
        from .workbook.io import load_workbook

        loaded = load_workbook(book)
        report = fit_from_model(loaded.model, node)
        for line in report.lines():
            click.echo(line)
        return 0

    _run(debug, action)


@cli.command()
@click.option("--framework", "framework", required=True, metavar="TREE.csv",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The indicator tree: the Framework's columns (id, parent, name_zh, name_en, "
                   "weight, direction, normalisation…), one row per node, any depth.")
@click.option("--units", "units", required=True, metavar="UNITS.csv",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The units: id, name_zh, name_en, then grouping or numeric columns.")
@click.option("-o", "--output", required=True, metavar="BOOK.xlsx",
              type=click.Path(dir_okay=False, path_type=Path), help="The workbook to write.")
@click.option("--force", is_flag=True, help="Overwrite BOOK.xlsx if it exists.")
@_debug_option
def new(framework: Path, units: Path, output: Path, force: bool, debug: bool) -> None:
    """Write a ready workbook for your own index: the tree of TREE.csv (any depth) and the
    units of UNITS.csv in Framework and Units, Data with a row per unit to fill in, Settings
    with the defaults, drop-downs, a bilingual README and empty result sheets. Then fill Data
    and run recalc. Refuses to overwrite an existing BOOK.xlsx unless --force.

    Example:

        xl-aiindex new --framework tree.csv --units units.csv -o my_index.xlsx
    """

    def action() -> int:
        from .tree import build_tree
        from .workbook.scaffold import new_workbook

        if output.exists() and not force:
            raise UnsafeWrite(f"{output} exists: use --force to overwrite it, or write to "
                              "another file")
        try:
            nodes, frame = new_workbook(framework, units, output)
        except ProblemsFound as e:   # the CSVs' problems: file and cell
            count = len(e.problems)
            click.echo(f"{count} problem{'s' if count != 1 else ''} found:", err=True)
            for p in e.problems:
                cell = f", cell {p.cell}" if p.cell else ""
                click.echo(f"File '{p.sheet}'{cell}: {p.problem}", err=True)
            return EXIT_PROBLEMS
        tree, _ = build_tree(nodes)
        assert tree is not None
        levels = 1 + max(tree.depth(n) for n in tree.by_id)
        click.echo(f"Wrote {output}: {len(nodes)} nodes in {levels} levels "
                   f"({len(tree.leaves)} indicators), {len(frame)} units")
        click.echo("Next: fill the Data sheet (a row per unit, a column per indicator; blank = "
                   "missing), then run")
        click.echo(f"  xl-aiindex recalc {output}")
        return 0

    _run(debug, action)


@cli.command()
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.xlsm",
              help="The macro-enabled workbook to write (default: BOOK with the suffix .xlsm).")
@click.option("--force", is_flag=True, help="Overwrite OUT.xlsm if it exists.")
@click.option("--interpreter", "interpreter_win", default=None, metavar="PYTHON.EXE",
              help="Pin this Python (Windows) in the xlwings.conf sheet (default: the one the "
                   "xlwings add-in or its config file names).")
@_debug_option
def excel(book: Path, output: Path | None, force: bool, interpreter_win: str | None,
          debug: bool) -> None:
    """Turn a workbook of the contract into a macro-enabled workbook for Excel: the AI_*
    functions and the Rebuild/Validate macros in its VBA project (xlwings standalone: no
    add-in, no Import Functions), an xlwings.conf sheet, an Examples sheet for its units and
    nodes, and buttons. Built for the installed xlwings; run it again after upgrading xlwings.

    Example:

        xl-aiindex excel my_index.xlsx -o my_index.xlsm
    """

    def action() -> int:
        from .workbook.excel_vba import xlwings_version
        from .workbook.xlsm import build_excel, udf_names

        out = output if output is not None else book.with_suffix(".xlsm")
        if out.suffix.lower() != ".xlsm":
            raise UnsafeWrite(f"{out}: a macro-enabled workbook must end in .xlsm")
        if not book.is_file():
            raise UnreadableWorkbook(str(book), "no such file")
        if out.exists() and not force:
            raise UnsafeWrite(f"{out} exists: use --force to overwrite it, or write to "
                              "another file")
        built = build_excel(book, out, interpreter_win=interpreter_win)
        from .workbook.xlsm import MACROS

        click.echo(f"Wrote {out}: {len(udf_names())} functions and {len(MACROS)} macros in its "
                   f"VBA project (xlwings {xlwings_version()}, standalone)")
        if built.problems:
            n = len(built.problems)
            click.echo(f"Note: the inputs have {n} problem{'s' if n != 1 else ''} (first: "
                       f"{built.problems[0]}); the functions show results once they are fixed: "
                       f"xl-aiindex validate {out}")
        click.echo("Next: open it in Excel on Windows and enable macros (docs/excel.md)")
        return 0

    _run(debug, action)


@cli.command()
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
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
@_debug_option
def uncertainty(book: Path, output: Path | None, samples: int, budget: float, seed: int, top: int,
                force: bool, debug: bool) -> None:
    """Vary what the Uncertainty sheet lists (weights, methods, indicators), run the index
    many times, and write how far each unit's rank moves (UncertaintyResults) and which
    assumption moves the ranks most (Sensitivity: Sobol' indices with 95 % intervals).

    Example:

        xl-aiindex uncertainty workbooks/city_ai_index_2020_data.xlsx -o out.xlsx
    """

    def action() -> int:
        from .workbook.uncertainty_io import uncertainty_file

        bar: Any = None
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            # a bar only on a terminal, and only for runs that last over two seconds
            nonlocal bar
            if not sys.stderr.isatty():
                return
            elapsed = time.monotonic() - started
            if bar is None and (elapsed > 2 or elapsed / max(done, 1) * total > 2):
                bar = click.progressbar(length=total, label="Running the index", file=sys.stderr)
                bar.__enter__()
            if bar is not None:
                if bar.length != total or done < bar.pos:  # N doubled: a new round of runs
                    bar.length, bar.pos = total, 0
                bar.update(done - bar.pos)

        try:
            result = uncertainty_file(book, output, samples, seed, budget, progress, force=force)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(f"Uncertainty analysis of {book}: {len(result.sensitivity)} assumptions, "
                   f"N = {result.samples}, {result.runs} runs")
        click.echo(f"Wrote UncertaintyResults and Sensitivity to {output or book}")
        click.echo("")
        rows = [["assumption", "first-order", "95% interval", "total", "95% interval"]]
        for rec in result.sensitivity.itertuples(index=False):
            rows.append([str(rec.assumption), f"{rec.first_order:.2f}",
                         f"{rec.first_order_low:.2f} to {rec.first_order_high:.2f}",
                         f"{rec.total:.2f}", f"{rec.total_low:.2f} to {rec.total_high:.2f}"])
        for line in _table(rows, right={1, 2, 3, 4}):
            click.echo(line)
        if top > 0:
            click.echo("")
            rows = [["rank", "unit", "5%", "median", "95%", "same tier", "mean shift"]]

            def whole(v: float) -> str:
                return "-" if v != v else f"{v:.0f}"

            for rec in result.summary.head(top).itertuples(index=False):
                same = "-" if rec.p_nominal_tier != rec.p_nominal_tier else f"{rec.p_nominal_tier:.0%}"
                rows.append([whole(rec.nominal_rank), str(rec.unit), whole(rec.rank_q05),
                             whole(rec.median_rank), whole(rec.rank_q95), same,
                             f"{rec.mean_abs_shift:.2f}"])
            for line in _table(rows, right={0, 2, 3, 4, 5, 6}):
                click.echo(line)
        return 0

    _run(debug, action)


@cli.command()
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.argument("unit")
@click.option("--node", default=None, help="Explain this node (id or name; default: the index).")
@click.option("--depth", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many levels below the node to show.")
@_debug_option
def explain(book: Path, unit: str, node: str | None, depth: int, debug: bool) -> None:
    """Explain UNIT's score (an id, Chinese or English name): each child's weight, the unit's
    score and rank on it, its contribution (weight × score, under arithmetic aggregation) and
    the gap to the best unit — and where the unit loses most.

    Example:

        xl-aiindex explain workbooks/city_ai_index_2020.xlsx 南京

        xl-aiindex explain workbooks/city_ai_index_2020_data.xlsx Nanjing --node rnd --depth 2
    """

    def action() -> int:
        from .explain import explain as explain_unit
        from .lookup import NameIndex
        from .workbook.io import compute, load_workbook

        loaded = load_workbook(book)
        result = compute(loaded)
        unit_id = NameIndex.of(result.model, "unit").find(unit)
        node_id = NameIndex.of(result.model, "node").find(node) if node else None
        table = explain_unit(result, unit_id, node_id, depth)
        head = table.iloc[0]
        names = result.model.units.loc[unit_id]
        label = names["name_zh"] or names["name_en"] or unit_id
        rank = result.rank[unit_id]
        tier = int(result.tier[unit_id])
        where = (f"rank {int(rank)} of {int(result.rank.notna().sum())}" if rank == rank
                 else "not ranked")
        if tier:
            where += f", {result.model.settings.tiers.label(tier)}"
        click.echo(one_line(f"{label} ({unit_id}) in {book}: {result.root} "
                            f"{_fmt(result.total[unit_id])}, {where}"))
        click.echo("")
        rows = [["node", "name", "weight", "score", "to parent", "rank", "gap to best"]]
        for rec in table.itertuples(index=False):
            rows.append(["  " * int(rec.depth) + str(rec.node), str(rec.name),
                         _fmt(rec.weight, 3), _fmt(rec.score), _fmt(rec.contribution),
                         f"{rec.rank}/{rec.of}" if rec.rank is not None else "",
                         _fmt(rec.gap_to_best)])
        for line in _table(rows, right={2, 3, 4, 5, 6}):
            click.echo(line)
        shown = int(table["depth"].max())
        if shown < depth:
            click.echo(f"note: --depth {depth} shows {shown} level{'s' if shown != 1 else ''}: "
                       + _why_shallower(result, str(head["node"]), shown), err=True)
        children = table[table["depth"] == 1]
        if len(children):
            loss = (children["weight"] * children["gap_to_best"]).astype(float)
            click.echo("")
            if not (loss > 0).any():
                click.echo(f"Leads on every child of {head['node']}: no gap to the best unit "
                           "anywhere")
            else:
                worst = children.loc[loss.idxmax()]
                click.echo(one_line(f"Largest loss: {worst['node']} ({worst['name']}): weight "
                                    f"{worst['weight']:.3f} × gap {worst['gap_to_best']:.2f} = "
                                    f"{loss.max():.2f} points of {head['node']}"))
        return 0

    _run(debug, action)


def _why_shallower(result: Any, node: str, shown: int) -> str:
    """Why ``explain`` stopped above the depth asked for: the tree ends there, or (input =
    given) the nodes below the given level have no score."""
    kids: dict[str, list[str]] = {}
    for n in result.model.nodes:
        if n.parent is not None:
            kids.setdefault(n.parent, []).append(n.id)
    level = [node]
    for _ in range(shown):
        level = [c for p in level for c in kids.get(p, [])]
    below = [c for p in level for c in kids.get(p, [])]
    if not below:
        return "the tree has no level below"
    return ("the nodes below have no score with input = given (computation starts at the Given "
            "sheet's nodes; set input = data to compute them from the Data sheet)")


@cli.command("audit")
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Audit sheet here instead of in place.")
@click.option("--no-sheet", is_flag=True, help="Only print: write no Audit sheet.")
@_debug_option
def audit_command(book: Path, output: Path | None, no_sheet: bool, debug: bool) -> None:
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

    def action() -> int:
        from .workbook.audit_io import audit_file

        result, report = audit_file(book, output, write=not no_sheet)
        _notes(result.notes)
        click.echo(f"Audit of {book}: {report.scope}, {len(result.scores)} units")
        if not no_sheet:
            click.echo(f"Wrote Audit to {output or book}")
        click.echo("")
        n = len(report.warnings)
        click.echo(f"{n} warning{'s' if n != 1 else ''}{':' if n else ''}")
        for w in report.warnings:
            click.echo(f"  {w}")
        table = report.table
        labels = {m.id: m.label for m in result.model.nodes}
        for g in report.groups.itertuples(index=False):
            click.echo("")
            head = f"{labels[g.node]}: {g.children} child{'ren' if g.children != 1 else ''}"
            if g.alpha == g.alpha:
                head += (f", Cronbach's alpha {g.alpha:.2f}, first component "
                         f"{100 * g.pc1_share:.0f}% of the variance ({g.units} units)")
            click.echo(head)
            rows = [["node", "miss", "min", "max", "mean", "sd", "skew", "kurt", "treat",
                     "r parent", "r total", "weight", "importance"]]
            for rec in table[table["parent"] == g.node].itertuples(index=False):
                ind = bool(rec.indicator)
                stats = [str(int(rec.missing)), _fmt(rec.min), _fmt(rec.max), _fmt(rec.mean),
                         _fmt(rec.sd), _fmt(rec.skewness), _fmt(rec.kurtosis),
                         "yes" if rec.needs_treatment else ""] if ind else [""] * 8
                rows.append([str(rec.node), *stats, _fmt(rec.r_parent), _fmt(rec.r_total),
                             _fmt(rec.weight_in_total, 3), _fmt(rec.importance, 3)])
            # columns blank in every row (statistics, for a group of inner nodes) are left out
            keep = [j for j in range(len(rows[0])) if j == 0 or any(r[j] for r in rows[1:])]
            rows = [[r[j] for j in keep] for r in rows]
            right = {i for i, j in enumerate(keep) if j not in (0, 8)}
            for line in _table(rows, right=right):
                click.echo(f"  {line}")
        return 0

    _run(debug, action)


@cli.command("weights")
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--node", default=None, help="Only this node's children (id or name; default: "
                                           "every sibling group with two or more members).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (weights and rank moves per "
                                                      "method), nothing else.")
@_debug_option
def weights_command(book: Path, node: str | None, as_json: bool, debug: bool) -> None:
    """Compare weighting methods before choosing one: per sibling group, the weights each
    method gives (given, equal, entropy, critic, sd, pca; ahp and budget where the workbook has
    their sheets) side by side, and how many units would change rank, and by how much at most,
    if that group alone were weighted that way (* marks the current choice). Writes nothing.

    Example:

        xl-aiindex weights workbooks/city_ai_index_2020_data.xlsx --node index
    """

    def action() -> int:
        import json

        from .compare_weights import as_json as to_json
        from .compare_weights import compare_weights
        from .lookup import NameIndex
        from .workbook.io import compute, load_workbook

        result = compute(load_workbook(book))
        node_id = NameIndex.of(result.model, "node").find(node) if node else None
        groups = compare_weights(result, node_id)
        if as_json:
            click.echo(json.dumps({"book": str(book), "groups": to_json(groups)},
                                  ensure_ascii=False, indent=1))
            return 0
        _notes(result.notes)
        labels = {m.id: m.label for m in result.model.nodes}
        click.echo(f"Weights by method for {book} (* = the current choice; moves: units whose "
                   "rank changes if this group alone is weighted so)")
        for g in groups:
            click.echo("")
            click.echo(f"{labels[g.node]}: {len(g.children)} children")
            header = ["child"] + [m.method + ("*" if m.method == g.current else "")
                                  for m in g.methods]
            rows = [header]
            for child in g.children:
                rows.append([child] + [_fmt(m.weights[child], 3) if m.weights is not None
                                       else "-" for m in g.methods])
            rows.append(["units moved"] + [str(m.units_moved) if m.moves is not None else "-"
                                           for m in g.methods])
            rows.append(["largest move"] + [str(m.largest_move) if m.moves is not None else "-"
                                            for m in g.methods])
            for line in _table(rows, right=set(range(1, len(header)))):
                click.echo(f"  {line}")
            for m in g.methods:
                if m.error:
                    click.echo(f"  {m.error}")
        return 0

    _run(debug, action)


@cli.command()
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.argument("units", nargs=-1, required=True, metavar="UNIT UNIT...")
@_debug_option
def compare(book: Path, units: tuple[str, ...], debug: bool) -> None:
    """Compare two or more units (ids, Chinese or English names) side by side: their score on
    each child of the root and on the index, and the difference of each to the first.

    Example:

        xl-aiindex compare workbooks/city_ai_index_2020.xlsx 北京 上海
    """
    if len(units) < 2:
        raise click.UsageError("name at least two units to compare")

    def action() -> int:
        from .lookup import NameIndex
        from .workbook.io import compute, load_workbook
        from .workbook.visuals import compare_units

        result = compute(load_workbook(book))
        index = NameIndex.of(result.model, "unit")
        ids = [index.find(u) for u in units]
        labels = [index.label(i, q) for i, q in zip(ids, units, strict=True)]
        rule = result.model.settings.tiers
        n_ranked = int(result.rank.notna().sum())
        heads = []
        for i, label in zip(ids, labels, strict=True):
            rank = result.rank[i]
            where = f"rank {int(rank)} of {n_ranked}" if rank == rank else "not ranked"
            if int(result.tier[i]):
                where += f", {rule.label(int(result.tier[i]))}"
            heads.append(f"{label} ({i}): {where}")
        click.echo(f"{book}")
        for h in heads:
            click.echo(h)
        click.echo("")
        table = compare_units(result, ids)
        zh = any(ord(ch) > 0x2E7F for ch in "".join(units))
        rows = [["node", "name", *labels, *[f"{labels[0]}−{other}" for other in labels[1:]]]]
        for rec in table.to_dict("records"):
            scores = [rec[f"score:{i}"] for i in ids]
            name = (rec["name_zh"] if zh else rec["name_en"]) or rec["name_zh"] or rec["name_en"]
            rows.append([str(rec["node"]), str(name), *[_fmt(v) for v in scores],
                         *[_fmt(scores[0] - v) for v in scores[1:]]])
        for line in _table(rows, right=set(range(2, len(rows[0])))):
            click.echo(line)
        return 0

    _run(debug, action)


@cli.command("compare-editions")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write NEW with the Changes sheet here instead of into NEW.")
@click.option("--no-write", is_flag=True, help="Print only; write no Changes sheet.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option("--top", default=10, show_default=True, help="How many units to print.")
@_debug_option
def compare_editions_command(old: Path, new: Path, output: Path | None, no_write: bool,
                             as_json: bool, top: int, debug: bool) -> None:
    """Compare two editions of the same index (OLD and NEW workbooks, units matched by id):
    per unit the change of rank, score and tier overall and on each child of the root, and
    the units that entered or left. Writes the table as the Changes sheet into NEW (or -o OUT).

    Example:

        xl-aiindex compare-editions index_2020.xlsx index_2021.xlsx
    """

    def action() -> int:
        import json

        from .editions import compare_editions, shared_children
        from .workbook.export import records
        from .workbook.io import compute, load_workbook, write_sheets
        from .workbook.visuals import CHANGES, changes_sheet

        r_old, r_new = compute(load_workbook(old)), compute(load_workbook(new))
        table = compare_editions(r_old, r_new)
        if not no_write:
            write_sheets(new, output or new, [changes_sheet(table)])
        if as_json:
            doc = {"old": str(old), "new": str(new), "children": shared_children(r_old, r_new),
                   "units": records(table)}
            click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
            return 0
        counts = table["status"].value_counts()
        click.echo(f"{old} → {new}: {int(counts.get('both', 0))} units in both, "
                   f"{int(counts.get('entered', 0))} entered, {int(counts.get('left', 0))} left")
        if not no_write:
            click.echo(f"Wrote {CHANGES} to {output or new}")
        children = shared_children(r_old, r_new)
        rows = [["rank", "change", "unit", "name", "score", "change", "tier move",
                 *[f"Δ{c}" for c in children]]]
        shown = table[table["status"] != "left"]
        for rec in shown.head(max(top, 0)).to_dict("records"):
            rank = "" if rec["rank_new"] is None or rec["rank_new"] != rec["rank_new"] \
                else str(int(rec["rank_new"]))
            change = "new" if rec["status"] == "entered" else _signed(rec["rank_change"], 0)
            rows.append([rank, change, str(rec["unit"]),
                         str(rec["name_zh"] or rec["name_en"] or ""),
                         _fmt(rec["score_new"]), _signed(rec["score_change"], 2),
                         str(rec["tier_move"] or ""),
                         *[_signed(rec[f"{c}_score_change"], 2) for c in children]])
        click.echo("")
        for line in _table(rows, right={0, 1, 4, 5, *range(7, len(rows[0]))}):
            click.echo(line)
        if len(shown) > top:
            click.echo(f"… {len(shown) - top} more in sheet {CHANGES}")
        entered = table[table["status"] == "entered"]
        left = table[table["status"] == "left"]
        if len(entered):
            click.echo("Entered: " + ", ".join(
                f"{r['name_zh'] or r['unit']} ({r['unit']}, rank {_rank_text(r['rank_new'])})"
                for r in entered.to_dict("records")))
        if len(left):
            click.echo("Left: " + ", ".join(
                f"{r['name_zh'] or r['unit']} ({r['unit']}, was rank {_rank_text(r['rank_old'])})"
                for r in left.to_dict("records")))
        return 0

    _run(debug, action)


@cli.command()
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write.")
@_debug_option
def report(book: Path, output: Path, debug: bool) -> None:
    """Write a self-contained bilingual HTML report of BOOK: ranking with tiers, the TOP-N and
    comparison charts (inline SVG), the weights in use, the uncertainty and audit results when
    the workbook has them, and a methodology annex (tree, weights, methods and formulas).
    No external file or address: it opens offline and prints to PDF.

    Example:

        xl-aiindex report workbooks/city_ai_index_2020.xlsx -o report.html
    """

    def action() -> int:
        from .workbook.io import compute, load_workbook
        from .workbook.report import write_report

        result = compute(load_workbook(book))
        counts = write_report(result, book, output)
        click.echo(f"Wrote {output}: {counts['sections']} sections, {counts['charts']} charts, "
                   f"{len(result.scores)} units")
        return 0

    _run(debug, action)


def _signed(v: Any, digits: int) -> str:
    if v is None or v != v:
        return ""
    text = f"{float(v):+.{digits}f}"
    return text if text.strip("+-0.") else f"{0:.{digits}f}"   # "0.00", never "+0.00"/"-0.00"


def _rank_text(v: Any) -> str:
    return "-" if v is None or v != v else str(int(v))


@cli.command()
@click.argument("book", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True,
              help="csv: one file per table; json: one file with every table.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write to (default: BOOKSTEM-export beside the workbook).")
@_debug_option
def export(book: Path, fmt: str, out_dir: Path | None, debug: bool) -> None:
    """Export the result tables (ranking, scores, tiers, weights, framework, compare and the
    uncertainty and audit sheets when present) for other tools: UTF-8, numbers as numbers,
    names in Chinese and English.

    Example:

        xl-aiindex export workbooks/city_ai_index_2020.xlsx --format csv --out-dir out/
    """

    def action() -> int:
        from .workbook.export import export_book
        from .workbook.io import compute, load_workbook

        result = compute(load_workbook(book))
        folder = out_dir if out_dir is not None else book.with_name(f"{book.stem}-export")
        written = export_book(result, book, fmt, folder)
        click.echo(f"Exported {len(result.scores)} units of {book} to {folder}:")
        for path in written:
            click.echo(f"  {path.name}")
        return 0

    _run(debug, action)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="xl-aiindex",
                 standalone_mode=True)
    except SystemExit as e:
        return int(e.code or 0)
    return 0
