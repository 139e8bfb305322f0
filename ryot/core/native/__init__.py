"""Small C loops compiled on first use and called through ``ctypes``: the fusions eager torch
cannot do on CPU (one pass over memory instead of ~30 tensor operations).

Each loop has a plain torch reference it is tested against (see the C file's header). The shared
library is built with the system C compiler (``cc``; build time: docs/benchmarks.md, "8-bit
optimizer states") into ``$RYOT_CACHE_DIR/native`` (default ``~/.cache/ryot/native``), named by a
hash of the source and flags, written atomically with a sha256 sidecar; later processes load it
after checking that digest (a damaged library would crash ``dlopen``; a mismatch rebuilds it
instead). ``RYOT_NATIVE=0`` turns every loop off (the torch paths run instead); no compiler does
too. :func:`status` says which and why.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from ryot.infra import switches
from ryot.infra.switches import env_flag

__all__ = ["FLAGS", "SOURCES", "cache_dir", "enabled", "library", "status"]

SOURCES = Path(__file__).resolve().parent
FLAGS = ("-O3", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC")
_reasons: dict[str, str] = {}


def cache_dir() -> Path:
    """Where built libraries are kept: ``native/`` in ryot's cache folder."""
    return switches.cache_dir("native")


def enabled() -> bool:
    return env_flag("RYOT_NATIVE", True)


def _build(name: str) -> Path:
    source = SOURCES / f"{name}.c"
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise OSError("no C compiler (cc) on PATH")
    flags = " ".join((compiler, *FLAGS)).encode()
    digest = hashlib.sha256(source.read_bytes() + flags).hexdigest()[:16]
    target = cache_dir() / f"{name}-{digest}.so"
    sidecar = target.with_name(target.name + ".sha256")
    if _intact(target, sidecar):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        proc = subprocess.run([compiler, *FLAGS, "-o", tmp, str(source), "-lm"],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise OSError(f"{compiler} failed on {source.name}: {proc.stderr.strip()[-400:]}")
        os.chmod(tmp, 0o755)
        library_digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        os.replace(tmp, target)  # atomic: a concurrent process sees no half-written library
        with open(tmp, "w", encoding="ascii") as f:
            f.write(library_digest)
        os.replace(tmp, sidecar)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _intact(library: Path, sidecar: Path) -> bool:
    """The cached library exists and still has the digest recorded when it was built."""
    try:
        recorded = sidecar.read_text(encoding="ascii").strip()
        return recorded == hashlib.sha256(library.read_bytes()).hexdigest()
    except OSError:
        return False


@cache
def library(name: str) -> ctypes.CDLL | None:
    """The compiled ``name.c`` (cached per process), or None: disabled or not buildable."""
    if not enabled():
        _reasons[name] = "turned off by RYOT_NATIVE=0"
        return None
    try:
        return ctypes.CDLL(str(_build(name)))
    except (OSError, subprocess.SubprocessError) as exc:
        _reasons[name] = f"{type(exc).__name__}: {exc}"
        return None


def status(name: str) -> str:
    """"native" when the loop is in use, else why the torch path runs instead."""
    if library(name) is not None:
        return "native"
    return f"torch fallback ({_reasons.get(name, 'unknown')})"
