"""A number typed as text, read as the number it unambiguously is (``"1,234"``, ``"45%"``,
full-width ``"９０"``) or refused with the reason (``"1,5"``: a decimal comma or a thousands
separator?): how every reader parses a cell that should hold a number."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Any

from ..contract import ERROR_VALUES
from ..i18n import _

_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: Thousands groups: a first group of 1-3 digits not starting with 0, then groups of exactly
#: three digits, all behind the same separator (a comma or a space), then an optional decimal
#: point part.
_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(?P<sep>[, ])\d{3}((?P=sep)\d{3})*(\.\d+)?$")
_LEADING_ZERO_GROUPS = re.compile(r"^[+-]?0\d*[, ]\d{3}([, ]\d{3})*(\.\d+)?$")


def parse_number(value: Any) -> tuple[float | None, str]:
    """A cell value as a number: ``(number, note)`` or ``(None, why not)``; blank → ``(None, "")``.

    Numbers pass; text that is unambiguously a number is read with a note ("90.5", "45%",
    full-width "９０", "-5", "1.5e3"); anything else gives a reason.

    Separators: a comma or a space (a no-break or thin space too) is read as a thousands
    separator only between thousands groups: a first group of 1-3 digits that does not start
    with 0, then groups of exactly three digits, one kind of separator throughout, and a
    decimal point only after them ("1,234", "12 345", "1 234 567", "1,234.5"). Anything else
    with a comma or a space between digits is ambiguous, a problem, never a guess: "1,5" and
    "1,23" (decimal commas), "0,250" and "0,001" (a decimal comma in many locales: 0.25 or
    250?), "12 34" and "1 5" (not thousands groups). Spaces around the sign and before ``%``
    do not matter.

    >>> parse_number("1,234"), parse_number("45%"), parse_number("９０")[0], parse_number("1,5")[0]
    ((1234.0, "text '1,234' read as the number 1234"), (0.45, "text '45%' read as the number 0.45"), 90.0, None)
    >>> parse_number("0,250")[0], parse_number("12 34")[0], parse_number("12 345")[0]
    (None, None, 12345.0)
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if isinstance(value, bool):
        return None, _("{value} is not a number").format(value="TRUE" if value else "FALSE")
    if isinstance(value, int | float):
        v = float(value)
        if not math.isfinite(v):
            return None, _("{value} is not a finite number").format(value=value)
        return v, ""
    if not isinstance(value, str):
        if isinstance(value, datetime | date | time | timedelta):
            # a date typed (or formatted) where a number belongs
            shown = value.isoformat(sep=" ") if isinstance(value, datetime) else \
                value.isoformat() if isinstance(value, date | time) else str(value)
            return None, _("the date/time {value} is not a number (is the cell formatted as a "
                           "date?)").format(value=shown)
        return None, _("{value} ({kind}) is not a number").format(value=repr(value),
                                                                   kind=type(value).__name__)
    raw = value.strip()
    if raw in ERROR_VALUES:
        return None, _("holds the error value {value}").format(value=raw)
    for ch in raw:
        tag = unicodedata.decomposition(ch)
        if tag.startswith("<") and not tag.startswith(("<wide>", "<narrow>", "<noBreak>")):
            # superscripts, circled digits, fractions…: not a number typed in another width
            return None, _("text '{text}' is not a number").format(text=raw)
    # NFKC: full-width digits and signs, no-break and thin spaces become ASCII ones
    s = unicodedata.normalize("NFKC", raw).replace("\u2212", "-").strip()
    percent = s.endswith("%")
    if percent:
        s = s[:-1].rstrip()
    s = re.sub(r"^([+-]) +", r"\1", s)
    if _PLAIN.match(s):
        v = float(s)
    elif _THOUSANDS.match(s):
        v = float(s.replace(",", "").replace(" ", ""))
    else:
        return None, _("text '{text}' is not a number").format(text=raw) + _separator_hint(s)
    if percent:
        v /= 100
    if not math.isfinite(v):
        return None, _("text '{text}' is not a finite number").format(text=raw)
    return v, _("text '{text}' read as the number {number}").format(text=raw, number=f"{v:.15g}")


def _separator_hint(s: str) -> str:
    """Why text that looks like a grouped number is not read as one (empty when it does not
    look like one)."""
    if _LEADING_ZERO_GROUPS.match(s):
        if "," in s:
            return _(": a comma after a leading 0 may be a decimal separator (as in many "
                     "locales) or a thousands separator: type the number without it, with a "
                     "decimal point if one is meant")
        return _(": a space after a leading 0 may be a decimal separator (as in many locales) "
                 "or a thousands separator: type the number without it, with a decimal point if "
                 "one is meant")
    if re.search(r"\d \d", s):
        return _(": a space separates thousands only between groups of three digits "
                 "(1 234 567): type the number without it")
    return ""
