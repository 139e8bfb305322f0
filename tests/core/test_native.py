"""ryot.core.native: built once per process in a private folder and loaded from there (never from
the cache folder, whatever digest lies beside a library there), switchable off, and a missing or
failing compiler means the torch path with the reason said — never an error."""

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile

import pytest
import torch

import ryot.core.native as native
import ryot.core.optim.adamw8bit_flat as flat
from tests.core.optim.test_adamw8bit_flat import _flat_training

PLANTED = r"""
#include <stdio.h>
static void mark(const char *why) {
    FILE *f = fopen(MARKER, "a");
    if (f) { fputs(why, f); fclose(f); }
}
__attribute__((constructor)) static void planted(void) { mark("constructor ran\n"); }
int ryot_adamw8bit_step(void) { mark("planted step ran\n"); return 0; }
"""


def compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


needs_cc = pytest.mark.skipif(compiler() is None, reason="no C compiler (cc, gcc or $CC) on PATH: "
                              "neither the native loop nor a planted library can be built")


def fresh(monkeypatch, tmp_path, **env):
    """Cache and temporary folders of the test's own; ``library`` forgets what it loaded."""
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path / "cache"))
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    native.library.cache_clear()
    return scratch


def plant(path, marker, mode_dir=None, mode_file=None):
    """A library whose constructor appends to ``marker``, with its true sha256 beside it (the
    sidecar ryot before this change checked), at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    source = path.parent / "planted.c"
    source.write_text(PLANTED)
    subprocess.run([compiler(), "-shared", "-fPIC", f'-DMARKER="{marker}"', "-o", str(path),
                    str(source)], check=True, capture_output=True, timeout=120)
    source.unlink()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(digest)
    if mode_file is not None:
        for p in path.parent.iterdir():
            p.chmod(mode_file)
    if mode_dir is not None:
        path.parent.chmod(mode_dir)


def old_cache_name(name: str) -> str:
    """Where ryot before this change looked: ``NAME-<hash of source and flags>.so``."""
    flags = " ".join((compiler(), *native.FLAGS)).encode()
    digest = hashlib.sha256((native.SOURCES / f"{name}.c").read_bytes() + flags).hexdigest()[:16]
    return f"{name}-{digest}.so"


@needs_cc
def test_builds_in_a_private_folder_that_is_gone_after_loading(monkeypatch, tmp_path):
    scratch = fresh(monkeypatch, tmp_path)
    seen = []
    real_run = subprocess.run

    def run(cmd, **kwargs):
        folder = os.path.dirname(cmd[cmd.index("-o") + 1])
        info = os.stat(folder)
        seen.append((os.path.dirname(folder), stat.S_IMODE(info.st_mode), info.st_uid))
        return real_run(cmd, **kwargs)

    monkeypatch.setattr(native.subprocess, "run", run)
    assert native.library("adamw8bit") is not None, native.status("adamw8bit")
    assert seen == [(str(scratch), 0o700, os.geteuid())]
    assert not list(scratch.iterdir())  # removed once loaded
    assert not (tmp_path / "cache").exists()  # the cache folder is neither read nor written
    native.library.cache_clear()


@needs_cc
@pytest.mark.parametrize("where", ["old cache entry", "old cache entry, owner-only modes",
                                   "temporary folder"])
def test_a_planted_library_with_a_matching_digest_is_never_loaded(monkeypatch, tmp_path, where):
    """Item 12: a library planted where ryot looked for its cached build (with a sha256 beside it
    that matches, in a folder with ordinary or owner-only modes, as a restored CI cache would have)
    or in the temporary folder is not loaded: its constructor never runs, and the optimizer steps
    with the real loop, with the same results as a clean build and as the torch reference."""
    scratch = fresh(monkeypatch, tmp_path)
    marker = tmp_path / "marker"
    name = old_cache_name("adamw8bit")
    if where == "temporary folder":
        for path in (scratch / name, scratch / "adamw8bit.so",
                     scratch / "ryot-native-adamw8bit-" / "adamw8bit.so"):
            plant(path, marker)
    else:
        owner_only = where.endswith("modes")
        plant(native.cache_dir() / name, marker, 0o700 if owner_only else None,
              0o600 if owner_only else None)
    assert native.library("adamw8bit") is not None, native.status("adamw8bit")

    def no_torch_path(*args, **kwargs):
        raise AssertionError("the native run fell back to the torch path")

    reference, _, ref_errors = _flat_training("0", monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(flat, "_step_torch", no_torch_path)
        model, _, errors = _flat_training("1", monkeypatch)
        monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path / "clean"))
        clean, _, clean_errors = _flat_training("1", monkeypatch)
    assert not marker.exists(), marker.read_text()
    for a, b, c in zip(reference.parameters(), model.parameters(), clean.parameters(), strict=True):
        assert torch.equal(b, c)  # the same library as a clean build: bit for bit
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert errors == clean_errors and errors == pytest.approx(ref_errors, rel=1e-5)
    native.library.cache_clear()


@needs_cc
@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_a_temporary_folder_others_could_swap_the_build_in_is_refused(monkeypatch, tmp_path, mode):
    scratch = fresh(monkeypatch, tmp_path)
    scratch.chmod(mode)
    assert native.library("adamw8bit") is None
    assert "writable by others without the sticky bit" in native.status("adamw8bit")
    native.library.cache_clear()
    scratch.chmod(mode | stat.S_ISVTX)  # like /tmp: others cannot rename our folder away
    assert native.status("adamw8bit").startswith("native (")
    assert not list(scratch.iterdir())
    native.library.cache_clear()


def test_ryot_native_0_turns_it_off(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path, RYOT_NATIVE="0")
    assert native.library("adamw8bit") is None
    assert native.status("adamw8bit") == "torch fallback (turned off by RYOT_NATIVE=0)"
    native.library.cache_clear()


def test_a_failing_compiler_falls_back_with_the_reason(monkeypatch, tmp_path):
    scratch = fresh(monkeypatch, tmp_path, CC="/bin/false")
    assert native.library("adamw8bit") is None
    assert "/bin/false failed on adamw8bit.c" in native.status("adamw8bit")
    assert not list(scratch.iterdir())  # nothing half-written stays behind
    assert not (tmp_path / "cache").exists()
    native.library.cache_clear()
