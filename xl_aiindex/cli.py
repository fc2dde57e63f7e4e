"""The ``xl-aiindex`` command line: each command reads a workbook, makes one library call and
prints. Exit codes (the workbook contract): 0 done; 1 the workbook has problems (each listed with
its sheet and cell); 2 the file cannot be read at all, or the command line is wrong."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import (
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
    except (UnreadableWorkbook, UnsafeWrite, UnknownName) as e:
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
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    rows = [[one_line(s) for s in r] for r in rows]   # names print as text, never as commands
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = []
        for i, s in enumerate(r):
            pad = " " * (widths[i] - width(s))
            cells.append(pad + s if i in right else s + pad)
        out.append("  ".join(cells).rstrip())
    return out


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
                     help="No progress; only failures and the summary line."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print one JSON record per workbook (path, status, seconds, units, "
                          "error…), nothing else."),
    ]):
        f = option(f)
    return f


def _is_batch(books: Sequence[str]) -> bool:
    import glob

    return len(books) != 1 or Path(books[0]).is_dir() or (
        glob.has_magic(books[0]) and not Path(books[0]).exists())


def _batch(command: str, books: Sequence[str], out_dir: Path | None, recursive: bool,
           jobs: int | None, quiet: bool, as_json: bool, options: dict[str, Any]) -> int:
    """Run ``command`` on many workbooks; print progress, a summary (or JSON); exit code."""
    import json

    from .batch import InputError, default_jobs, expand_inputs, output_paths, run_batch

    try:
        inputs = expand_inputs(books, recursive)
        outputs = output_paths(inputs, out_dir)
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
        bar = click.progressbar(length=n, label=f"{verb} {n} workbooks ({workers} at a time)",
                                file=sys.stderr, show_pos=True,
                                item_show_func=lambda _: current[0] or None)
        bar.__enter__()
    elif show:
        click.echo(f"{verb} {n} workbooks, {workers} at a time", err=True)

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
    click.echo(f"{n - len(failed)} ok, {len(failed)} failed ({n} workbooks, {total:.1f} s of work)")
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
@_debug_option
def recalc(books: tuple[str, ...], output: Path | None, out_dir: Path | None, recursive: bool,
           jobs: int | None, quiet: bool, as_json: bool, top: int, formulas: bool | None,
           force: bool, wait: float, debug: bool) -> None:
    """Recompute BOOK and rewrite its result sheets (Scores, Ranking, Tiers, WeightsUsed; Log
    gets one row). Input sheets are never written; nothing is written when the inputs have
    problems, or when result cells were edited by hand since the last recalc (they are listed;
    --force overwrites them). The file is replaced atomically, one writer at a time.
    With --formulas (or Settings output = formulas) the result sheets are live formulas on the
    input sheets, with the computed values cached, plus the helper sheets Calc and CalcStats.

    Example:

        xl-aiindex recalc workbooks/city_ai_index_2020.xlsx -o out.xlsx

        xl-aiindex recalc my_index.xlsx --formulas

    BOOK may be several files, folders (their .xlsx/.xlsm workbooks; --recursive for
    subfolders) or glob patterns: they are recalculated --jobs at a time, each on its own (one
    failure stops nothing else), with progress and a summary; the exit code is 1 if any failed.

        xl-aiindex recalc scenarios/ --out-dir results/ --jobs 2
    """
    mode = None if formulas is None else ("formulas" if formulas else "values")
    if _is_batch(books) or out_dir is not None or as_json:
        if output is not None:
            raise click.UsageError("-o names one output file; with several workbooks use "
                                   "--out-dir DIR")
        sys.exit(_batch("recalc", books, out_dir, recursive, jobs, quiet, as_json,
                        {"output": mode, "force": force, "wait": wait}))
    book = Path(books[0])

    def action() -> int:
        from .workbook.io import recalc_file
        from .workbook.results import ranking_table

        result = recalc_file(book, output, output=mode, force=force, wait=wait)
        _notes(result.notes)
        target = output or book
        tree_nodes = len(result.model.nodes)
        click.echo(f"Recalculated {book}: {len(result.scores)} units, {tree_nodes} nodes "
                   f"(input = {result.model.settings.input})")
        if (mode or result.model.settings.output) == "formulas":
            click.echo(f"Wrote Scores, Ranking, Tiers, WeightsUsed, Calc, CalcStats and Log to "
                       f"{target} (live formulas with cached values)")
        else:
            click.echo(f"Wrote Scores, Ranking, Tiers, WeightsUsed and Log to {target}")
        if top > 0:
            ranking = ranking_table(result)
            rows = [["rank", "unit", "name", "score", "tier"]]
            rule = result.model.settings.tiers
            for rec in ranking.head(top).itertuples(index=False):
                name = str(rec.name_zh or rec.name_en or "")
                tier = rule.label(int(rec.tier)) if rec.tier == rec.tier and rec.tier else ""
                rank = "" if rec.rank != rec.rank else str(int(rec.rank))
                rows.append([rank, str(rec.unit), name, _fmt(rec.score), tier])
            click.echo("")
            for line in _table(rows, right={0, 3}):
                click.echo(line)
            if len(ranking) > top:
                click.echo(f"… {len(ranking) - top} more in sheet Ranking")
        return 0

    _run(debug, action)


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
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results here instead of in place.")
@click.option("--samples", default=64, show_default=True, type=click.IntRange(min=4),
              help="Base sample size N (the index runs N × (assumptions + 2) times).")
@click.option("--seed", default=1, show_default=True, help="Seed of the sample, for repeatable runs.")
@click.option("--top", default=10, show_default=True, help="How many units to print.")
@click.option("--force", is_flag=True,
              help="Overwrite cells of UncertaintyResults and Sensitivity edited by hand (or "
                   "sheets of those names the tool did not write).")
@_debug_option
def uncertainty(book: Path, output: Path | None, samples: int, seed: int, top: int,
                force: bool, debug: bool) -> None:
    """Vary what the Uncertainty sheet lists (weights, methods, indicators), run the index
    many times, and write how far each unit's rank moves (UncertaintyResults) and which
    assumption moves the ranks most (Sensitivity: Sobol indices).

    Example:

        xl-aiindex uncertainty workbooks/city_ai_index_2020_data.xlsx -o out.xlsx
    """

    def action() -> int:
        from .workbook.uncertainty_io import uncertainty_file

        bar: Any = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if not sys.stderr.isatty():
                return
            if bar is None:
                bar = click.progressbar(length=total, label="Running the index", file=sys.stderr)
                bar.__enter__()
            bar.update(1)

        try:
            result = uncertainty_file(book, output, samples, seed, progress, force=force)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(f"Uncertainty analysis of {book}: {len(result.sensitivity)} assumptions, "
                   f"{result.runs} runs")
        click.echo(f"Wrote UncertaintyResults and Sensitivity to {output or book}")
        click.echo("")
        rows = [["assumption", "first-order", "total"]]
        for rec in result.sensitivity.itertuples(index=False):
            rows.append([str(rec.assumption), f"{rec.first_order:.2f}", f"{rec.total:.2f}"])
        for line in _table(rows, right={1, 2}):
            click.echo(line)
        if top > 0:
            click.echo("")
            rows = [["rank", "unit", "median", "5%-95%", "mean shift"]]
            for rec in result.summary.head(top).itertuples(index=False):
                rows.append([f"{rec.nominal_rank:.0f}", str(rec.unit), f"{rec.median_rank:g}",
                             f"{rec.rank_q05:g}-{rec.rank_q95:g}", f"{rec.mean_abs_shift:.2f}"])
            for line in _table(rows, right={0, 2, 3, 4}):
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
        children = table[table["depth"] == 1]
        if len(children):
            loss = (children["weight"] * children["gap_to_best"]).astype(float)
            worst = children.loc[loss.idxmax()]
            click.echo("")
            click.echo(one_line(f"Largest loss: {worst['node']} ({worst['name']}): weight "
                                f"{worst['weight']:.3f} × gap {worst['gap_to_best']:.2f} = "
                                f"{loss.max():.2f} points of {head['node']}"))
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
