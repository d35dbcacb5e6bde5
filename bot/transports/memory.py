"""Start-up leaves garbage behind (imports, model loading, migrations): give it back."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)


def pause_collection() -> None:
    """Pause the cyclic collector for the start: imports and the model build about a million
    objects that all stay, and the collector would walk the growing heap again and again (a
    sixth of the start). `settle_after_start` collects once and resumes it."""
    gc.disable()


def resume_collection() -> None:
    """Collect garbage again: the start is over without settling, or waiting (for the Bot
    API) rather than hurrying."""
    gc.enable()


def settle_after_start() -> None:
    """Collect once, keep what start-up built out of later collections (`gc.freeze`: fewer
    objects for every collection to walk), resume the collector (`pause_collection`), and
    return freed heap pages to the system (glibc keeps them otherwise: `malloc_trim`)."""
    gc.collect()
    gc.freeze()
    gc.enable()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
