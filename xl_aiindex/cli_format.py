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
from .i18n import _, ngettext

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
        say(_("note: {note}").format(note=one_line(n)), err=True)


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
    """``1 problem``, ``3 problems`` (English nouns; :func:`counted` translates)."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def counted(n: int, noun: str) -> str:
    """``n`` things in the current language: ``3 workbooks`` / ``3 个工作簿``; ``noun`` is one
    of the counted nouns below (each a catalogue entry)."""
    forms = {
        "workbook": ngettext("{n} workbook", "{n} workbooks", n),
        "level": ngettext("{n} level", "{n} levels", n),
        "child": ngettext("{n} child", "{n} children", n),
        "problem": ngettext("{n} problem", "{n} problems", n),
        "warning": ngettext("{n} warning", "{n} warnings", n),
    }
    return forms[noun].format(n=n)


def show_problems(error: ProblemsFound) -> None:
    """The inputs' problems, one a line, to standard error; a long list of one kind in a few
    lines (:func:`~xl_aiindex.problem_groups.grouped_lines`)."""
    from .problem_groups import grouped_lines

    count = len(error.problems)
    say(ngettext("{count} problem found:", "{count} problems found:", count).format(count=count),
        err=True)
    for line in grouped_lines(error.problems):
        say(line, err=True)


def show_file_problems(error: ProblemsFound) -> None:
    """The problems of input files that are not workbooks (``new``'s CSV files): file and
    cell, to standard error."""
    count = len(error.problems)
    say(ngettext("{count} problem found:", "{count} problems found:", count).format(count=count),
        err=True)
    for p in error.problems:
        line = _("File '{file}', cell {cell}: {problem}") if p.cell else \
            _("File '{file}': {problem}")
        say(one_line(line.format(file=p.sheet, cell=p.cell, problem=p.problem)), err=True)


def show_error(error: Exception) -> None:
    """What went wrong, to standard error: the problems listed, or one ``Error: …`` line."""
    from .errors import ProblemsFound, UnknownName, UnreadableWorkbook, UnsafeWrite, XlAiIndexError

    if isinstance(error, ProblemsFound):
        show_problems(error)
    elif isinstance(error, UnreadableWorkbook | UnsafeWrite | UnknownName):
        say(_("Error: {error}").format(error=one_line(str(error))), err=True)
    elif isinstance(error, XlAiIndexError):   # may list items a line each: escape each line
        say(_("Error: {error}").format(error=error), err=True)
    elif isinstance(error, OSError):
        say(one_line(_("Error: {error}").format(
            error=f"{error.filename or ''}: {error.strerror or error}")), err=True)
    else:
        say(_("Error: internal error ({kind}: {error}); run again with --debug for a traceback, "
              "and please report it").format(kind=type(error).__name__, error=error), err=True)


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
            say(_("note: {note}").format(note=f"{one_line(r.path)}: {one_line(note)}"), err=True)
    if command == "validate":
        for r in failed:
            say(f"{one_line(r.path)}: " + (
                counted(len(r.problems), "problem") + ":" if r.problems else one_line(r.error)))
            for line in r.problems:
                say(f"  {one_line(line)}")
    rows = [[_("status"), _("workbook"), _("seconds"), _("units"), _("reason")]]
    for r in records if not quiet else failed:
        rows.append([_("ok") if r.ok else _("FAILED"), r.path, f"{r.seconds:.2f}",
                     "" if r.units is None else str(r.units), one_line(r.error)])
    if len(rows) > 1:
        echo_table(rows, right={2, 3})
    n = len(records)
    say(_("{ok} ok, {failed} failed ({workbooks}, {seconds} s of work)").format(
        ok=n - len(failed), failed=len(failed), workbooks=counted(n, "workbook"),
        seconds=f"{sum(r.seconds for r in records):.1f}"))


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
    say(_("Recalculated {book}: {units} units, {nodes} nodes (input = {input})").format(
        book=one_line(str(done.book)), units=done.units, nodes=done.nodes, input=done.input))
    # the Problems sheet a validation may have filled is emptied on success: not news
    names = [n for n in done.sheets if n.lower() != "problems"]
    listed = _("{first} and {last}").format(first=_(", ").join(names[:-1]), last=names[-1]) \
        if len(names) > 1 else names[0]
    if done.mode == "formulas":
        wrote = _("Wrote {sheets} to {path} (live formulas with cached values)")
    else:
        wrote = _("Wrote {sheets} to {path}")
    say(wrote.format(sheets=listed, path=one_line(str(done.path))))
    if top > 0:
        rows = [[_("rank"), _("unit"), _("name"), _("score"), _("tier")]]
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
            say(_("… {count} more in sheet {sheet}").format(count=done.more, sheet="Ranking"))


def show_check(state: Freshness) -> None:
    """``recalc --check``: up to date, or stale and why."""
    if state.fresh:
        say(_("Up to date: {path}: the result sheets match the inputs (last recalc {last}, "
              "inputs hash {hash})").format(path=one_line(str(state.path)), last=state.last_run,
                                            hash=state.current))
        return
    say(_("Stale: {path}: the result sheets do not match the inputs; run xl-aiindex recalc "
          "{path}").format(path=one_line(str(state.path))))
    for reason in state.reasons:
        say(f"  {reason}")


def show_validate(done: Validated) -> None:
    """``validate``: the OK line."""
    say(_("OK: {book}: no problems ({units} units, {indicators} indicators, {nodes} nodes, "
          "input = {input})").format(book=one_line(str(done.book)), units=done.units,
                                     indicators=done.indicators, nodes=done.nodes,
                                     input=done.input))


def show_fit(report: FitReport) -> None:
    """``fit-weights``: the fitted weights and each unit's residual."""
    for line in report.lines():
        say(line)


def show_new(done: NewWorkbook) -> None:
    """``new``: the notes, what was written, and what to do next."""
    notes(done.notes)
    say(_("Wrote {path}: {nodes} nodes in {levels} levels ({indicators} indicators), {units} "
          "units").format(path=one_line(str(done.path)), nodes=done.nodes, levels=done.levels,
                          indicators=done.indicators, units=done.units))
    if done.filled:
        say(_("Next: check the Data sheet, then run"))
    else:
        say(_("Next: fill the Data sheet (a row per unit, a column per indicator; blank = "
              "missing), then run"))
    say(f"  xl-aiindex recalc {one_line(str(done.path))}")


def show_excel(done: ExcelWorkbook) -> None:
    """``excel``: what was written, the inputs' problems if any, what to do next."""
    say(_("Wrote {path}: {functions} functions and {macros} macros in its VBA project (xlwings "
          "{version}, standalone)").format(path=one_line(str(done.path)),
                                           functions=done.functions, macros=done.macros,
                                           version=done.xlwings))
    if done.problems:
        n = len(done.problems)
        say(_("Note: the inputs have {problems} (first: {first}); the functions show results "
              "once they are fixed: xl-aiindex validate {path}").format(
                  problems=counted(n, "problem"), first=done.problems[0],
                  path=one_line(str(done.path))))
    say(_("Next: open it in Excel on Windows and enable macros (docs/excel.md)"))


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
        say(_("note: {note}").format(note=note), err=True)
    say(_("Uncertainty analysis of {book}: {assumptions} assumptions, N = {samples}, {runs} "
          "runs").format(book=one_line(str(done.book)), assumptions=len(done.sensitivity),
                         samples=done.samples, runs=done.runs))
    say(_("Wrote {sheets} to {path}").format(
        sheets=_("{first} and {last}").format(first="UncertaintyResults", last="Sensitivity"),
        path=one_line(str(done.path))))
    say("")
    rows = [[_("assumption"), _("first-order"), _("95% interval"), _("total"),
             _("95% interval")]]
    between = _("{low} to {high}")
    for rec in done.sensitivity.itertuples(index=False):
        rows.append([str(rec.assumption), f"{rec.first_order:.2f}",
                     between.format(low=f"{rec.first_order_low:.2f}",
                                    high=f"{rec.first_order_high:.2f}"),
                     f"{rec.total:.2f}", between.format(low=f"{rec.total_low:.2f}",
                                                        high=f"{rec.total_high:.2f}")])
    echo_table(rows, right={1, 2, 3, 4})
    if top > 0:
        say("")
        rows = [[_("rank"), _("unit"), "5%", _("median"), "95%", _("same tier"),
                 _("mean shift")]]

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
    where = _("rank {rank} of {ranked}").format(rank=rank, ranked=ranked) if rank is not None \
        else _("not ranked")
    return _("{where}, {tier}").format(where=where, tier=tier) if tier else where


def show_explain(done: Explanation, depth: int) -> None:
    """``explain``: the unit's standing, the table of the node's children, its largest loss."""
    s = done.standing
    book = one_line(str(done.book)) + ("" if done.year is None else f" ({done.year})")
    say(one_line(_("{label} ({unit}) in {book}: {root} {total}, {where}").format(
        label=s.label, unit=s.unit, book=book, root=done.root,
        total=fmt(done.total), where=_where(s.rank, s.ranked, s.tier))))
    say("")
    rows = [[_("node"), _("name"), _("weight"), _("raw"), _("score"), _("to parent"), _("rank"),
             _("gap to best"), _("mark")]]
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
        say(_("note: {note}").format(note=_("--depth {depth} shows {levels}: {why}").format(
            depth=depth, levels=counted(done.levels, "level"), why=done.shallower)), err=True)
    if done.loss is not None:
        loss = done.loss
        say("")
        say(one_line(_("Largest loss: {node} ({name}): weight {weight} × gap {gap} = {points} "
                       "points of {parent}").format(
                           node=loss.node, name=loss.name, weight=f"{loss.weight:.3f}",
                           gap=f"{loss.gap:.2f}", points=f"{loss.points:.2f}",
                           parent=done.node)))
    elif done.leads:
        say("")
        say(_("Leads on every child of {node}: no gap to the best unit anywhere").format(
            node=done.node))


def show_audit(done: Audited) -> None:
    """``audit``: warnings first, then a table per sibling group."""
    say(_("Audit of {book}: {scope}, {units} units").format(
        book=one_line(str(done.book)), scope=done.scope, units=done.units))
    if done.path is not None:
        say(_("Wrote {sheets} to {path}").format(sheets="Audit", path=one_line(str(done.path))))
    say("")
    n = len(done.warnings)
    say(_("{count}:").format(count=counted(n, "warning")) if n else counted(n, "warning"))
    for w in done.warnings:
        say(f"  {w}")
    for g in done.groups:
        say("")
        head = f"{g.label}: {counted(g.children, 'child')}"
        if g.alpha == g.alpha:
            head += _(", Cronbach's alpha {alpha}, first component {share} of the variance "
                      "({units} units)").format(alpha=f"{g.alpha:.2f}", share=f"{g.pc1_share:.0%}",
                                                units=g.units)
        say(head)
        rows = [[_("node"), _("miss"), _("min"), _("max"), _("mean"), _("sd"), _("skew"),
                 _("kurt"), _("treat"), _("r parent"), _("r total"), _("weight"),
                 _("importance")]]
        for rec in g.rows.itertuples(index=False):
            ind = bool(rec.indicator)
            stats = [str(int(rec.missing)), fmt(rec.min), fmt(rec.max), fmt(rec.mean),
                     fmt(rec.sd), fmt(rec.skewness), fmt(rec.kurtosis),
                     _("yes") if rec.needs_treatment else ""] if ind else [""] * 8
            rows.append([str(rec.node), *stats, fmt(rec.r_parent), fmt(rec.r_total),
                         fmt(rec.weight_in_total, 3), fmt(rec.importance, 3)])
        # columns blank in every row (statistics, for a group of inner nodes) are left out
        keep = [j for j in range(len(rows[0])) if j == 0 or any(r[j] for r in rows[1:])]
        rows = [[r[j] for j in keep] for r in rows]
        echo_table(rows, right={i for i, j in enumerate(keep) if j not in (0, 8)}, indent="  ")


def show_weights(done: WeightMethods) -> None:
    """``weights``: per sibling group, the weights by method and the rank moves."""
    say(_("Weights by method for {book} (* = the current choice; moves: units whose rank "
          "changes if this group alone is weighted so)").format(book=one_line(str(done.book))))
    for g in done.groups:
        say("")
        say(f"{done.labels[g.node]}: {counted(len(g.children), 'child')}")
        header = [_("child")] + [m.method + ("*" if m.method == g.current else "")
                              for m in g.methods]
        rows = [header]
        for child in g.children:
            rows.append([child] + [fmt(m.weights[child], 3) if m.weights is not None
                                   else "-" for m in g.methods])
        rows.append([_("units moved")] + [str(m.units_moved) if m.moves is not None else "-"
                                       for m in g.methods])
        rows.append([_("largest move")] + [str(m.largest_move) if m.moves is not None else "-"
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
    rows = [[_("node"), _("name"), *[h for label in labels for h in (label, rank)],
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
    say(_("{old} → {new}: {both} units in both, {entered} entered, {left} left").format(
        old=one_line(str(done.old)), new=one_line(str(done.new)), both=done.both,
        entered=len(done.entered), left=len(done.left)))
    if done.path is not None:
        say(_("Wrote {sheets} to {path}").format(sheets=done.sheet, path=one_line(str(done.path))))
    children = done.children
    rows = [[_("rank"), _("change"), _("unit"), _("name"), _("score"), _("change"), _("tier move"),
             *[f"Δ{c}" for c in children]]]
    for rec in done.shown.head(max(top, 0)).to_dict("records"):
        rank = "" if rec["rank_new"] is None or rec["rank_new"] != rec["rank_new"] \
            else str(int(rec["rank_new"]))
        change = _("new") if rec["status"] == "entered" else signed(rec["rank_change"], 0)
        rows.append([rank, change, str(rec["unit"]), str(rec["name_zh"] or rec["name_en"] or ""),
                     fmt(rec["score_new"]), signed(rec["score_change"], 2),
                     str(rec["tier_move"] or ""),
                     *[signed(rec[f"{c}_score_change"], 2) for c in children]])
    say("")
    echo_table(rows, right={0, 1, 4, 5, *range(7, len(rows[0]))})
    if len(done.shown) > top:
        say(_("… {count} more in sheet {sheet}").format(count=len(done.shown) - top,
                                                       sheet=done.sheet))
    if len(done.entered):
        say(_("Entered: {units}").format(units=", ".join(
            _("{name} ({unit}, rank {rank})").format(
                name=r["name_zh"] or r["unit"], unit=r["unit"], rank=rank_text(r["rank_new"]))
            for r in done.entered.to_dict("records"))))
    if len(done.left):
        say(_("Left: {units}").format(units=", ".join(
            _("{name} ({unit}, was rank {rank})").format(
                name=r["name_zh"] or r["unit"], unit=r["unit"], rank=rank_text(r["rank_old"]))
            for r in done.left.to_dict("records"))))


def show_report(done: Report) -> None:
    """``report``: the file written and what it holds."""
    say(_("Wrote {path}: {sections} sections, {charts} charts, {units} units").format(
        path=one_line(str(done.path)), sections=done.sections, charts=done.charts,
        units=done.units))
    notes(done.notes)


def show_export(done: Exported) -> None:
    """``export``: the folder and the files written."""
    say(_("Exported {units} units of {book} to {folder}:").format(
        units=done.units, book=one_line(str(done.book)), folder=one_line(str(done.folder))))
    for path in done.files:
        say(f"  {one_line(path.name)}")
