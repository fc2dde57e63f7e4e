"""New workbooks: ``xl-aiindex new`` (:func:`new_workbook`) and the workbook writer the shipped
workbooks are built with (:func:`write_workbook`).

:func:`new_workbook` reads ``TREE.csv`` / ``UNITS.csv`` (:func:`read_framework_csv`,
:func:`read_units_csv`; every problem names the file, as the sheet, and the cell) and writes a
ready workbook of the contract with xlsxwriter: input sheets with headers, bilingual header
comments and drop-downs, Data to fill in, the result sheets' header rows.

Where things are (each module one concern; lower ones never import higher ones):

* :mod:`.texts`: what the sheets say: header comments, Settings notes and defaults, the
  Framework's drop-down lists;
* :mod:`.xlsx`: cells with xlsxwriter: formats, values, header rows, widths, validations;
* :mod:`.readme`: the README sheet's text and row heights;
* :mod:`.sheets`: :func:`write_workbook`, every input sheet and the result headers;
* :mod:`.csv_inputs`: reading and checking the two CSV files;
* :mod:`.data_csv`: the values of ``--data DATA.csv``, mapped onto the Data sheet;
* this module: :func:`new_workbook`, the ``new`` command's workflow.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import Problem, ProblemsFound
from ...model import Node
from ...tree import build_tree
from ...uncertainty_defaults import default_rows
from .csv_inputs import read_framework_csv, read_units_csv
from .data_csv import read_data_csv
from .readme import new_readme
from .sheets import FIXED_CREATED, result_headers, write_workbook

__all__ = ["new_workbook", "read_framework_csv", "read_units_csv", "result_headers",
           "write_workbook"]


def new_workbook(framework_csv: str | os.PathLike[str], units_csv: str | os.PathLike[str],
                 out: str | os.PathLike[str], notes: list[str] | None = None, *,
                 data_csv: str | os.PathLike[str] | None = None
                 ) -> tuple[tuple[Node, ...], pd.DataFrame]:
    """Write a ready workbook for the tree of ``framework_csv`` and the units of ``units_csv``
    (``xl-aiindex new``) to ``out``, atomically; returns the nodes and units written.

    Settings get the contract's defaults and the root's names; Data lists every unit id, one
    column per indicator, blank values to fill (or the values of ``data_csv``:
    :func:`~.data_csv.read_data_csv`); Data's unit column has a drop-down of the ids; the
    Uncertainty sheet holds the default analysis
    (:func:`~xl_aiindex.uncertainty_defaults.default_rows`). Raises :class:`ProblemsFound`
    (nothing written) with every problem of the CSVs, each with the file name as ``sheet`` and
    its cell. Overwrites ``out``: the caller checks first. Notes on what was read (values
    copied as text, units or indicators the data file leaves blank, a CSV file read as GBK) are
    appended to ``notes``.
    """
    from ..files import atomic_write

    problems: list[Problem] = []
    units: pd.DataFrame | None = None
    try:
        units = read_units_csv(units_csv, notes)
    except ProblemsFound as e:
        problems.extend(e.problems)
    nodes: tuple[Node, ...] = ()
    try:
        nodes = read_framework_csv(framework_csv, units, notes)
    except ProblemsFound as e:
        problems.extend(e.problems)
    if problems or units is None:
        raise ProblemsFound(problems)
    tree, _ = build_tree(nodes)
    assert tree is not None
    data = pd.DataFrame(np.nan, index=units.index, columns=list(tree.leaves))
    if data_csv is not None:
        data = read_data_csv(data_csv, nodes, units, notes)[list(tree.leaves)]
    root = tree.root
    settings: dict[str, object] = {"name_zh": root.name_zh or None, "name_en": root.name_en or None}
    name = " / ".join(x for x in (root.name_zh, root.name_en) if x) or root.id
    target = Path(out)
    frame = units
    atomic_write(target, lambda tmp: write_workbook(
        tmp, nodes=nodes, units=frame, settings=settings, data=data,
        readme=new_readme(name, target.name), created=FIXED_CREATED, unit_lists=True,
        uncertainty=default_rows()))
    return nodes, units
