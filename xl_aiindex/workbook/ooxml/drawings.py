"""Native charts of the tool's own sheets (a :class:`SheetSpec` with a ``drawing``): their
drawing and chart parts, kept byte for byte when unchanged.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Sequence

from ..charts import CT_CHART, CT_DRAWING, RT_CHART, charts_only, drawing_xml
from .jobs import _ChartParts, _SheetJob
from .opc import _free_name, _next_id, _Package, _Rel, _rels_name
from .xmltext import _XML_DECL, NS_PKG_REL, RT_DRAWING


def _plan_drawings(zin: zipfile.ZipFile, pkg: _Package, jobs: Sequence[_SheetJob]
                   ) -> _ChartParts:
    """Decide the drawing of every sheet whose spec carries one (``SheetSpec.drawing``).

    Unchanged parts (the sheet's current drawing and its charts hold exactly the bytes that
    would be written) are kept as they are, so a recalc that only changes cell values leaves
    the chart parts byte-identical; otherwise new drawing and chart parts are added under
    unused names and the old ones, no longer reachable, are removed with the rest. An empty
    drawing removes the sheet's drawing. Specs without a drawing keep today's rule: the sheet's
    drawing relationship is kept."""
    out = _ChartParts()
    taken = {n.lower() for n in pkg.names}
    for job in jobs:
        spec_drawing = job.spec.drawing
        if spec_drawing is None:
            continue
        if job.drawing is not None:
            old_part = pkg.resolve(job.part, job.drawing)
            if old_part is not None and not charts_only(zin.read(old_part)):
                raise ValueError(f"sheet {job.name!r} has pictures or shapes xl-aiindex did "
                                 "not draw; move them to another sheet (xl-aiindex redraws "
                                 "this sheet's charts)")
        if not spec_drawing.charts:
            job.drawing = None
            continue
        charts = [xml for _, xml in spec_drawing.charts]
        rel_ids = [f"rId{i + 1}" for i in range(len(charts))]
        dxml = drawing_xml([a for a, _ in spec_drawing.charts], rel_ids)
        if job.drawing is not None and _same_drawing(zin, pkg, job, dxml, rel_ids, charts):
            continue
        d_part = _free_name(taken, "xl/drawings/drawing{}.xml")
        c_parts = [_free_name(taken, "xl/charts/chart{}.xml") for _ in charts]
        rels = "".join(
            f'<Relationship Id="{rid}" Type="{RT_CHART}" '
            f'Target="{posixpath.relpath(c, posixpath.dirname(d_part))}"/>'
            for rid, c in zip(rel_ids, c_parts, strict=True))
        out.added[d_part] = dxml
        out.added[_rels_name(d_part)] = (f'{_XML_DECL}<Relationships xmlns="{NS_PKG_REL}">'
                                         f"{rels}</Relationships>").encode()
        out.ct_inserts.append(f'<Override PartName="/{d_part}" ContentType="{CT_DRAWING}"/>')
        for c, xml in zip(c_parts, charts, strict=True):
            out.added[c] = xml
            out.ct_inserts.append(f'<Override PartName="/{c}" ContentType="{CT_CHART}"/>')
        rid = job.drawing.id if job.drawing is not None else next(_next_id(set(job.old_rel_ids)))
        job.drawing = _Rel(rid, RT_DRAWING, posixpath.relpath(d_part, posixpath.dirname(job.part)),
                           False)
    return out


def _same_drawing(zin: zipfile.ZipFile, pkg: _Package, job: _SheetJob, dxml: bytes,
                  rel_ids: Sequence[str], charts: Sequence[bytes]) -> bool:
    """Whether the sheet's current drawing is exactly ``dxml`` with ``charts`` behind
    ``rel_ids`` (and nothing else)."""
    assert job.drawing is not None
    d_part = pkg.resolve(job.part, job.drawing)
    if d_part is None or zin.read(d_part) != dxml:
        return False
    rels = {r.id: r for r in pkg.rels.get(d_part, [])}
    if set(rels) != set(rel_ids):
        return False
    for rid, xml in zip(rel_ids, charts, strict=True):
        target = pkg.resolve(d_part, rels[rid])
        if target is None or zin.read(target) != xml or pkg.rels.get(target):
            return False
    return True
