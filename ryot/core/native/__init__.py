"""Small C loops compiled on first use and called through ``ctypes``: the fusions eager torch
cannot do on CPU (one pass over memory instead of ~30 tensor operations).

Each loop has a plain torch reference it is tested against (see the C file's header). The shared
library is built with the system C compiler (``$CC``, else ``cc``) once per process, into a
private folder of its own, loaded from there and deleted at once (the loaded mapping stays valid);
nothing is read from or written to ryot's cache folder. ``RYOT_NATIVE=0`` turns every loop off
(the torch paths run instead); no compiler does too. :func:`status` says which and why.

Inside a loop, the vector instructions are chosen at run time from what the CPU says it has
(AVX-512 VBMI — byte permutes, AdamW8bit's table lookups without gathers —, else AVX-512, else
AVX2, else portable C: :func:`isa`); ``RYOT_NATIVE_ISA=avx512``, ``avx2`` or ``portable`` asks
for a lower one (for comparisons and tests; a request the CPU cannot meet runs the next one down;
a loop without a VBMI variant runs its AVX-512 one).
Every ISA does the same float32 operations, so all give the same bits.

Why no cache of built libraries: loading a library runs its code (its constructors run inside
``dlopen``), so whatever folder it is loaded from must be writable by nobody but us from the
build to the load. ``$RYOT_CACHE_DIR`` is not such a folder: a CI cache restored for every branch,
a cache shared by a team, a copied home directory. A digest beside the library certifies only
itself (whoever plants a library can write its ``.sha256`` too), and checking ownership and modes
the way ssh does would not help the CI case either: a restored cache belongs to the user reading
it. Anchoring the digest outside the cache (an HMAC under a per-user key) needs a key store that
such caches do not copy, and recompiling to verify costs the very build a cache would save. The
build is cheap (~0.2 s: docs/reliability.md, the native libraries section, has the figure and the
command), so every process builds its own:

* :func:`tempfile.mkdtemp` makes a folder with a fresh random name, mode 0700, owned by us, in the
  temporary folder (``$TMPDIR``, else ``/tmp``); only we (and root) can put a file into it;
* that temporary folder must not let others rename our folder away and put theirs in its place:
  it is refused (torch fallback, the reason in :func:`status`) when it is writable by group or
  others without the sticky bit (``/tmp`` has it);
* the compiler writes the library there, ``ctypes`` loads it by that path, and the folder is
  removed whatever happened.

Out of scope: anyone who can act as this user or as root (they can edit ryot itself), and the
compiler named by ``$CC`` / found on ``$PATH`` (the environment is the user's).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from ryot.infra import switches
from ryot.infra.switches import env_choice, env_flag

__all__ = ["FLAGS", "ISAS", "OPENMP", "SOURCES", "cache_dir", "enabled", "isa", "isa_request",
           "library", "status"]

SOURCES = Path(__file__).resolve().parent
FLAGS = ("-O3", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC", "-pthread")
OPENMP = ("-fopenmp",)  # links libgomp.so.1: the one torch has loaded already, where it has one
ISAS = ("auto", "portable", "avx2", "avx512", "avx512vbmi")  # the C loops' codes: their index
_reasons: dict[str, str] = {}


def cache_dir() -> Path:
    """``native/`` in ryot's cache folder: where ryot before this change cached built libraries
    (as ``NAME-<hash>.so`` with a ``.sha256`` beside it). Nothing there is loaded any more (see the
    module docstring); the folder can be deleted."""
    return switches.cache_dir("native")


def enabled() -> bool:
    return env_flag("RYOT_NATIVE", True)


def _private_folder(name: str) -> str:
    """A new folder only this user can write, in a temporary folder others cannot swap it in."""
    parent = tempfile.gettempdir()
    mode = os.stat(parent).st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        raise OSError(f"the temporary folder {parent} is writable by others without the sticky "
                      "bit: a library built there could be swapped before it is loaded")
    folder = tempfile.mkdtemp(prefix=f"ryot-native-{name}-", dir=parent)
    info = os.lstat(folder)
    if (not stat.S_ISDIR(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077
            or (hasattr(os, "geteuid") and info.st_uid != os.geteuid())):
        shutil.rmtree(folder, ignore_errors=True)
        raise OSError(f"{folder} is not a private folder (mode {oct(info.st_mode)})")
    return folder


def _build_and_load(name: str) -> ctypes.CDLL:
    source = SOURCES / f"{name}.c"
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise OSError("no C compiler (cc) on PATH")
    folder = _private_folder(name)
    try:
        target = os.path.join(folder, f"{name}.so")
        for extra in (OPENMP, ()):  # OpenMP where the compiler has it, else POSIX threads
            proc = subprocess.run([compiler, *FLAGS, *extra, "-o", target, str(source), "-lm"],
                                  capture_output=True, text=True, timeout=120)
            if proc.returncode == 0:
                break
        if proc.returncode != 0:
            raise OSError(f"{compiler} failed on {source.name}: {proc.stderr.strip()[-400:]}")
        return ctypes.CDLL(target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # a loaded library needs no file on disk


@cache
def library(name: str) -> ctypes.CDLL | None:
    """The compiled ``name.c`` (built once per process), or None: disabled or not buildable."""
    if not enabled():
        _reasons[name] = "turned off by RYOT_NATIVE=0"
        return None
    try:
        return _build_and_load(name)
    except (OSError, subprocess.SubprocessError) as exc:
        _reasons[name] = f"{type(exc).__name__}: {exc}"
        return None


def isa_request() -> int:
    """``RYOT_NATIVE_ISA`` as the code the C loops take (0: the best the CPU has)."""
    return ISAS.index(env_choice("RYOT_NATIVE_ISA", ISAS, "auto"))


def isa(name: str) -> str | None:
    """The instruction set loop ``name`` runs with now (one of :data:`ISAS` but ``auto``), or
    None when the loop is not in use."""
    lib = library(name)
    if lib is None:
        return None
    choose = getattr(lib, f"ryot_{name}_isa")
    choose.argtypes, choose.restype = [ctypes.c_int], ctypes.c_int
    return ISAS[choose(isa_request())]


def status(name: str) -> str:
    """"native" when the loop is in use, else why the torch path runs instead."""
    if library(name) is not None:
        return f"native ({isa(name)})"
    return f"torch fallback ({_reasons.get(name, 'unknown')})"
