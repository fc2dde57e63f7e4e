"""What the splice will do: one :class:`_SheetJob` per written sheet and the :class:`_Plan` of the
whole package (decided by :mod:`.plan`, carried out by :mod:`.splice`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..sheetspec import SheetSpec, Style
from .opc import _Rel
from .xmltext import _XML_DECL, NS_PKG_REL, RT_DRAWING, RT_HYPERLINK, RT_TABLE, _esc_attr


@dataclass
class _SheetJob:
    spec: SheetSpec
    part: str                                    # zip entry name of the sheet XML
    name: str                                    # sheet name as in workbook.xml
    replaced: bool
    drawing: _Rel | None = None                  # kept drawing relationship
    table: _Rel | None = None                    # kept (re-pointed) table relationship
    vml: _Rel | None = None                      # header notes: legacy VML drawing
    comments: _Rel | None = None                 # header notes: comments part
    old_vml: list[_Rel] = field(default_factory=list)    # the old sheet's VML relationships
    old_rel_ids: set[str] = field(default_factory=set)   # ids a new relationship must avoid
    external: dict[str, str] = field(default_factory=dict)   # URL -> rId
    code_name: str | None = None
    view_attrs: dict[str, str] = field(default_factory=dict)
    format_attrs: dict[str, str] = field(default_factory=dict)
    #: the old sheet's ``<sheetProtection>`` attributes (None: it was not protected), or a
    #: function giving them when they are read beside the writing (a large old sheet)
    protection: dict[str, str] | None | Callable[[], dict[str, str] | None] = None
    n_rows: int = 0
    n_cols: int = 0

    @property
    def rels_xml(self) -> bytes | None:
        rels = []
        if self.drawing is not None:
            rels.append(f'<Relationship Id="{_esc_attr(self.drawing.id)}" Type="{RT_DRAWING}" '
                        f'Target="{_esc_attr(self.drawing.target)}"/>')
        for rel in (self.vml, self.comments):
            if rel is not None:
                rels.append(f'<Relationship Id="{_esc_attr(rel.id)}" Type="{rel.type}" '
                            f'Target="{_esc_attr(rel.target)}"/>')
        if self.table is not None:
            rels.append(f'<Relationship Id="{_esc_attr(self.table.id)}" Type="{RT_TABLE}" '
                        f'Target="{_esc_attr(self.table.target)}"/>')
        for url, rid in self.external.items():
            rels.append(f'<Relationship Id="{rid}" Type="{RT_HYPERLINK}" '
                        f'Target="{_esc_attr(url)}" TargetMode="External"/>')
        if not rels:
            return None
        return (f'{_XML_DECL}<Relationships xmlns="{NS_PKG_REL}">{"".join(rels)}'
                "</Relationships>").encode()


@dataclass
class _Plan:
    jobs: dict[str, _SheetJob]          # replaced sheet entry -> job
    new_jobs: list[_SheetJob]           # appended sheets
    rewritten: dict[str, bytes | None]  # entry -> new bytes (None: drop the entry)
    removed: set[str]
    added: dict[str, bytes]             # new non-sheet entries (rels, created styles part)
    insert_after: str | None            # entry after which appended sheets are written
    xf_attr: dict[Style, str]


@dataclass
class _ChartParts:
    added: dict[str, bytes] = field(default_factory=dict)   # new drawing, chart and rels parts
    ct_inserts: list[str] = field(default_factory=list)     # their content-type overrides
