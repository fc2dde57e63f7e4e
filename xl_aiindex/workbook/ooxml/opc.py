"""The zip package as Open Packaging Conventions see it: part names, relationships, the workbook
part, and the sheet names and kinds listed in it.
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import unquote

from .xmltext import NS_MAIN, NS_PKG_REL, NS_R, RT_OFFICE_DOCUMENT, _parse


@dataclass(frozen=True)
class _Rel:
    id: str
    type: str
    target: str
    external: bool


def _rels_name(part: str) -> str:
    """``xl/worksheets/sheet1.xml`` -> ``xl/worksheets/_rels/sheet1.xml.rels``."""
    d, _, base = part.rpartition("/")
    return f"{d}/_rels/{base}.rels" if d else f"_rels/{base}.rels"


def _source_of(rels: str) -> str | None:
    """Inverse of :func:`_rels_name` (``""`` is the package itself); None if not a rels name."""
    m = re.fullmatch(r"(?:(.*)/)?_rels/([^/]*)\.rels", rels, re.I)
    if m is None:
        return None
    d, base = m.group(1), m.group(2)
    return f"{d}/{base}" if d else base


def _parse_rels(data: bytes) -> list[_Rel]:
    root = _parse(data)
    rels = []
    for el in root:
        if el.tag != f"{{{NS_PKG_REL}}}Relationship":
            continue
        rels.append(_Rel(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""),
                         el.get("TargetMode", "Internal") == "External"))
    return rels


class _Package:
    """Names and relationships of the source zip (OPC names are case-insensitive)."""

    def __init__(self, zin: zipfile.ZipFile) -> None:
        self.zin = zin
        self.infos = zin.infolist()
        self.names = [i.filename for i in self.infos]
        self.by_lower = {n.lower(): n for n in self.names}
        self.rels: dict[str, list[_Rel]] = {}   # source part ("" = package) -> relationships
        self.rels_entry: dict[str, str] = {}    # source part -> name of its .rels entry
        for name in self.names:
            source = _source_of(name)
            if source is not None and name.lower().endswith(".rels"):
                src = self.actual(source) if source else ""
                if src is None:
                    src = source
                self.rels[src] = _parse_rels(zin.read(name))
                self.rels_entry[src] = name

    def actual(self, name: str) -> str | None:
        """The zip entry name of part ``name`` (case-insensitive, percent-decoding tried)."""
        hit = self.by_lower.get(name.lower())
        if hit is None and "%" in name:
            hit = self.by_lower.get(unquote(name).lower())
        return hit

    def resolve(self, source: str, rel: _Rel) -> str | None:
        """Entry name of the internal target of ``rel`` from part ``source``."""
        if rel.external:
            return None
        target = rel.target.split("#", 1)[0]
        if not target:
            return None
        if target.startswith("/"):
            path = target[1:]
        else:
            path = posixpath.join(posixpath.dirname(source), target)
        path = posixpath.normpath(path)
        return self.actual(path)

    def reachable(self, rels: dict[str, list[_Rel]]) -> set[str]:
        """Parts reachable from the package root through ``rels``."""
        seen: set[str] = set()
        todo = [""]
        while todo:
            source = todo.pop()
            for rel in rels.get(source, ()):
                part = self.resolve(source, rel)
                if part is not None and part not in seen:
                    seen.add(part)
                    todo.append(part)
        return seen


def _workbook_part(pkg: _Package) -> str:
    """The workbook part of the package (the target of its officeDocument relationship)."""
    wb_rel = next((r for r in pkg.rels.get("", []) if r.type == RT_OFFICE_DOCUMENT), None)
    wb_part = None if wb_rel is None else pkg.resolve("", wb_rel)
    if wb_part is None:
        raise ValueError("package has no workbook part (officeDocument relationship)")
    return wb_part


def package_parts(path: str | os.PathLike[str] | IO[bytes]) -> dict[str, bytes]:
    """Every zip entry of the package at ``path``: name -> uncompressed bytes (in entry order)."""
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def sheet_names(path: str | os.PathLike[str] | IO[bytes]) -> list[str]:
    """Names of the sheets of the workbook at ``path``, in workbook order (any sheet type)."""
    with zipfile.ZipFile(path) as zin:
        pkg = _Package(zin)
        wb_part = _workbook_part(pkg)
        root = _parse(zin.read(wb_part))
    sheets = root.find(f"{{{NS_MAIN}}}sheets")
    return [] if sheets is None else [el.get("name", "") for el in sheets]


def sheet_kinds(path: str | os.PathLike[str] | IO[bytes]) -> dict[str, str]:
    """Each sheet's kind by name, in workbook order: ``worksheet``, ``chartsheet``,
    ``dialogsheet``, ``xlMacrosheet``, ``xlIntlMacrosheet`` (the relationship type's last
    part; ``missing`` when the sheet has no part)."""
    with zipfile.ZipFile(path) as zin:
        pkg = _Package(zin)
        wb_part = _workbook_part(pkg)
        root = _parse(zin.read(wb_part))
        rels = {r.id: r for r in pkg.rels.get(wb_part, [])}
    sheets = root.find(f"{{{NS_MAIN}}}sheets")
    out: dict[str, str] = {}
    for el in [] if sheets is None else sheets:
        rel = rels.get(el.get(f"{{{NS_R}}}id", ""))
        out[el.get("name", "")] = "missing" if rel is None else rel.type.rpartition("/")[2]
    return out


def _next_id(taken: set[str], prefix: str = "rId") -> Iterator[str]:
    n = 1
    while True:
        cand = f"{prefix}{n}"
        if cand not in taken:
            taken.add(cand)
            yield cand
        n += 1


def _free_name(taken: set[str], pattern: str) -> str:
    """The first ``pattern.format(n)`` (n = 1, 2, …) not taken (nor its .rels); marks it taken."""
    n = 1
    while True:
        name = pattern.format(n)
        if name.lower() not in taken and _rels_name(name).lower() not in taken:
            taken.add(name.lower())
            return name
        n += 1
