"""How much memory this machine has, and how much of it a run may plan to use.

A run that would need more than :func:`memory_budget` is refused before it allocates anything
(see :func:`xl_aiindex.uncertainty.check_run_size`), with a message naming the largest size
that fits, instead of failing minutes later with ``MemoryError`` or the operating system's
out-of-memory killer.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from .i18n import _

#: The budget when the machine's memory cannot be found out.
FALLBACK_BUDGET = 2 * 2**30
#: The share of the machine's memory a run may plan to use: the rest is for the operating
#: system, Excel and what the estimate leaves out.
BUDGET_SHARE = 0.5
#: Linux cgroup v2 memory limit of this process's container (``max`` when unlimited).
_CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")


def machine_memory() -> int | None:
    """Bytes of physical memory this process may use: the machine's RAM, or its container's
    limit when that is lower; None when the operating system does not say."""
    total = _windows_memory() if sys.platform == "win32" else _posix_memory()
    limit = _cgroup_limit()
    if limit is not None and (total is None or limit < total):
        total = limit
    return total


def memory_budget() -> tuple[int, str]:
    """The bytes a run may plan to use and how that figure was set, for messages:
    half of :func:`machine_memory` (``"half of this machine's 16.0 GiB"``), or 2 GiB when the
    machine's memory is unknown."""
    total = machine_memory()
    if total is None:
        return FALLBACK_BUDGET, _("the default, as this machine's memory is unknown")
    return int(total * BUDGET_SHARE), _("half of this machine's {memory}").format(
        memory=gib(total))


def gib(n_bytes: float) -> str:
    """``n_bytes`` in GiB for people (``'1.5 GiB'``, ``'12,288 GiB'``).

    >>> gib(3 * 2**29), gib(12288 * 2**30)
    ('1.5 GiB', '12,288 GiB')
    """
    value = n_bytes / 2**30
    return f"{value:,.1f} GiB" if value < 100 else f"{value:,.0f} GiB"


def _posix_memory() -> int | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def _windows_memory() -> int | None:  # pragma: no cover - exercised on Windows only
    class MemoryStatus(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong),
                    ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong),
                    ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("sullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    try:
        ok = ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None
    return int(status.ullTotalPhys) if ok else None


def _cgroup_limit() -> int | None:
    try:
        text = _CGROUP_LIMIT.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
