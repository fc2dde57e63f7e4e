"""Write a VBA project (``xl/vbaProject.bin``) from module source, without Excel.

The file is an OLE compound file ([MS-CFB]) holding a VBA project as [MS-OVBA] describes it:

* ``PROJECT`` (text: the modules, the project name, protection state) and ``PROJECTwm``;
* ``VBA/dir`` (compressed: project information, references, one record set per module);
* ``VBA/_VBA_PROJECT`` with version ``0xFFFF`` and **no performance cache**: no compiled p-code,
  so Office compiles the source when it opens the file (MS-OVBA 2.3.4.1: a cache of another
  version is ignored);
* ``VBA/<module>``: each module's source, compressed (MS-OVBA 2.4.1), at offset 0.

Why our own code: the ``ms-ovba`` package's compressor corrupts source above about 1 KB, and
``olefile`` can only overwrite streams of the same size in an existing file. A compound file of a
dozen streams is small to write: 512-byte sectors, a mini stream for streams under 4096 bytes, a
directory whose siblings form a red-black tree. The output depends only on the input (no clock,
no random numbers), so a rebuild gives the same bytes.

>>> data = project_bin([Module("Module1", 'Attribute VB_Name = "Module1"\\r\\nSub A()\\r\\nEnd Sub\\r\\n')])
>>> data[:8] == CFB_SIGNATURE
True
"""

from __future__ import annotations

import io
import re
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# ---- MS-OVBA 2.4.1: compression ----

CHUNK = 4096


def _copy_token_shape(offset_in_chunk: int) -> tuple[int, int]:
    """(bit count of the offset, largest length) of a CopyToken at this decompressed position
    within its chunk (MS-OVBA 2.4.1.3.19.1)."""
    bits = max((offset_in_chunk - 1).bit_length(), 4)
    return bits, (0xFFFF >> bits) + 3


def _compress_chunk(data: bytes) -> bytes:
    """One CompressedChunk (header + data) for up to 4096 bytes of ``data``."""
    out = bytearray()
    pos, n = 0, len(data)
    heads: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions (why: speed)
    while pos < n:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            best_len, best_off = 0, 0
            if pos > 0 and pos + 3 <= n:
                bits, max_len = _copy_token_shape(pos)
                limit = min(max_len, n - pos)
                for cand in reversed(heads.get(data[pos:pos + 3], ())):
                    length = 3
                    while length < limit and data[cand + length] == data[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == limit:
                            break
            step = best_len if best_len >= 3 else 1
            if best_len >= 3:
                bits, _ = _copy_token_shape(pos)
                token = ((best_off - 1) << (16 - bits)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
            else:
                out.append(data[pos])
            for p in range(pos, pos + step):
                if p + 3 <= n:
                    heads.setdefault(data[p:p + 3], []).append(p)
            pos += step
        out[flag_at] = flags
    if len(out) > CHUNK:  # incompressible: a raw chunk, always 4096 bytes
        if n < CHUNK:
            raise ValueError("an incompressible final chunk cannot be stored raw without padding")
        return struct.pack("<H", 0x3000 | 0x0FFF) + bytes(data)
    return struct.pack("<H", 0xB000 | (len(out) + 2 - 3)) + bytes(out)


def compress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 compression of ``data`` (a signature byte, then 4096-byte chunks).

    >>> decompress(compress(b"abcabcabcabc" * 100)) == b"abcabcabcabc" * 100
    True
    """
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(data[start:start + CHUNK])
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 decompression (the inverse of :func:`compress`; reads Office's streams)."""
    if not data or data[0] != 1:
        raise ValueError("not an MS-OVBA compressed container (signature byte is not 0x01)")
    out = bytearray()
    i = 1
    while i < len(data):
        header = struct.unpack_from("<H", data, i)[0]
        size = (header & 0x0FFF) + 3
        end = min(i + size, len(data))
        i += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += data[i:i + CHUNK]
            i += CHUNK
            continue
        while i < end:
            flags = data[i]
            i += 1
            for bit in range(8):
                if i >= end:
                    break
                if flags & (1 << bit):
                    token = struct.unpack_from("<H", data, i)[0]
                    i += 2
                    bits, _ = _copy_token_shape(len(out) - chunk_start)
                    length = (token & (0xFFFF >> bits)) + 3
                    offset = (token >> (16 - bits)) + 1
                    for _ in range(length):
                        out.append(out[-offset])
                else:
                    out.append(data[i])
                    i += 1
    return bytes(out)


# ---- MS-OVBA 2.4.3: the "encryption" of CMG, DPB and GC in the PROJECT stream ----

def encrypt(data: bytes, project_id: str, seed: int) -> str:
    """MS-OVBA 2.4.3.2 data encryption as upper-case hex (``seed`` fixed for reproducibility)."""
    version = 2
    key = sum(project_id.encode("ascii")) & 0xFF
    out = [seed, seed ^ version, seed ^ key]
    unenc, enc1, enc2 = key, seed ^ key, seed ^ version
    ignored = bytes([0] * ((seed & 6) // 2))
    for byte in ignored + struct.pack("<I", len(data)) + data:
        byte_enc = byte ^ ((enc2 + unenc) & 0xFF)
        out.append(byte_enc)
        enc2, enc1, unenc = enc1, byte_enc, byte
    return bytes(out).hex().upper()


def decrypt(hex_text: str) -> bytes:
    """MS-OVBA 2.4.3.3 data decryption: the data of a CMG, DPB or GC value."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise ValueError("unknown encryption version")
    unenc, enc1, enc2 = seed ^ key_enc, key_enc, version_enc
    plain = bytearray()
    for byte_enc in raw[3:]:
        byte = byte_enc ^ ((enc2 + unenc) & 0xFF)
        plain.append(byte)
        enc2, enc1, unenc = enc1, byte_enc, byte
    ignored = (seed & 6) // 2
    length = struct.unpack_from("<I", plain, ignored)[0]
    return bytes(plain[ignored + 4: ignored + 4 + length])


# ---- the project ----

#: Module types of MS-OVBA: a standard module; a class or document module.
PROCEDURAL, CLASS = 0x0021, 0x0022
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
#: What a new Excel project references (VBA and Excel themselves are implicit).
REFERENCES = (
    ("stdole", "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
               "C:\\Windows\\System32\\stdole2.tlb#OLE Automation"),
    ("Office", "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#"
               "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL#"
               "Microsoft Office 16.0 Object Library"),
)
CODEPAGE = 1252


@dataclass(frozen=True)
class Module:
    """A VBA module: ``name``, its full source (``Attribute VB_Name`` lines included) and kind:
    ``"module"`` (standard), ``"class"`` or ``"document"`` (``ThisWorkbook``, a sheet)."""

    name: str
    source: str
    kind: str = "module"

    @property
    def type_id(self) -> int:
        """MODULETYPE of the dir stream."""
        return PROCEDURAL if self.kind == "module" else CLASS


def document_module(name: str, base: str) -> Module:
    """An empty document module (``ThisWorkbook``: :data:`WORKBOOK_BASE`; a sheet:
    :data:`WORKSHEET_BASE`), as Excel stores one."""
    lines = [f'Attribute VB_Name = "{name}"', f'Attribute VB_Base = "{base}"',
             "Attribute VB_GlobalNameSpace = False", "Attribute VB_Creatable = False",
             "Attribute VB_PredeclaredId = True", "Attribute VB_Exposed = True",
             "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = True"]
    return Module(name, "\r\n".join(lines) + "\r\n", "document")


def crlf(text: str) -> str:
    """``text`` with every line ending as CRLF (what the VBA editor stores)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _rec(ident: int, payload: bytes) -> bytes:
    return struct.pack("<HI", ident, len(payload)) + payload


def _encode(text: str, codepage: int = CODEPAGE) -> bytes:
    try:
        return text.encode(f"cp{codepage}")
    except UnicodeEncodeError as e:
        raise ValueError(f"VBA source must be encodable in code page {codepage}: {e}") from e


def dir_stream(modules: Sequence[Module], project_name: str = "VBAProject",
               codepage: int = CODEPAGE) -> bytes:
    """The decompressed ``VBA/dir`` stream (MS-OVBA 2.3.4.2); names in ``codepage``."""

    def _mbcs(text: str) -> bytes:
        return _encode(text, codepage)

    out = bytearray()
    out += _rec(0x0001, struct.pack("<I", 1))          # SysKind: Win32 (recompiled anyway)
    out += _rec(0x0002, struct.pack("<I", 0x0409))      # LCID
    out += _rec(0x0014, struct.pack("<I", 0x0409))      # LCIDINVOKE
    out += _rec(0x0003, struct.pack("<H", codepage))
    out += _rec(0x0004, _mbcs(project_name))
    out += _rec(0x0005, b"") + _rec(0x0040, b"")        # docstring, and its Unicode twin
    out += _rec(0x0006, b"") + _rec(0x003D, b"")        # help file 1 and 2
    out += _rec(0x0007, struct.pack("<I", 0))           # help context
    out += _rec(0x0008, struct.pack("<I", 0))           # lib flags
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)        # version 1.0 (Reserved field is 4)
    out += _rec(0x000C, b"") + _rec(0x003C, b"")        # constants
    for name, libid in REFERENCES:
        out += _rec(0x0016, _mbcs(name)) + _rec(0x003E, name.encode("utf-16-le"))
        lib = _mbcs(libid)
        out += _rec(0x000D, struct.pack("<I", len(lib)) + lib + struct.pack("<IH", 0, 0))
    out += _rec(0x000F, struct.pack("<H", len(modules)))
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))      # project cookie
    for m in modules:
        out += _rec(0x0019, _mbcs(m.name)) + _rec(0x0047, m.name.encode("utf-16-le"))
        out += _rec(0x001A, _mbcs(m.name)) + _rec(0x0032, m.name.encode("utf-16-le"))
        out += _rec(0x001C, b"") + _rec(0x0048, b"")
        out += _rec(0x0031, struct.pack("<I", 0))       # source at offset 0: no p-code
        out += _rec(0x001E, struct.pack("<I", 0))
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))
        out += struct.pack("<HI", m.type_id, 0)
        out += struct.pack("<HI", 0x002B, 0)            # end of module
    out += struct.pack("<HI", 0x0010, 0)                # end of dir
    return bytes(out)


def project_stream(modules: Sequence[Module], project_id: str,
                   project_name: str = "VBAProject", codepage: int = CODEPAGE) -> bytes:
    """The ``PROJECT`` stream (MS-OVBA 2.3.1): modules, name, an unprotected, visible project."""
    lines = [f'ID="{project_id}"']
    for m in modules:
        if m.kind == "document":
            lines.append(f"Document={m.name}/&H00000000")
        elif m.kind == "class":
            lines.append(f"Class={m.name}")
        else:
            lines.append(f"Module={m.name}")
    # unprotected (state 0), no password (one 0x00 byte), visible (0xFF); fixed seeds
    cmg = encrypt(struct.pack("<I", 0), project_id, 0x41)
    dpb = encrypt(bytes([0x00]), project_id, 0x43)
    gc = encrypt(bytes([0xFF]), project_id, 0x45)
    lines += [f'Name="{project_name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"',
              f'CMG="{cmg}"', f'DPB="{dpb}"', f'GC="{gc}"',
              "", "[Host Extender Info]",
              "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
              "", "[Workspace]"]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return _encode("\r\n".join(lines) + "\r\n", codepage)


def projectwm_stream(modules: Sequence[Module], codepage: int = CODEPAGE) -> bytes:
    """The ``PROJECTwm`` stream: each module name in MBCS and in UTF-16."""
    out = bytearray()
    for m in modules:
        out += _encode(m.name, codepage) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


#: The _VBA_PROJECT stream without a performance cache (version 0xFFFF: Office recompiles).
VBA_PROJECT_NO_CACHE = bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x00, 0x00])


def project_id_for(modules: Sequence[Module]) -> str:
    """A GUID derived from the module names (stable across rebuilds)."""
    names = ";".join(m.name for m in modules)
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "xl-aiindex:vba:" + names)).upper() + "}"


def project_bin(modules: Sequence[Module], project_name: str = "VBAProject",
                codepage: int = CODEPAGE) -> bytes:
    """The bytes of a ``vbaProject.bin`` holding ``modules`` (source only; Office compiles it).

    Module names must be unique (case-insensitively) and source must be encodable in
    ``codepage`` (the project's: 1252, or that of a project whose modules are kept, e.g. 936
    for Chinese comments); line endings are made CRLF.
    """
    seen = set()
    for m in modules:
        if not m.name.isidentifier() or not m.name.isascii() or len(m.name) > 31:
            raise ValueError(f"not a valid VBA module name: {m.name!r}")
        if m.name.upper() in seen:
            raise ValueError(f"module {m.name} appears twice")
        seen.add(m.name.upper())
    pid = project_id_for(modules)
    vba = {"dir": compress(dir_stream(modules, project_name, codepage)),
           "_VBA_PROJECT": VBA_PROJECT_NO_CACHE}
    for m in modules:
        vba[m.name] = compress(_encode(crlf(m.source), codepage))
    root = {"PROJECT": project_stream(modules, pid, project_name, codepage),
            "PROJECTwm": projectwm_stream(modules, codepage), "VBA": vba}
    return compound_file(root)


# ---- MS-CFB: the compound file ----

CFB_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
SECTOR, MINI_SECTOR, MINI_CUTOFF = 512, 64, 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


@dataclass
class _Entry:
    name: str
    kind: int                     # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[_Entry] | None = None
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    black: bool = True
    start: int = ENDOFCHAIN
    index: int = 0


def _order(name: str) -> tuple[int, str]:
    """How MS-CFB orders siblings: shorter names first, then by upper-case code points."""
    return (len(name), name.upper())


def _tree(entries: list[_Entry], depth: int, red_depth: int) -> int:
    """Link sorted ``entries`` as a balanced (middle-split) binary tree; return its root's index.

    Nodes at ``red_depth`` (the deepest level, when that level is not full) are red, the rest
    black: every path from the root to a leaf then passes the same number of black nodes, which
    makes the tree a valid red-black tree as MS-CFB asks.
    """
    if not entries:
        return NOSTREAM
    mid = len(entries) // 2
    node = entries[mid]
    node.black = depth != red_depth
    node.left = _tree(entries[:mid], depth + 1, red_depth)
    node.right = _tree(entries[mid + 1:], depth + 1, red_depth)
    return node.index


def _red_depth(n: int) -> int:
    """The level of a middle-split tree of ``n`` nodes to colour red (-1: none, it is full)."""
    deepest = max(n.bit_length() - 1, 0)
    return -1 if (n + 1) & n == 0 else deepest


def compound_file(root: Mapping[str, object]) -> bytes:
    """A version-3 compound file of nested dicts: ``bytes`` values are streams, dicts storages."""
    entries: list[_Entry] = []

    def add(name: str, value: object, kind: int | None = None) -> _Entry:
        if len(name) > 31:
            raise ValueError(f"compound file entry name too long: {name}")
        if isinstance(value, Mapping):
            e = _Entry(name, kind or 1, children=[])
            e.index = len(entries)
            entries.append(e)
            for k in sorted(value, key=_order):
                assert e.children is not None
                e.children.append(add(k, value[k]))
        else:
            assert isinstance(value, bytes)
            e = _Entry(name, 2, data=value)
            e.index = len(entries)
            entries.append(e)
        return e

    add("Root Entry", root, 5)
    for e in entries:
        if e.children:
            e.child = _tree(e.children, 0, _red_depth(len(e.children)))

    # streams: small ones in the mini stream, the others in sectors of their own
    mini = bytearray()
    mini_fat: list[int] = []
    big: list[_Entry] = []
    for e in entries:
        if e.kind != 2 or not e.data:
            continue
        if len(e.data) < MINI_CUTOFF:
            e.start = len(mini) // MINI_SECTOR
            count = -(-len(e.data) // MINI_SECTOR)
            mini += e.data.ljust(count * MINI_SECTOR, b"\x00")
            mini_fat += [e.start + i + 1 for i in range(count - 1)] + [ENDOFCHAIN]
        else:
            big.append(e)

    sectors: list[bytes] = []
    fat: list[int] = []

    def place(data: bytes, marker: int | None = None) -> int:
        if not data:
            return ENDOFCHAIN
        first = len(sectors)
        count = -(-len(data) // SECTOR)
        for i in range(count):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\x00"))
            fat.append(first + i + 1 if i < count - 1 else ENDOFCHAIN)
        return first

    for e in big:
        e.start = place(e.data)
    root_entry = entries[0]
    root_entry.data = bytes(mini)
    root_entry.start = place(bytes(mini))
    mini_fat_bytes = b"".join(struct.pack("<I", v) for v in mini_fat)
    if mini_fat_bytes:
        mini_fat_bytes += struct.pack("<I", FREESECT) * ((-len(mini_fat)) % (SECTOR // 4))
    first_mini_fat = place(mini_fat_bytes)
    n_mini_fat = -(-len(mini_fat_bytes) // SECTOR)

    directory = bytearray()
    for e in entries:
        name = e.name.encode("utf-16-le") + b"\x00\x00"
        size = len(e.data) if e.kind in (2, 5) else 0
        start = e.start if size else (ENDOFCHAIN if e.kind == 5 else 0)
        directory += (name.ljust(64, b"\x00") + struct.pack("<HBB", len(name), e.kind, int(e.black))
                      + struct.pack("<III", e.left, e.right, e.child) + bytes(16)
                      + struct.pack("<I", 0) + bytes(16) + struct.pack("<IQ", start, size))
    while len(directory) % SECTOR:
        directory += bytes(64) + struct.pack("<HBB", 0, 0, 0) + struct.pack(
            "<III", NOSTREAM, NOSTREAM, NOSTREAM) + bytes(16 + 4 + 16) + struct.pack("<IQ", 0, 0)
    first_dir = place(bytes(directory))

    # the FAT covers every sector, its own included
    n_fat = 1
    while (len(sectors) + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    if n_fat > 109:
        raise ValueError("VBA project too large for a compound file without DIFAT sectors")
    fat_start = len(sectors)
    fat += [FATSECT] * n_fat
    fat += [FREESECT] * (n_fat * (SECTOR // 4) - len(fat))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    for i in range(n_fat):
        sectors.append(fat_bytes[i * SECTOR:(i + 1) * SECTOR])

    difat = [fat_start + i for i in range(n_fat)] + [FREESECT] * (109 - n_fat)
    header = (CFB_SIGNATURE + bytes(16) + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<IIIIIIIII", 0, n_fat, first_dir, 0, MINI_CUTOFF,
                                       first_mini_fat if n_mini_fat else ENDOFCHAIN, n_mini_fat,
                                       ENDOFCHAIN, 0)
              + b"".join(struct.pack("<I", v) for v in difat))
    assert len(header) == SECTOR
    return header + b"".join(sectors)


@dataclass(frozen=True)
class VbaProject:
    """A VBA project as read from ``vbaProject.bin``: its code page, each module's source and
    kind (``module``, ``class``, ``document``, ``designer``), and the names of its references."""

    codepage: int
    sources: dict[str, str]
    kinds: dict[str, str]
    references: tuple[str, ...]
    #: the project's name, whether it is locked (a password, or not viewable), and what it
    #: holds that :func:`project_bin` does not write (its words, e.g. "a help file")
    name: str = "VBAProject"
    locked: bool = False
    unwritten: tuple[str, ...] = ()


def read_project(vba_bin: bytes) -> VbaProject:
    """The modules, kinds and references of the VBA project ``vba_bin`` (MS-OVBA 2.3.4.2: the
    ``dir`` stream; the ``PROJECT`` stream for the kinds)."""
    import olefile

    ole = olefile.OleFileIO(io.BytesIO(vba_bin))
    try:
        d = decompress(ole.openstream("VBA/dir").read())
        i, codepage, name, stream = 0, CODEPAGE, "", ""
        project_name, unwritten = "VBAProject", set()
        sources: dict[str, str] = {}
        references: list[str] = []
        while i + 6 <= len(d):
            ident = int.from_bytes(d[i:i + 2], "little")
            size = 6 if ident == 0x0009 else int.from_bytes(d[i + 2:i + 6], "little")
            payload = d[i + 6:i + 6 + size]
            i += 6 + size
            if ident == 0x0003:
                codepage = int.from_bytes(payload, "little")
            elif ident == 0x0004:
                project_name = payload.decode(f"cp{codepage}", "replace")
            elif ident in _NOT_WRITTEN and (payload.strip(b"\x00") or ident in _FLAGS):
                unwritten.add(_NOT_WRITTEN[ident])
            elif ident == 0x0016:
                ref = payload.decode(f"cp{codepage}", "replace")
                if ref not in references:
                    references.append(ref)
            elif ident == 0x0019:
                name = payload.decode(f"cp{codepage}")
            elif ident == 0x001A:
                stream = payload.decode(f"cp{codepage}")
            elif ident == 0x0031:
                offset = int.from_bytes(payload, "little")
                data = ole.openstream(f"VBA/{stream}").read()
                sources[name] = decompress(data[offset:]).decode(f"cp{codepage}", "replace")
        project = ole.openstream("PROJECT").read().decode(f"cp{codepage}", "replace")
    finally:
        ole.close()
    words = {"module": "module", "class": "class", "document": "document",
             "baseclass": "designer"}
    kinds: dict[str, str] = {}
    for line in project.splitlines():
        word, _, value = line.partition("=")
        if word.strip().lower() in words and value:
            kinds[value.split("/")[0].strip()] = words[word.strip().lower()]
    return VbaProject(codepage, sources, {n: kinds.get(n, "module") for n in sources},
                      tuple(references), project_name, _locked(project), tuple(sorted(unwritten)))


#: dir stream records :func:`project_bin` writes empty or not at all (MS-OVBA 2.3.4.2), when
#: a project has them: a rewrite would lose them. The flags count by being there.
_NOT_WRITTEN = {0x0005: "a project description", 0x0006: "a help file",
                0x0007: "a help context", 0x000C: "conditional compilation constants",
                0x001C: "a module description", 0x001E: "a module help context",
                0x0025: "a read-only module", 0x0028: "a private module"}
_FLAGS = {0x0025, 0x0028}


def _locked(project: str) -> bool:
    """Whether the ``PROJECT`` stream's CMG, DPB and GC say the project is protected, has a
    password or is not viewable (MS-OVBA 2.3.1.15-17); an unreadable value counts as locked."""
    values = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-Fa-f]*)"', project, re.M))
    try:
        state = decrypt(values["CMG"]) if "CMG" in values else bytes(4)
        password = decrypt(values["DPB"]) if "DPB" in values else b"\x00"
        visible = decrypt(values["GC"]) if "GC" in values else b"\xff"
    except (ValueError, struct.error, IndexError):
        return True
    return any(state) or password != b"\x00" or visible != b"\xff"


def with_document_modules(vba_bin: bytes, names: Sequence[str]) -> bytes | None:
    """``vba_bin`` written again with an empty worksheet module for each of ``names`` (the code
    names of sheets added to the workbook), as Excel keeps one per sheet. The source of every
    module is kept; the compiled cache is not (Office recompiles, as for :func:`project_bin`).

    None when the project cannot be written again without loss, and is then to be left as it
    is: it holds a form (a designer's storage), a reference other than those a new project has
    (:data:`REFERENCES`), something else :func:`project_bin` does not write (conditional
    compilation constants, descriptions, help files: :attr:`VbaProject.unwritten`), or it is
    locked."""
    project = read_project(vba_bin)
    ours = {n.casefold() for n, _ in REFERENCES}
    if (project.locked or project.unwritten or "designer" in project.kinds.values()
            or any(r.casefold() not in ours for r in project.references)):
        return None
    modules = [Module(n, src, project.kinds[n]) for n, src in project.sources.items()]
    modules += [document_module(n, WORKSHEET_BASE) for n in names]
    try:
        return project_bin(modules, project.name, project.codepage)
    except ValueError:   # a name or text this writer cannot store
        return None
