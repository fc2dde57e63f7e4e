"""Finding a unit or a node by what a person types: its id, Chinese name or English name.

Matching ignores case, spaces and full-width forms (``" BEI JING "`` finds ``beijing``,
``"ｒｎｄ"`` finds ``rnd``); an id wins over a name that happens to spell it. An unknown name
gets the closest ones as a suggestion, in the script the person typed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from .errors import UnknownName
from .model import IndexModel

#: How many close names an "unknown city/node" message suggests.
SUGGESTIONS = 3


def match_key(value: str) -> str:
    """How names are compared: NFKC (full-width → ASCII), no whitespace at all, case-folded.

    >>> match_key(" Bei  Jing "), match_key("ＢＥＩＪＩＮＧ")
    ('beijing', 'beijing')
    """
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


@dataclass(frozen=True)
class NameIndex:
    """Match key → id, for the units (``kind="unit"``) or the nodes (``kind="node"``) of a model."""

    model: IndexModel
    kind: str
    keys: dict[str, str]

    @classmethod
    def of(cls, model: IndexModel, kind: str) -> NameIndex:
        """Build the index of ``model``'s units or nodes."""
        if kind == "unit":
            units = model.units
            entries = [(str(u), [str(u), str(units.at[u, "name_zh"] or ""),
                                 str(units.at[u, "name_en"] or "")]) for u in units.index]
        else:
            entries = [(n.id, [n.id, n.name_zh, n.name_en]) for n in model.nodes]
        keys: dict[str, str] = {}
        for pos in range(3):  # an id wins over a name that happens to spell it
            for ident, names in entries:
                k = match_key(names[pos])
                if k:
                    keys.setdefault(k, ident)
        return cls(model, kind, keys)

    def find(self, query: str) -> str:
        """The id ``query`` names; :class:`UnknownName` (with suggestions) if none."""
        ident = self.keys.get(match_key(query))
        if ident is None:
            raise UnknownName(self.unknown_text(query))
        return ident

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
        """``unknown city "Pekin" — did you mean Beijing or Kunming?`` and the like."""
        what = "city" if self.kind == "unit" else "node"
        close = self.close(match_key(query))
        if close:
            labels = [self.label(ident, query) for ident in close[:SUGGESTIONS]]
            said = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
            hint = f" — did you mean {said}?"
        elif self.kind == "unit":
            first = str(self.model.units.index[0])
            examples = ", ".join(dict.fromkeys(
                [first, self.label(first, "中"), self.label(first, "a")]))
            hint = f" — use a Units id, name_zh or name_en (e.g. {examples})"
        else:
            root = next(n.id for n in self.model.nodes if n.parent is None)
            hint = f" — use a Framework id, name_zh or name_en (e.g. {root})"
        return f'unknown {what} "{query}"{hint}'

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
