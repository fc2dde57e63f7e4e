"""What the command line prints, made from what the library returns (:mod:`xl_aiindex.api`):
each ``show_*`` function prints one command's result; nothing here computes, reads or writes.
Results go to standard output, notes to standard error."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click

from .errors import one_line
from .i18n import _

if TYPE_CHECKING:
    from .api import (
        Audited,
        Comparison,
        EditionsCompared,
        ExcelWorkbook,
        Explanation,
        Exported,
        LiteWorkbook,
        NewWorkbook,
        Recalculated,
        Report,
        UncertaintyRun,
        Validated,
        WeightMethods,
    )
    from .batch import Record
    from .errors import ProblemsFound
    from .fit import FitReport
    from .workbook.check import Freshness



def say(text: str = "", err: bool = False) -> None:
    """Print ``text`` with the control characters a name may carry escaped on every line
    (:func:`~xl_aiindex.errors.one_line`), whatever the caller forgot; the line breaks the
    text means stay (names are put on one line by their callers, with ``one_line``)."""
    click.echo("\n".join(one_line(line) for line in str(text).split("\n")), err=err)

def notes(lines: Sequence[str]) -> None:
    """Print each note, on one line, to standard error; a long list of one kind in a few
    lines (:func:`~xl_aiindex.problem_groups.grouped_notes`)."""
    from .problem_groups import grouped_notes

    for n in grouped_notes(lines):
        say(f"note: {one_line(n)}", err=True)


def fmt(v: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals ("" for NaN); anything else as text."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "" if f != f else f"{f:.{digits}f}"


def signed(v: Any, digits: int) -> str:
    """A change with its sign (``+1.25``, ``-3``); ``0.00`` for no change, "" for none."""
    if v is None or v != v:
        return ""
    text = f"{float(v):+.{digits}f}"
    return text if text.strip("+-0.") else f"{0:.{digits}f}"   # "0.00", never "+0.00"/"-0.00"


def raw_text(v: Any) -> str:
    """A value as typed in a sheet: up to four decimals, no trailing zeros ("" for NaN).

    >>> raw_text(60736.0), raw_text(0.35), raw_text(1 / 3), raw_text(float("nan"))
    ('60736', '0.35', '0.3333', '')
    """
    f = float(v)
    return "" if f != f else (f"{f:.4f}".rstrip("0").rstrip(".") or "0")


def rank_text(v: Any) -> str:
    """A rank as a whole number, ``-`` for none."""
    return "-" if v is None or v != v else str(int(v))


def table(rows: list[list[str]], right: set[int]) -> list[str]:
    """Plain aligned columns (wide characters count double, as a terminal shows them)."""
    from .terminal import display_width, pad

    rows = [[one_line(s) for s in r] for r in rows]   # names print as text, never as commands
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(pad(s, widths[i], i in right) for i, s in enumerate(r)).rstrip()
            for r in rows]


def echo_table(rows: list[list[str]], right: set[int], indent: str = "") -> None:
    """Print :func:`table`'s lines."""
    for line in table(rows, right):
        say(f"{indent}{line}")


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 problem``, ``3 problems``."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def show_problems(error: ProblemsFound) -> None:
    """The inputs' problems, one a line, to standard error; a long list of one kind in a few
    lines (:func:`~xl_aiindex.problem_groups.grouped_lines`)."""
    from .problem_groups import grouped_lines

    count = len(error.problems)
    say(f"{count} problem{'s' if count != 1 else ''} found:", err=True)
    for line in grouped_lines(error.problems):
        say(line, err=True)


def show_file_problems(error: ProblemsFound) -> None:
    """The problems of input files that are not workbooks (``new``'s CSV files): file and
    cell, to standard error."""
    count = len(error.problems)
    say(f"{count} problem{'s' if count != 1 else ''} found:", err=True)
    for p in error.problems:
        cell = f", cell {p.cell}" if p.cell else ""
        say(one_line(f"File '{p.sheet}'{cell}: {p.problem}"), err=True)


def show_error(error: Exception) -> None:
    """What went wrong, to standard error: the problems listed, or one ``Error: …`` line."""
    from .errors import ProblemsFound, UnknownName, UnreadableWorkbook, UnsafeWrite, XlAiIndexError

    if isinstance(error, ProblemsFound):
        show_problems(error)
    elif isinstance(error, UnreadableWorkbook | UnsafeWrite | UnknownName):
        say(f"Error: {one_line(str(error))}", err=True)
    elif isinstance(error, XlAiIndexError):   # may list items a line each: escape each line
        say(f"Error: {error}", err=True)
    elif isinstance(error, OSError):
        say(one_line(f"Error: {error.filename or ''}: {error.strerror or error}"), err=True)
    else:
        say(f"Error: internal error ({type(error).__name__}: {error}); run again with "
                   "--debug for a traceback, and please report it", err=True)


def show_batch(command: str, records: Sequence[Record], *, quiet: bool, as_json: bool) -> None:
    """Many workbooks done: the notes, one JSON record each (``as_json``), or the problems of
    those that failed validation, a table (with ``quiet``, of the failures only) and a summary
    line."""
    import json

    failed = [r for r in records if not r.ok]
    if as_json:
        for r in records:
            say(json.dumps(r.as_json(), ensure_ascii=False))
        return
    for r in records:
        for note in r.notes:
            say(f"note: {one_line(r.path)}: {one_line(note)}", err=True)
    if command == "validate":
        for r in failed:
            say(f"{one_line(r.path)}: " + (
                f"{len(r.problems)} problem{'s' if len(r.problems) != 1 else ''}:"
                if r.problems else one_line(r.error)))
            for line in r.problems:
                say(f"  {one_line(line)}")
    rows = [["status", "workbook", "seconds", "units", "reason"]]
    for r in records if not quiet else failed:
        rows.append(["ok" if r.ok else "FAILED", r.path, f"{r.seconds:.2f}",
                     "" if r.units is None else str(r.units), one_line(r.error)])
    if len(rows) > 1:
        echo_table(rows, right={2, 3})
    n = len(records)
    say(f"{n - len(failed)} ok, {len(failed)} failed ({plural(n, 'workbook')}, "
               f"{sum(r.seconds for r in records):.1f} s of work)")


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a bar on standard error: only on a
    terminal, and only for runs that last over two seconds."""
    bar: Any = None
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if not sys.stderr.isatty():
            return
        elapsed = time.monotonic() - started
        if bar is None and (elapsed > 2 or elapsed / max(done, 1) * total > 2):
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        if bar is not None:
            if bar.length != total or done < bar.pos:  # N doubled: a new round of runs
                bar.length, bar.pos = total, 0
            bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


# ---- one function per command ----

def show_recalc(done: Recalculated, top: int) -> None:
    """``recalc``: what was computed and written, then the first ``top`` ranked units."""
    say(f"Recalculated {one_line(str(done.book))}: {done.units} units, {done.nodes} nodes "
               f"(input = {done.input})")
    live = " (live formulas with cached values)" if done.mode == "formulas" else ""
    # the Problems sheet a validation may have filled is emptied on success: not news
    names = [n for n in done.sheets if n.lower() != "problems"]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    say(f"Wrote {listed} to {one_line(str(done.path))}{live}")
    if top > 0:
        rows = [["rank", "unit", "name", "score", "tier"]]
        for r in done.top:
            rows.append(["" if r.rank is None else str(r.rank), r.unit, r.name, fmt(r.score),
                         r.tier])
        say("")
        from .panel import panel_of  # loaded by the recalc already

        panel = panel_of(done.result)
        if panel is not None:
            say(_("Ranking of {year} (years {first}–{last}, panel_normalisation = {mode}; every "
                  "year in the sheets Ranking and Trends):").format(
                year=panel.latest, first=panel.years[0], last=panel.years[-1], mode=panel.mode))
        echo_table(rows, right={0, 3})
        if done.more:
            say(f"… {done.more} more in sheet Ranking")


def show_check(state: Freshness) -> None:
    """``recalc --check``: up to date, or stale and why."""
    if state.fresh:
        say(f"Up to date: {one_line(str(state.path))}: the result sheets match the inputs (last recalc "
                   f"{state.last_run}, inputs hash {state.current})")
        return
    say(f"Stale: {one_line(str(state.path))}: the result sheets do not match the inputs; run "
               f"xl-aiindex recalc {one_line(str(state.path))}")
    for reason in state.reasons:
        say(f"  {reason}")


def show_validate(done: Validated) -> None:
    """``validate``: the OK line."""
    say(f"OK: {one_line(str(done.book))}: no problems ({done.units} units, {done.indicators} "
               f"indicators, {done.nodes} nodes, input = {done.input})")


def show_fit(report: FitReport) -> None:
    """``fit-weights``: the fitted weights and each unit's residual."""
    for line in report.lines():
        say(line)


def show_new(done: NewWorkbook) -> None:
    """``new``: the notes, what was written, and what to do next."""
    notes(done.notes)
    say(f"Wrote {one_line(str(done.path))}: {done.nodes} nodes in {done.levels} levels "
               f"({done.indicators} indicators), {done.units} units")
    if done.filled:
        say(_("Next: check the Data sheet, then run"))
    else:
        say("Next: fill the Data sheet (a row per unit, a column per indicator; blank = "
                   "missing), then run")
    say(f"  xl-aiindex recalc {one_line(str(done.path))}")


def show_excel(done: ExcelWorkbook) -> None:
    """``excel``: what was written, the inputs' problems if any, what to do next."""
    say(f"Wrote {one_line(str(done.path))}: {done.functions} functions and {done.macros} macros in its "
               f"VBA project (xlwings {done.xlwings}, standalone)")
    if done.problems:
        n = len(done.problems)
        say(f"Note: the inputs have {n} problem{'s' if n != 1 else ''} (first: "
                   f"{done.problems[0]}); the functions show results once they are fixed: "
                   f"xl-aiindex validate {one_line(str(done.path))}")
    say("Next: open it in Excel on Windows and enable macros (docs/excel.md)")


def show_excel_lite(done: LiteWorkbook) -> None:
    """``excel --lite``: the names and sheet written, the inputs' problems if any, what next."""
    from .i18n import _

    say(_("Wrote {path}: the defined names {names} and the sheet Lite Examples "
          "(calls of {functions})").format(path=one_line(str(done.path)),
                                             names=", ".join(done.names),
                                             functions=", ".join(done.functions)))
    if done.problems:
        say(_("Note: the inputs have {count} problems (first: {first}); the functions show "
              "results once they are fixed").format(count=len(done.problems),
                                                    first=done.problems[0]))
    say(_("Next: open it in Excel with the xlwings Lite add-in and paste main.py and "
          "requirements.txt (docs/lite.md)"))


def show_uncertainty(done: UncertaintyRun, top: int) -> None:
    """``uncertainty``: the Sobol' indices per assumption, then the first ``top`` units' ranks."""
    for note in done.notes:
        say(f"note: {note}", err=True)
    say(f"Uncertainty analysis of {one_line(str(done.book))}: {len(done.sensitivity)} assumptions, "
               f"N = {done.samples}, {done.runs} runs")
    say(f"Wrote UncertaintyResults and Sensitivity to {one_line(str(done.path))}")
    say("")
    rows = [["assumption", "first-order", "95% interval", "total", "95% interval"]]
    for rec in done.sensitivity.itertuples(index=False):
        rows.append([str(rec.assumption), f"{rec.first_order:.2f}",
                     f"{rec.first_order_low:.2f} to {rec.first_order_high:.2f}",
                     f"{rec.total:.2f}", f"{rec.total_low:.2f} to {rec.total_high:.2f}"])
    echo_table(rows, right={1, 2, 3, 4})
    if top > 0:
        say("")
        rows = [["rank", "unit", "5%", "median", "95%", "same tier", "mean shift"]]

        def whole(v: float) -> str:
            return "-" if v != v else f"{v:.0f}"

        for rec in done.summary.head(top).itertuples(index=False):
            same = "-" if rec.p_nominal_tier != rec.p_nominal_tier else f"{rec.p_nominal_tier:.0%}"
            rows.append([whole(rec.nominal_rank), str(rec.unit), whole(rec.rank_q05),
                         whole(rec.median_rank), whole(rec.rank_q95), same,
                         f"{rec.mean_abs_shift:.2f}"])
        echo_table(rows, right={0, 2, 3, 4, 5, 6})


def _where(rank: int | None, ranked: int, tier: str) -> str:
    """``rank 3 of 30, 第一梯队``, ``not ranked``."""
    where = f"rank {rank} of {ranked}" if rank is not None else "not ranked"
    return f"{where}, {tier}" if tier else where


def show_explain(done: Explanation, depth: int) -> None:
    """``explain``: the unit's standing, the table of the node's children, its largest loss."""
    s = done.standing
    where = one_line(str(done.book)) + ("" if done.year is None else f" ({done.year})")
    say(one_line(f"{s.label} ({s.unit}) in {where}: {done.root} {fmt(done.total)}, "
                        f"{_where(s.rank, s.ranked, s.tier)}"))
    say("")
    rows = [["node", "name", "weight", _("raw"), "score", "to parent", "rank", "gap to best",
             _("mark")]]
    for rec in done.table.itertuples(index=False):
        mark = _("imputed") if rec.imputed else _("treated") if rec.treated else ""
        rows.append(["  " * int(rec.depth) + str(rec.node), str(rec.name),
                     fmt(rec.weight, 3), raw_text(rec.raw), fmt(rec.score), fmt(rec.contribution),
                     f"{rec.rank}/{rec.of}" if rec.rank is not None else "",
                     fmt(rec.gap_to_best), mark])
    # the raw and mark columns only where the table shows indicators (and one is marked)
    keep = [j for j in range(len(rows[0])) if j not in (3, 8) or any(r[j] for r in rows[1:])]
    echo_table([[r[j] for j in keep] for r in rows],
               right={i for i, j in enumerate(keep) if j in (2, 3, 4, 5, 6, 7)})
    for marked, word, why in ((done.table["imputed"].any(), _("imputed"), done.imputed_by),
                              (done.table["treated"].any(), _("treated"), done.treated_by)):
        if marked:
            say(_("{mark}: {why}").format(mark=word, why=why))
    if done.shallower:
        say(f"note: --depth {depth} shows {plural(done.levels, 'level')}: "
                   + done.shallower, err=True)
    if done.loss is not None:
        loss = done.loss
        say("")
        say(one_line(f"Largest loss: {loss.node} ({loss.name}): weight "
                            f"{loss.weight:.3f} × gap {loss.gap:.2f} = {loss.points:.2f} "
                            f"points of {done.node}"))
    elif done.leads:
        say("")
        say(f"Leads on every child of {done.node}: no gap to the best unit anywhere")


def show_audit(done: Audited) -> None:
    """``audit``: warnings first, then a table per sibling group."""
    say(f"Audit of {one_line(str(done.book))}: {done.scope}, {done.units} units")
    if done.path is not None:
        say(f"Wrote Audit to {one_line(str(done.path))}")
    say("")
    n = len(done.warnings)
    say(f"{n} warning{'s' if n != 1 else ''}{':' if n else ''}")
    for w in done.warnings:
        say(f"  {w}")
    for g in done.groups:
        say("")
        head = f"{g.label}: {plural(g.children, 'child', 'children')}"
        if g.alpha == g.alpha:
            head += (f", Cronbach's alpha {g.alpha:.2f}, first component "
                     f"{g.pc1_share:.0%} of the variance ({g.units} units)")
        say(head)
        rows = [["node", "miss", "min", "max", "mean", "sd", "skew", "kurt", "treat",
                 "r parent", "r total", "weight", "importance"]]
        for rec in g.rows.itertuples(index=False):
            ind = bool(rec.indicator)
            stats = [str(int(rec.missing)), fmt(rec.min), fmt(rec.max), fmt(rec.mean),
                     fmt(rec.sd), fmt(rec.skewness), fmt(rec.kurtosis),
                     "yes" if rec.needs_treatment else ""] if ind else [""] * 8
            rows.append([str(rec.node), *stats, fmt(rec.r_parent), fmt(rec.r_total),
                         fmt(rec.weight_in_total, 3), fmt(rec.importance, 3)])
        # columns blank in every row (statistics, for a group of inner nodes) are left out
        keep = [j for j in range(len(rows[0])) if j == 0 or any(r[j] for r in rows[1:])]
        rows = [[r[j] for j in keep] for r in rows]
        echo_table(rows, right={i for i, j in enumerate(keep) if j not in (0, 8)}, indent="  ")


def show_weights(done: WeightMethods) -> None:
    """``weights``: per sibling group, the weights by method and the rank moves."""
    say(f"Weights by method for {one_line(str(done.book))} (* = the current choice; moves: units whose "
               "rank changes if this group alone is weighted so)")
    for g in done.groups:
        say("")
        say(f"{done.labels[g.node]}: {len(g.children)} children")
        header = ["child"] + [m.method + ("*" if m.method == g.current else "")
                              for m in g.methods]
        rows = [header]
        for child in g.children:
            rows.append([child] + [fmt(m.weights[child], 3) if m.weights is not None
                                   else "-" for m in g.methods])
        rows.append(["units moved"] + [str(m.units_moved) if m.moves is not None else "-"
                                       for m in g.methods])
        rows.append(["largest move"] + [str(m.largest_move) if m.moves is not None else "-"
                                        for m in g.methods])
        echo_table(rows, right=set(range(1, len(header))), indent="  ")
        for m in g.methods:
            if m.error:
                say(f"  {m.error}")


def show_compare(done: Comparison) -> None:
    """``compare``: each unit's standing, then the scores side by side and the differences."""
    say(one_line(str(done.book)) + ("" if done.year is None else f" ({done.year})"))
    for s in done.standings:
        say(f"{s.label} ({s.unit}): {_where(s.rank, s.ranked, s.tier)}")
    say("")
    labels = [s.label for s in done.standings]
    rank = _("rank")
    rows = [["node", "name", *[h for label in labels for h in (label, rank)],
             *[f"{labels[0]}−{other}" for other in labels[1:]]]]
    for n in done.nodes:
        rows.append([n.node, n.name,
                     *[t for v, r in zip(n.scores, n.ranks, strict=True)
                       for t in (fmt(v), rank_text(r))],
                     *[fmt(v) for v in n.differences]])
    echo_table(rows, right=set(range(2, len(rows[0]))))


def show_editions(done: EditionsCompared, top: int) -> None:
    """``compare-editions``: what to know first (different scales), the counts, the first
    ``top`` units' changes, who entered/left."""
    if done.warning:
        say(_("Warning: {text}").format(text=done.warning))
    elif done.common_scale:
        say(_("Both editions' data normalised together (common scale): a change in score is a "
              "change in the unit's own values."))
    say(f"{one_line(str(done.old))} → {one_line(str(done.new))}: {done.both} units in both, "
               f"{len(done.entered)} entered, {len(done.left)} left")
    if done.path is not None:
        say(f"Wrote {done.sheet} to {one_line(str(done.path))}")
    children = done.children
    rows = [["rank", "change", "unit", "name", "score", "change", "tier move",
             *[f"Δ{c}" for c in children]]]
    for rec in done.shown.head(max(top, 0)).to_dict("records"):
        rank = "" if rec["rank_new"] is None or rec["rank_new"] != rec["rank_new"] \
            else str(int(rec["rank_new"]))
        change = "new" if rec["status"] == "entered" else signed(rec["rank_change"], 0)
        rows.append([rank, change, str(rec["unit"]), str(rec["name_zh"] or rec["name_en"] or ""),
                     fmt(rec["score_new"]), signed(rec["score_change"], 2),
                     str(rec["tier_move"] or ""),
                     *[signed(rec[f"{c}_score_change"], 2) for c in children]])
    say("")
    echo_table(rows, right={0, 1, 4, 5, *range(7, len(rows[0]))})
    if len(done.shown) > top:
        say(f"… {len(done.shown) - top} more in sheet {done.sheet}")
    if len(done.entered):
        say("Entered: " + ", ".join(
            f"{r['name_zh'] or r['unit']} ({r['unit']}, rank {rank_text(r['rank_new'])})"
            for r in done.entered.to_dict("records")))
    if len(done.left):
        say("Left: " + ", ".join(
            f"{r['name_zh'] or r['unit']} ({r['unit']}, was rank {rank_text(r['rank_old'])})"
            for r in done.left.to_dict("records")))


def show_report(done: Report) -> None:
    """``report``: the file written and what it holds."""
    say(f"Wrote {one_line(str(done.path))}: {done.sections} sections, {done.charts} charts, "
               f"{done.units} units")
    notes(done.notes)


def show_export(done: Exported) -> None:
    """``export``: the folder and the files written."""
    say(f"Exported {done.units} units of {one_line(str(done.book))} to {one_line(str(done.folder))}:")
    for path in done.files:
        say(f"  {one_line(path.name)}")
