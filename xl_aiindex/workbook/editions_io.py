"""``xl-aiindex compare-editions``: two editions of a workbook read and computed, the Changes
sheet written into the newer one through the one write path."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..editions import compare_editions, on_common_scale, overlap, overlap_problem
from ..errors import BadArgument
from ..model import IndexResult
from .io import Loaded, compute, load_workbook
from .writer import Update, update_workbook


def compare_editions_file(old: str | os.PathLike[str], new: str | os.PathLike[str],
                          dst: str | os.PathLike[str] | None = None, *, write: bool = True,
                          force: bool = False, common_scale: bool = False
                          ) -> tuple[IndexResult, IndexResult, pd.DataFrame]:
    """Compare the editions ``old`` and ``new`` (:func:`~xl_aiindex.editions.compare_editions`);
    with ``write``, write the Changes sheet into a copy of ``new`` at ``dst`` (None: into
    ``new``) by :func:`~xl_aiindex.workbook.writer.update_workbook`: atomically, one Log row,
    a ``Changes`` sheet the tool did not write (or cells of it edited by hand) refused unless
    ``force``. ``common_scale``: both editions' data normalised together first
    (:func:`~xl_aiindex.editions.on_common_scale`). Editions that share too little
    (:func:`~xl_aiindex.editions.overlap_problem`) are refused unless ``force``
    (:class:`~xl_aiindex.errors.BadArgument`). Returns both results and the table."""
    from .visuals import changes_sheet

    r_old = compute(load_workbook(old))

    def compared(r_new: IndexResult) -> tuple[IndexResult, IndexResult, pd.DataFrame]:
        why = overlap_problem(overlap(r_old, r_new))
        if why and not force:
            raise BadArgument(why)
        before, after = on_common_scale(r_old, r_new) if common_scale else (r_old, r_new)
        return before, after, compare_editions(before, after)

    if not write:
        return compared(compute(load_workbook(new)))

    def build(loaded: Loaded) -> Update[tuple[IndexResult, IndexResult, pd.DataFrame]]:
        r_new = compute(loaded)
        done = compared(r_new)
        notes = loaded.notes + r_new.notes
        scale = ["common scale (both editions normalised together)"] if common_scale else []
        entry = {"input": loaded.model.settings.input, "units": int(len(r_new.scores)),
                 "status": "ok",
                 "notes": "; ".join([f"compared with {Path(old).name}", *scale, *notes])}
        return Update(done, [changes_sheet(done[2])], entry)

    return update_workbook(new, dst, build, command="compare-editions", force=force)
