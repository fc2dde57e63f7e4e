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
        click.echo(f"Error: {e}", err=True)
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
              help="Overwrite result cells edited by hand since the last recalc.")
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
        pictures = "Charts, Compare" if result.model.settings.compare else "Charts"
        if (mode or result.model.settings.output) == "formulas":
            click.echo(f"Wrote Scores, Ranking, Tiers, WeightsUsed, {pictures}, Calc, CalcStats "
                       f"and Log to {target} (live formulas with cached values)")
        else:
            click.echo(f"Wrote Scores, Ranking, Tiers, WeightsUsed, {pictures} and Log to "
                       f"{target}")
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
@_debug_option
def uncertainty(book: Path, output: Path | None, samples: int, seed: int, top: int,
                debug: bool) -> None:
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
            result = uncertainty_file(book, output, samples, seed, progress)
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
        click.echo(f"{label} ({unit_id}) in {book}: {result.root} "
                   f"{_fmt(result.total[unit_id])}, {where}")
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
            click.echo(f"Largest loss: {worst['node']} ({worst['name']}): weight "
                       f"{worst['weight']:.3f} × gap {worst['gap_to_best']:.2f} = "
                       f"{loss.max():.2f} points of {head['node']}")
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
