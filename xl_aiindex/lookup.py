"""Finding a unit or a node by what a person types: its id, Chinese name, English name or alias.

Matching ignores case, spaces, zero-width characters and full-width forms (``" BEI JING "``
finds ``beijing``, ``"ｒｎｄ"`` finds ``rnd``), reads Traditional characters as Simplified
(``廣州`` finds ``广州``, ``研發能力`` finds ``研发能力``) and lets a Chinese unit be named with
or without its administrative suffix (``北京市`` finds ``北京``, ``浙江`` finds ``浙江省``,
``广西`` finds ``广西壮族自治区``, ``香港`` finds ``香港特别行政区``; also 地区, 盟, 州, 县, 区,
旗), a weaker match used only when nothing matches exactly. Units may have other names in an
``aliases`` column (``京;Peking``). A name that could mean two units (two units share it, it is
another unit's id, or two units share it without their suffixes, as 吉林省 and 吉林市) is never
resolved silently: the lookup says it is ambiguous and lists the candidates (and a name equal
to another unit's id is a problem of the workbook, :func:`id_collisions`). An unknown name
gets the closest ones as a suggestion, in the script the person typed.

Traditional → Simplified is a table of single characters (``data/traditional_simplified.txt``,
3,761 pairs taken once from OpenCC, Apache-2.0) rather than a dependency: names are compared,
not converted for display, so character-by-character folding applied to both sides is all that
is needed, and it keeps the engine free of a C++ extension or a large phrase dictionary.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from importlib import resources

from .contract import ALIASES_COLUMN, UNITS_COLUMNS
from .errors import AmbiguousName, UnknownName
from .i18n import _
from .model import IndexModel

#: How many close names an "unknown city/node" message suggests.
SUGGESTIONS = 3


#: Characters that print as nothing (pasted from web pages and PDFs): never part of a name.
ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060"
                                    "\u2061\u2062\u2063\u2064\ufeff"))
#: The suffix "city" a Chinese city name may carry or not (北京市 = 北京).
CITY_SUFFIX = "市"
#: Administrative suffixes a Chinese unit name may carry or not, longest first: 浙江省 = 浙江,
#: 香港特别行政区 = 香港, 大兴安岭地区 = 大兴安岭, 锡林郭勒盟 = 锡林郭勒. What is left must keep
#: two characters (市: one), so 广州 and 杭州 keep their 州.
ADMIN_SUFFIXES = ("特别行政区", "地区", "省", "市", "盟", "州", "县", "区", "旗")
#: An autonomous region, prefecture, county or banner, with the peoples it is named after:
#: 广西壮族自治区 = 广西, 新疆维吾尔自治区 = 新疆, 恩施土家族苗族自治州 = 恩施.
_AUTONOMOUS = re.compile(r"^(?P<stem>.{2,}?)(?:维吾尔|蒙古|[\u4e00-\u9fff]{1,3}族)*自治[区州县旗]$")
#: What separates the names of an ``aliases`` cell (ASCII or full-width semicolon).
_ALIAS_SEPARATOR = re.compile("[;；]")


def split_aliases(value: object) -> list[str]:
    """The names of an ``aliases`` cell: ``"京; Peking；北平"`` → ``["京", "Peking", "北平"]``.

    >>> split_aliases("京; Peking；北平"), split_aliases(None)
    (['京', 'Peking', '北平'], [])
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    return [a.strip() for a in _ALIAS_SEPARATOR.split(str(value)) if a.strip()]


@cache
def _simplified() -> dict[int, int]:
    """Traditional → Simplified, character by character (see the module docstring)."""
    text = resources.files("xl_aiindex").joinpath("data", "traditional_simplified.txt")
    lines = [ln for ln in text.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    traditional, simplified = lines[0], lines[1]
    if len(traditional) != len(simplified):
        raise RuntimeError("traditional_simplified.txt: the two lines differ in length")
    return str.maketrans(traditional, simplified)


def match_key(value: str) -> str:
    """How names are compared: NFKC (full-width → ASCII), no whitespace or zero-width
    characters, Traditional characters as Simplified, case-folded.

    >>> match_key(" Bei  Jing "), match_key("ＢＥＩＪＩＮＧ"), match_key("廣\u200b州")
    ('beijing', 'beijing', '广州')
    """
    text = unicodedata.normalize("NFKC", value).translate(ZERO_WIDTH)
    return "".join(text.split()).translate(_simplified()).casefold()


def name_entries(model: IndexModel, kind: str, only: Iterable[str] | None = None
                 ) -> list[tuple[str, list[str]]]:
    """``(id, [id, name_zh, name_en, *aliases])`` of every unit (``kind="unit"``; aliases from
    the Units column ``aliases`` when it has one) or node (``[id, name_zh, name_en]``), in sheet
    order (of the ids ``only`` when given)."""
    wanted = None if only is None else set(only)
    if kind == "unit":
        units = model.units
        # the columns as lists, not a lookup per cell: a large book has thousands of units
        zh, en = (units[c].tolist() for c in ("name_zh", "name_en"))
        aliases = units[ALIASES_COLUMN].tolist() if ALIASES_COLUMN in units.columns else None
        return [(str(u), [str(u), str(zh[i] or ""), str(en[i] or ""),
                          *(split_aliases(aliases[i]) if aliases is not None else [])])
                for i, u in enumerate(units.index.tolist()) if wanted is None or str(u) in wanted]
    return [(n.id, [n.id, n.name_zh, n.name_en]) for n in model.nodes
            if wanted is None or n.id in wanted]


def id_collisions(model: IndexModel, kind: str) -> list[tuple[str, str, str, str]]:
    """Names equal to another entry's id (as lookups compare them): ``(id, field, name,
    other id)`` for each, in sheet order. Such a name makes a lookup ambiguous.

    >>> import pandas as pd
    >>> from xl_aiindex.model import Node, Settings
    >>> units = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["B", "Beta"]}, index=["x", "b"])
    >>> id_collisions(IndexModel((Node("r", None),), Settings(), units), "unit")
    [('x', 'name_en', 'B', 'b')]
    """
    entries = name_entries(model, kind)
    ids = {match_key(ident): ident for ident, _ in entries}
    out = []
    for ident, names in entries:
        for pos in range(1, len(names)):
            other = ids.get(match_key(names[pos])) if names[pos].strip() else None
            if other is not None and other != ident:
                out.append((ident, _field(pos), names[pos], other))
    return out


def without_city_suffix(k: str) -> str:
    """A match key without a trailing 市 (``北京市`` → ``北京``); unchanged when that would leave
    nothing."""
    return k[: -len(CITY_SUFFIX)] if k.endswith(CITY_SUFFIX) and len(k) > 1 else k


def without_suffix(k: str) -> str:
    """A match key without its Chinese administrative suffix (:data:`ADMIN_SUFFIXES`, 自治区
    and the peoples it names); unchanged when it has none.

    >>> [without_suffix(k) for k in ("浙江省", "广西壮族自治区", "新疆维吾尔自治区", "内蒙古自治区",
    ...                               "香港特别行政区", "北京市", "广州", "锡林郭勒盟", "beijing")]
    ['浙江', '广西', '新疆', '内蒙古', '香港', '北京', '广州', '锡林郭勒', 'beijing']
    """
    m = _AUTONOMOUS.match(k)
    if m:
        return m.group("stem")
    for suffix in ADMIN_SUFFIXES:
        if k.endswith(suffix) and len(k) - len(suffix) >= (1 if suffix == CITY_SUFFIX else 2):
            return k[: -len(suffix)]
    return k


#: What each position of an entry's names is, for messages (the Units columns that name a unit).
_FIELDS = UNITS_COLUMNS


def _field(pos: int) -> str:
    """The Units column that holds position ``pos`` of an entry's names (aliases after the
    three names)."""
    return _FIELDS[pos] if pos < len(_FIELDS) else ALIASES_COLUMN


@dataclass(frozen=True)
class NameIndex:
    """Match key → ids, for the units (``kind="unit"``) or the nodes (``kind="node"``) of a model.

    ``matches`` maps the key of every id, name and alias to the ids it names (two or more: the
    key is ambiguous); ``loose`` does the same for unit names and aliases without their
    administrative suffix (省, 市, 自治区…), a weaker match used only when nothing matches
    exactly. ``keys`` maps each key to its first id (suggestions).
    """

    model: IndexModel
    kind: str
    keys: dict[str, str]
    matches: dict[str, tuple[str, ...]] = field(default_factory=dict)
    loose: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, model: IndexModel, kind: str) -> NameIndex:
        """Build the index of ``model``'s units or nodes."""
        entries = name_entries(model, kind)
        exact: dict[str, list[str]] = {}
        width = max((len(names) for _ident, names in entries), default=3)
        for pos in range(width):  # ids first: suggestions and listings name the id's owner first
            for ident, names in entries:
                k = match_key(names[pos]) if pos < len(names) else ""
                if k and ident not in exact.setdefault(k, []):
                    exact[k].append(ident)
        loose: dict[str, list[str]] = {}
        if kind == "unit":  # the names without their suffix, as a weaker match
            for pos in range(1, width):
                for ident, names in entries:
                    k = without_suffix(match_key(names[pos])) if pos < len(names) else ""
                    if k and ident not in loose.setdefault(k, []):
                        loose[k].append(ident)
        keys = {k: ids[0] for k, ids in exact.items()}
        for k, ids in loose.items():
            keys.setdefault(k, ids[0])
        return cls(model, kind, keys, {k: tuple(v) for k, v in exact.items()},
                   {k: tuple(v) for k, v in loose.items()})

    def candidates(self, query: str) -> tuple[str, ...]:
        """Every id ``query`` may name: its exact matches (id, name_zh, name_en, aliases), else
        — for units — the matches with an administrative suffix (省, 市, 自治区…) left out or
        added; empty when none."""
        k = match_key(query)
        found = self.matches.get(k, ())
        if not found and self.kind == "unit":
            stem = without_suffix(k)
            found = self.matches.get(stem, ()) or self.loose.get(stem, ())
        return found

    def get(self, query: str) -> str | None:
        """The id ``query`` names, or None (for units an administrative suffix may be left out
        or added).
        Raises :class:`AmbiguousName` when it names more than one."""
        found = self.candidates(query)
        if len(found) > 1:
            raise AmbiguousName(self.ambiguous_text(query, found), found)
        return found[0] if found else None

    def find(self, query: str) -> str:
        """The id ``query`` names; :class:`UnknownName` (with suggestions) if none,
        :class:`AmbiguousName` (listing the candidates) if more than one."""
        ident = self.get(query)
        if ident is None:
            raise UnknownName(self.unknown_text(query))
        return ident

    def _what(self) -> str:
        """What an entry is called in messages: the unit word (Settings ``unit_label``,
        default city) or node."""
        from .settings import unit_word

        return unit_word(self.model.settings) if self.kind == "unit" else _("node")

    def ambiguous_text(self, query: str, found: Sequence[str]) -> str:
        """``ambiguous city "b": it could be b (id b) or x (name_en 'b'); …``."""
        names = dict(name_entries(self.model, self.kind, found))
        k = match_key(query)
        stem = without_suffix(k)
        said = []
        for ident in found:
            how = next((f"{_field(pos)} '{name}'" for pos, name in enumerate(names[ident])
                        if match_key(name) == k), None)
            if how is None:
                how = next((_("{field} '{name}' without its suffix").format(
                    field=_field(pos), name=name) for pos, name in enumerate(names[ident])
                    if pos and without_suffix(match_key(name)) == stem), _("a name"))
            said.append(f"{ident} ({how})")
        listing = _("{some} or {last}").format(some=", ".join(said[:-1]), last=said[-1])
        fix = ("Units" if self.kind == "unit" else "Framework")
        return _('ambiguous {what} "{query}": it could be {listing}; use an id or a name only '
                 "one of them has, or rename one in {sheet} so that names and ids do not "
                 "collide").format(what=self._what(), query=query, listing=listing, sheet=fix)

    def label(self, ident: str, query: str) -> str:
        """How to name ``ident`` to someone who typed ``query``: Chinese if they typed Chinese."""
        if self.kind == "unit":
            units = self.model.units
            zh, en = str(units.at[ident, "name_zh"] or ""), str(units.at[ident, "name_en"] or "")
        else:
            zh, en = self.model.node(ident).name_zh, ident
        wide = any(ord(ch) > 0x2E7F for ch in query)
        return (zh if wide else en) or zh or en or ident

    def unknown_text(self, query: str) -> str:
        """``unknown city "Pekin" — did you mean Beijing or Kunming?`` and the like (the unit
        word from Settings ``unit_label``: ``unknown 省份 "浙"``)."""
        what = self._what()
        close = self.close(match_key(query))
        if close:
            labels = [self.label(ident, query) for ident in close[:SUGGESTIONS]]
            said = labels[0] if len(labels) == 1 else _("{some} or {last}").format(
                some=", ".join(labels[:-1]), last=labels[-1])
            text = _('unknown {what} "{query}" — did you mean {names}?')
            return text.format(what=what, query=query, names=said)
        if self.kind == "unit":
            first = str(self.model.units.index[0])
            examples = ", ".join(dict.fromkeys(
                [first, self.label(first, "中"), self.label(first, "a")]))
            text = _('unknown {what} "{query}" — use a Units id, name_zh or name_en (e.g. '
                     '{examples})')
        else:
            examples = next(n.id for n in self.model.nodes if n.parent is None)
            text = _('unknown {what} "{query}" — use a Framework id, name_zh or name_en (e.g. '
                     '{examples})')
        return text.format(what=what, query=query, examples=examples)

    def close(self, k: str) -> list[str]:
        """Ids whose id or name is closest to ``k`` (ratio ≥ 0.5), ties with the best kept."""
        scored: dict[str, float] = {}
        matcher = SequenceMatcher()
        matcher.set_seq2(k)  # SequenceMatcher caches what it learns about its second sequence
        for name, ident in self.keys.items():
            matcher.set_seq1(name)
            if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
                continue
            ratio = matcher.ratio()
            if ratio >= 0.5 and ratio > scored.get(ident, 0.0):
                scored[ident] = ratio
        if not scored:
            return []
        best = max(scored.values())
        return sorted((i for i, r in scored.items() if r >= best - 0.05), key=lambda i: -scored[i])
