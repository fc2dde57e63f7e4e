"""The Settings sheet's keys: parse and check them into a typed :class:`Settings`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from .aggregate import AGGREGATORS
from .errors import Problem
from .i18n import _, current_language, normalise_language
from .impute import IMPUTERS, MISSING_METHODS
from .model import Settings, TierRule
from .normalise import NORMALISERS
from .text import ascii_punctuation, split_list
from .text import text as cell_text
from .treat import TREATMENTS

#: Largest magnitude of a numeric setting (a range end, a scale): beyond it results overflow.
MAX_MAGNITUDE = 1e15

#: Every key the Settings sheet may hold (others are kept for people and ignored, with a note).
KNOWN_KEYS: tuple[str, ...] = (
    "name_zh", "name_en", "input", "normalisation", "minmax_range", "efficacy_a", "efficacy_b",
    "aggregation", "weights", "tiers", "tier_labels", "rank_decimals", "outliers", "outlier_skew",
    "outlier_kurtosis", "outlier_max_points", "coverage_min", "goalposts_scale", "missing", "output",
    "chart_top", "compare",
)
#: Keys of what a Chinese analyst's workbook calls things and how it marks gaps (docs/workbook.md).
KNOWN_KEYS += ("unit_label", "missing_markers")
#: Settings keys read like :data:`KNOWN_KEYS` but not written into the Settings sheet of a new
#: workbook (blank is their default; docs/workbook.md): ``language`` (zh/en) of messages and of
#: what is written into the workbook.
OPTIONAL_KEYS = ("language",)

#: Settings keys of panel workbooks (Data/Given with a ``year`` column): read like
#: :data:`KNOWN_KEYS`, not written into a new single-year workbook's Settings.
PANEL_KEYS = ("panel_normalisation",)

#: Settings keys naming an optional result sheet (written under that name instead of its
#: default), with the default name: a sheet of the user's under the default name is kept and
#: the optional sheet skipped, with a note naming its key. Read like :data:`KNOWN_KEYS`, but
#: not written into the Settings sheet of a new workbook (rarely needed; docs/workbook.md).
SHEET_NAME_KEYS: dict[str, str] = {
    "sheet_treatment": "Treatment", "sheet_groupranking": "GroupRanking",
    "sheet_charts": "Charts", "sheet_compare": "Compare", "sheet_trends": "Trends",
}
#: Settings keys whose value must be one of a fixed list.
CHOICES: dict[str, tuple[str, ...]] = {
    "input": ("data", "given"),
    "normalisation": tuple(sorted(NORMALISERS)),
    "aggregation": tuple(sorted(AGGREGATORS)),
    "weights": ("strict", "rescale"),
    "output": ("values", "formulas"),
}


def split_method(text: str) -> tuple[str, str]:
    """``"group_mean:region"`` → ``("group_mean", "region")``; ``"mean"`` → ``("mean", "")``."""
    name, _sep, arg = text.partition(":")
    return name.strip().lower(), arg.strip()


def parse_settings(raw: Mapping[str, Any]) -> tuple[Settings, list[Problem], list[str]]:
    """Typed settings from ``key -> value`` (keys matched case-insensitively), with problems and notes.

    A missing key takes the contract's default. Every bad value is a Problem naming the key,
    the value and what was expected.

    >>> s, problems, notes = parse_settings({"Tiers": "score:80,70", "tier_labels": "A;B;C"})
    >>> s.tiers.kind, s.tiers.bounds, s.tiers.labels, problems
    ('score', (80.0, 70.0), ('A', 'B', 'C'), [])
    """
    values = {str(k).strip().lower(): v for k, v in raw.items() if k is not None and str(k).strip()}
    problems: list[Problem] = []
    notes: list[str] = []
    out: dict[str, Any] = {}

    def bad(key: str, text: str) -> None:
        problems.append(Problem("Settings", field=key, problem=_("setting '{key}': {problem}")
                                .format(key=key, problem=text)))

    def given(key: str) -> str:
        return cell_text(values.get(key))

    def given_ascii(key: str) -> str:   # numbers, method names: full-width forms as ASCII
        return ascii_punctuation(given(key))

    for key in sorted(set(values) - set(KNOWN_KEYS) - set(SHEET_NAME_KEYS) - set(OPTIONAL_KEYS)
                      - set(PANEL_KEYS)):
        notes.append(_("Settings key '{key}' is not one xl-aiindex reads: ignored").format(
            key=key))

    for key in ("name_zh", "name_en"):
        out[key] = given(key)

    for key, choices in CHOICES.items():
        text = given(key).lower()
        if not text:
            continue
        if text not in choices:
            bad(key, _("unknown value '{value}'; choose one of: {choices}").format(
                value=given(key), choices=", ".join(choices)))
        else:
            out[key] = text

    def number(key: str, check: Callable[[float], bool] = lambda v: True, expect: str = ""
               ) -> float | None:
        expect = expect or _("a number")
        text = given(key)
        if not text:
            return None
        try:
            v = float(values[key]) if isinstance(values[key], int | float) else float(text)
        except ValueError:
            bad(key, _("'{text}' is not a number; expected {expected}").format(
                text=text, expected=expect))
            return None
        if not check(v) or not math.isfinite(v) or abs(v) > MAX_MAGNITUDE:
            shown = text if len(text) <= 20 else f"{v:g}"
            if math.isfinite(v) and abs(v) > MAX_MAGNITUDE:
                bad(key, _("{value} is out of range; expected {expected} (at most {limit} in "
                           "magnitude)").format(value=shown, expected=expect,
                                                limit=f"{MAX_MAGNITUDE:g}"))
            else:
                bad(key, _("{value} is out of range; expected {expected}").format(
                    value=shown, expected=expect))
            return None
        return v

    for key, check, expect in (
        ("efficacy_a", lambda v: True, _("a number")),
        ("efficacy_b", lambda v: v != 0, _("a non-zero number")),
        ("outlier_skew", lambda v: v > 0, _("a positive number")),
        ("outlier_kurtosis", lambda v: True, _("a number")),
        ("coverage_min", lambda v: 0 <= v <= 1, _("a share between 0 and 1 (e.g. 0.8)")),
        ("goalposts_scale", lambda v: v > 0, _("a positive number")),
    ):
        v = number(key, check, expect)
        if v is not None:
            out[key] = v
    v = number("outlier_max_points", lambda v: v >= 1 and v.is_integer(), _("a whole number ≥ 1"))
    if v is not None:
        out["outlier_max_points"] = int(v)
    v = number("rank_decimals", lambda v: 0 <= v <= 12 and v.is_integer(),
               _("blank or a whole number 0–12"))
    if v is not None:
        out["rank_decimals"] = int(v)

    v = number("chart_top", lambda v: 0 <= v <= 1000 and v.is_integer(),
               _("a whole number 0–1000 (0 = no charts)"))
    if v is not None:
        out["chart_top"] = int(v)
    text = given("compare")
    if text:
        pairs = []
        for part in split_list(text):
            names = [n.strip() for n in part.replace("／", "/").split("/")]
            if len(names) != 2 or not all(names):
                bad("compare", _("'{part}' is not a pair 'a/b' (ids or names); separate pairs "
                                 "with ';', e.g. 北京/上海;深圳/广州").format(part=part))
                continue
            pairs.append((names[0], names[1]))
        out["compare"] = tuple(pairs)

    text = given("language")
    if text:
        language = normalise_language(text)
        if language is None:
            bad("language", _("unknown language '{value}'; choose zh (Chinese) or en (English)")
                .format(value=text))
        else:
            out["language"] = language

    renamed = _sheet_names(given)
    if renamed:
        out["sheet_names"] = renamed

    text = given_ascii("minmax_range")
    if text:
        parts = [p.strip() for p in text.replace(";", ",").split(",")]
        try:
            low, high = (float(p) for p in parts)
            if not low < high or not all(math.isfinite(b) and abs(b) <= MAX_MAGNITUDE
                                         for b in (low, high)):
                raise ValueError
            out["minmax_range"] = (low, high)
        except ValueError:
            bad("minmax_range", _("'{text}' is not 'low,high' with low < high (e.g. 0,100), "
                                  "both finite and at most {limit} in magnitude").format(
                                      text=text, limit=f"{MAX_MAGNITUDE:g}"))

    rule = _parse_tiers(given_ascii("tiers"), given("tier_labels"), bad)
    if rule is not None:
        out["tiers"] = rule

    text = given_ascii("outliers")
    if text:
        name, arg = split_method(text)
        if name not in TREATMENTS:
            bad("outliers", _("unknown method '{text}'; choose one of: {choices}").format(
                text=text, choices="none, skew_kurtosis, winsorise:P"))
        elif name == "winsorise":
            try:
                p = float(arg or "nan")
                if not 0 < p < 50:
                    raise ValueError
                out["outliers"] = f"winsorise:{arg}"
            except ValueError:
                bad("outliers", _("'{text}' needs a percentile between 0 and 50, e.g. "
                                  "winsorise:5").format(text=text))
        else:
            out["outliers"] = name

    text = given_ascii("missing")
    if text:
        name, arg = split_method(text)
        valid = ", ".join(m if not m.startswith("group_") else f"{m}:COLUMN" for m in MISSING_METHODS)
        if name not in MISSING_METHODS:
            bad("missing", _("unknown method '{text}'; choose one of: {choices}").format(
                text=text, choices=valid))
        elif name.startswith("group_") and not arg:
            bad("missing", _("'{text}' needs a Units grouping column, e.g. {example}").format(
                text=text, example=f"{name}:region"))
        else:
            out["missing"] = f"{name}:{arg}" if name in IMPUTERS and arg else name

    text = given("unit_label")
    if text:
        out["unit_label"] = text
    text = given("missing_markers")
    if text:
        out["missing_markers"] = tuple(split_list(text))
    text = given_ascii("panel_normalisation")
    if text:
        name, arg = split_method(text)
        if name in ("pooled", "per_year") and not arg:
            out["panel_normalisation"] = name
        elif name == "base" and re.fullmatch(r"\d{1,4}(\.0+)?", arg):
            out["panel_normalisation"] = f"base:{int(float(arg))}"
        else:
            # whether the panel has that year is the panel build's check (it knows the years)
            bad("panel_normalisation", _("'{value}' is not one of pooled, per_year, base:YEAR "
                                         "(e.g. base:2020)").format(value=text))

    return Settings(**out), problems, notes


def unit_words(settings: Settings) -> tuple[str, str]:
    """What a unit is called ``(in Chinese, in English)``: Settings ``unit_label`` (``省份``
    for both, ``省份/province`` for each), else ``("城市", "city")``.

    >>> unit_words(Settings()), unit_words(Settings(unit_label="省份 / province"))
    (('城市', 'city'), ('省份', 'province'))
    """
    parts = [p.strip() for p in settings.unit_label.replace("／", "/").split("/") if p.strip()]
    if not parts:
        return "城市", "city"
    return parts[0], parts[-1]


def unit_word(settings: Settings) -> str:
    """What a unit is called in the current language (:func:`unit_words`); "city" translated
    when Settings ``unit_label`` is blank.

    >>> from xl_aiindex.i18n import use_language
    >>> with use_language("en"):
    ...     unit_word(Settings()), unit_word(Settings(unit_label="省份 / province"))
    ('city', 'province')
    """
    if not settings.unit_label.strip():
        return _("city")
    zh, en = unit_words(settings)
    return zh if current_language() == "zh" else en


def _sheet_names(given: Callable[[str], str]) -> tuple[tuple[str, str], ...]:
    """The optional result sheets named in Settings (:data:`SHEET_NAME_KEYS`) as ``(default,
    name)`` pairs. Whether Excel and the workbook accept each name is the workbook layer's
    check (:func:`xl_aiindex.workbook.ownership.sheet_name_problems`: it knows the sheets)."""
    return tuple((default, given(k).strip()) for k, default in SHEET_NAME_KEYS.items()
                 if given(k).strip())


#: A name to suggest for each optional result sheet (in notes and problems).
SHEET_NAME_EXAMPLES = {"sheet_treatment": "异常值处理", "sheet_groupranking": "分组排名",
                       "sheet_charts": "图表", "sheet_compare": "对比", "sheet_trends": "趋势"}


def _parse_tiers(text: str, labels_text: str, bad: Callable[[str, str], None]) -> TierRule | None:
    kind = "rank"
    bounds: tuple[float, ...] = (10.0, 20.0)
    if text:
        name, arg = split_method(text)
        try:
            if name not in ("rank", "score"):
                raise ValueError
            bounds = tuple(float(b) for b in arg.split(",") if b.strip())
            if not bounds:
                raise ValueError
        except ValueError:
            bad("tiers", _("'{text}' is not 'rank:10,20' (last rank of each tier but the last) "
                           "or 'score:80,70,55' (lower score bounds, high to low)").format(
                               text=text))
            return None
        kind = name
        if kind == "rank" and (list(bounds) != sorted(set(bounds))
                               or any(b < 1 or not b.is_integer() for b in bounds)):
            bad("tiers", _("'{text}': rank cut-offs must be whole numbers ≥ 1, increasing")
                .format(text=text))
            return None
        if kind == "score" and list(bounds) != sorted(set(bounds), reverse=True):
            bad("tiers", _("'{text}': score bounds must decrease (best tier's lower bound "
                           "first)").format(text=text))
            return None
    labels: tuple[str, ...] = ()
    if labels_text:
        labels = tuple(split_list(labels_text))
        if len(labels) != len(bounds) + 1:
            bad("tier_labels", _("{count} label(s) given for {tiers} tiers ('{text}'); give "
                                 "one per tier, separated by ';'").format(
                                     count=len(labels), tiers=len(bounds) + 1, text=labels_text))
            labels = ()
    return TierRule(kind, bounds, labels)
