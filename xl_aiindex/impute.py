"""Imputation of missing values: ``i_*`` functions and their registry.

Each takes a table (units × columns, NaN = missing) and the Units table, and returns the filled
table and a note per filled column. ``error`` and ``reweight`` are the other values of the
``missing`` setting; they fill nothing (the pipeline handles them).

Formula form: none; imputed values are written as values (sheet ``Calc``) that the formula
mode's normalisation formulas reference (in given mode, straight into ``Scores``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .i18n import _
from .normalise import MethodInputError


def _by_statistic(table: pd.DataFrame, stat: str) -> tuple[pd.DataFrame, list[str]]:
    fills = table.agg(stat)
    notes = [_("{column}: {count} missing value(s) set to the {statistic} of the other units "
               "({value})").format(column=col, count=int(table[col].isna().sum()), statistic=stat,
                                   value=f"{fills[col]:.6g}")
             for col in table.columns if table[col].isna().any()]
    return table.fillna(fills), notes


def _by_group(table: pd.DataFrame, units: pd.DataFrame, column: str, stat: str
              ) -> tuple[pd.DataFrame, list[str]]:
    if column not in units.columns:
        raise MethodInputError(_("{method} needs a Units column '{column}'; Units has: "
                                 "{columns}").format(method=f"group_{stat}", column=column,
                                                     columns=", ".join(map(str, units.columns))))
    groups = units[column].reindex(table.index)
    group_fill = table.groupby(groups).transform(stat)
    overall = table.agg(stat)
    out = table.fillna(group_fill)
    notes = []
    for col in table.columns:
        n = int(table[col].isna().sum())
        if n:
            fallback = int(out[col].isna().sum())
            text = _("{column}: {count} missing value(s) set to the {statistic} of their "
                     "'{group}' group ({fallback} with no value in their group: overall "
                     "{statistic})") if fallback else \
                _("{column}: {count} missing value(s) set to the {statistic} of their '{group}' "
                  "group")
            notes.append(text.format(column=col, count=n, statistic=stat, group=column,
                                     fallback=fallback))
    return out.fillna(overall), notes


def i_mean(table: pd.DataFrame, units: pd.DataFrame, arg: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Fill with the column mean over units present."""
    return _by_statistic(table, "mean")


def i_median(table: pd.DataFrame, units: pd.DataFrame, arg: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Fill with the column median over units present."""
    return _by_statistic(table, "median")


def i_group_mean(table: pd.DataFrame, units: pd.DataFrame, arg: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Fill with the mean of the unit's group (``group_mean:COLUMN``); overall mean if the group has none."""
    return _by_group(table, units, arg, "mean")


def i_group_median(table: pd.DataFrame, units: pd.DataFrame, arg: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Fill with the median of the unit's group (``group_median:COLUMN``); overall median if none."""
    return _by_group(table, units, arg, "median")


Imputer = Callable[[pd.DataFrame, pd.DataFrame, str], tuple[pd.DataFrame, list[str]]]

#: Imputation names of the ``missing`` setting.
IMPUTERS: dict[str, Imputer] = {
    "mean": i_mean,
    "median": i_median,
    "group_mean": i_group_mean,
    "group_median": i_group_median,
}

#: Every value the ``missing`` setting accepts (names with ``:COLUMN`` take an argument).
MISSING_METHODS = ("error", "reweight", *IMPUTERS)
