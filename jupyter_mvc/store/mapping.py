"""A stream as one contiguous, lazily paged buffer: each full chunk file is mapped
copy-on-write at its place inside one reserved region, so nothing is read until a page
is touched and the kernel may drop clean pages again (a model larger than memory stays
usable). Writes go to private copies, never to the store.

Only on Linux/glibc-like systems, where `mmap(MAP_FIXED)` can place a file mapping inside
a region Python's `mmap` owns (and later unmaps whole); elsewhere `available()` is False
and callers read the stream instead.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
from collections.abc import Callable
from pathlib import Path

from .packfiles import open_regular

_MAP_FIXED = 0x10  # Linux
_PAGE = mmap.PAGESIZE


def _libc_mmap() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.mmap
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    return fn


_mmap_call = _libc_mmap()


def available(chunk_size: int) -> bool:
    """Whether streams of this chunk size can be mapped here (chunks must start on pages)."""
    return _mmap_call is not None and chunk_size % _PAGE == 0


def aligned(offset: int) -> bool:
    """Whether a chunk at this offset of its file can be mapped (offsets must be on a page)."""
    return offset % _PAGE == 0


def map_chunks(
    size: int, chunk_size: int, parts: list[tuple[Path, int] | None], fill: Callable[[int, memoryview], None]
) -> mmap.mmap:
    """A private region of `size` bytes: part i (bytes i*chunk_size onwards) is the file
    and offset `parts[i]` (a loose chunk file at 0, or a page-aligned place in a pack)
    mapped copy-on-write, or, where that is None, filled now by `fill(i, view)` (a chunk
    kept as a delta must be rebuilt). The region lives as long as the returned mmap and
    whatever views it (numpy arrays, tensors)."""
    if _mmap_call is None:
        raise OSError("mapping chunk files in place needs Linux")
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    anchor = ctypes.c_char.from_buffer(region)
    try:
        base = ctypes.addressof(anchor)
    finally:
        del anchor  # no exported pointer may outlive this, or the region cannot close
    view = memoryview(region)
    opened: dict[Path, tuple[int, int]] = {}  # file -> (descriptor, size): a pack is opened once
    try:
        for i, part in enumerate(parts):
            start = i * chunk_size
            length = min(chunk_size, size - start)
            if part is None:
                fill(i, view[start : start + length])
                continue
            path, offset = part
            if path not in opened:
                fd = open_regular(path)
                opened[path] = fd, os.fstat(fd).st_size
            fd, found = opened[path]
            if found < offset + length:  # a loose file's exact size was checked with the stream
                raise OSError(f"{path} is {found} bytes, too short for {length} at {offset}")
            got = _mmap_call(
                base + start, length, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | _MAP_FIXED, fd, offset
            )
            if got != base + start:
                err = ctypes.get_errno()
                raise OSError(err, f"mapping {path}: {os.strerror(err)}")
    except BaseException:
        view.release()
        region.close()
        raise
    finally:
        for fd, _size in opened.values():
            os.close(fd)
    view.release()
    return region
