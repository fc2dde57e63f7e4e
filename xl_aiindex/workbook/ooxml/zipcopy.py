"""Copying an unchanged zip entry raw: its compressed bytes as they are, never inflated and
deflated again.

Python's :mod:`zipfile` has no public call for this, so the entry is copied as the ZIP format
(PKWARE APPNOTE 4.3) lays it out: the local file header, the compressed data and, when bit 3 of
the flags is set, the data descriptor are one contiguous byte range of the source file, which is
copied verbatim; its central-directory record is then the source's :class:`zipfile.ZipInfo`
(name, flags, method, CRC, sizes, times, attributes, extra fields, comment) with the new offset.
The output :class:`zipfile.ZipFile` learns of the entry exactly as :meth:`ZipFile.mkdir` (3.11)
registers the header it writes itself: ``filelist``, ``NameToInfo``, ``start_dir``; it then
writes the central directory (with ZIP64 records when an offset, a size or the entry count
needs them) when closed, as for any other entry.

Anything unexpected (encrypted entry, a local header that does not match the central directory,
a data descriptor whose CRC differs, a ``ZipFile`` without those attributes) makes
:func:`copy_raw` return False, and the caller copies the entry the slow way (inflate and
deflate again), which is always correct.
"""

from __future__ import annotations

import copy
import struct
import zipfile
from typing import IO

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")   # APPNOTE 4.3.7, 30 bytes
_LOCAL_SIG = b"PK\x03\x04"
_DD_SIG = b"PK\x07\x08"
_FLAG_ENCRYPTED = 0x1
_FLAG_DATA_DESCRIPTOR = 0x8
_ZIP64_EXTRA = 0x0001
_CHUNK = 1 << 20


def _extra_ids(extra: bytes) -> list[int]:
    """The header ids of the extra fields in ``extra``."""
    ids, pos = [], 0
    while pos + 4 <= len(extra):
        xid, size = struct.unpack_from("<HH", extra, pos)
        ids.append(xid)
        pos += 4 + size
    return ids


def _strip_zip64(extra: bytes) -> bytes:
    """``extra`` without its ZIP64 field: the writer adds a fresh one to the central record
    when the entry's sizes or offset need it (a stale one would give wrong values)."""
    out, pos = [], 0
    while pos + 4 <= len(extra):
        xid, size = struct.unpack_from("<HH", extra, pos)
        if xid != _ZIP64_EXTRA:
            out.append(extra[pos:pos + 4 + size])
        pos += 4 + size
    return b"".join(out) + extra[pos:]


def _entry_span(src: IO[bytes], info: zipfile.ZipInfo) -> int | None:
    """Length of the byte range of ``info`` in ``src`` (local header, data, data descriptor),
    checked against the central directory; None when it does not match."""
    src.seek(info.header_offset)
    head = src.read(_LOCAL_HEADER.size)
    if len(head) != _LOCAL_HEADER.size:
        return None
    (sig, _ver, _sys, flags, method, _time, _date, crc, _csize, _usize, n_name,
     n_extra) = _LOCAL_HEADER.unpack(head)
    if sig != _LOCAL_SIG or flags & _FLAG_ENCRYPTED or method != info.compress_type:
        return None
    name_extra = src.read(n_name + n_extra)
    if len(name_extra) != n_name + n_extra:
        return None
    name = name_extra[:n_name]
    if name.decode("utf-8" if flags & 0x800 else "cp437", "replace") != info.orig_filename:
        return None
    span = _LOCAL_HEADER.size + n_name + n_extra + info.compress_size
    if not flags & _FLAG_DATA_DESCRIPTOR:
        return span if crc == info.CRC else None
    # the descriptor: optional signature, CRC, then sizes of 8 bytes each when the local
    # header carries a ZIP64 field (APPNOTE 4.3.9), else 4
    src.seek(info.header_offset + span)
    zip64 = _ZIP64_EXTRA in _extra_ids(name_extra[n_name:])
    tail = src.read(24 if zip64 else 16)
    sig_len = 4 if tail[:4] == _DD_SIG else 0
    fmt = "<LQQ" if zip64 else "<LLL"
    size = sig_len + struct.calcsize(fmt)
    if len(tail) < size:
        return None
    dd_crc, dd_csize, dd_usize = struct.unpack_from(fmt, tail, sig_len)
    if (dd_crc, dd_csize, dd_usize) != (info.CRC, info.compress_size, info.file_size):
        return None
    return span + size


def copy_raw(src: IO[bytes], info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> bool:
    """Append the entry ``info`` of the zip file ``src`` (a binary file open for reading) to
    ``zout`` (open for writing) byte for byte; False (nothing written) when it cannot be copied
    raw and must be recompressed."""
    if not all(hasattr(zout, a) for a in ("fp", "filelist", "NameToInfo", "start_dir")):
        return False
    if info.flag_bits & _FLAG_ENCRYPTED or getattr(zout, "_writing", False):
        return False
    span = _entry_span(src, info)
    if span is None:
        return False
    out = copy.copy(info)
    out.extra = _strip_zip64(info.extra)
    fp = zout.fp
    assert fp is not None
    if getattr(zout, "_seekable", False):
        fp.seek(zout.start_dir)
    out.header_offset = fp.tell()
    src.seek(info.header_offset)
    left = span
    while left:
        chunk = src.read(min(left, _CHUNK))
        if not chunk:
            raise OSError(f"zip entry {info.filename!r} ends early")
        fp.write(chunk)
        left -= len(chunk)
    zout.filelist.append(out)
    zout.NameToInfo[out.filename] = out
    zout.start_dir = fp.tell()
    zout._didModify = True  # type: ignore[attr-defined]  # as ZipFile.mkdir does
    return True
