"""ryot.core.native: compiled once into the cache, switchable off, and a missing or failing compiler
means the torch path with the reason said — never an error."""

import ryot.core.native as native


def fresh(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("RYOT_CACHE_DIR", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    native.library.cache_clear()


def test_builds_into_the_cache_once_and_loads_from_it(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path)
    assert native.library("adamw8bit") is not None, native.status("adamw8bit")
    built = list((tmp_path / "native").glob("adamw8bit-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    native.library.cache_clear()
    assert native.status("adamw8bit") == "native"
    assert built[0].stat().st_mtime_ns == stamp  # reused, not rebuilt
    # the library and its digest, no temporaries
    assert sorted(p.name for p in (tmp_path / "native").iterdir()) == [
        built[0].name, built[0].name + ".sha256"]
    native.library.cache_clear()


def test_a_damaged_cached_library_is_rebuilt_not_loaded(monkeypatch, tmp_path):
    """dlopen of a truncated library can kill the process (SIGBUS): the digest check comes first."""
    fresh(monkeypatch, tmp_path)
    assert native.library("adamw8bit") is not None
    built = next((tmp_path / "native").glob("adamw8bit-*.so"))
    whole = built.read_bytes()
    native.library.cache_clear()
    built.write_bytes(whole[: len(whole) // 2])
    script = ("import ryot.core.native as n, sys; lib = n.library('adamw8bit'); "
              "sys.exit(0 if lib is not None else 1)")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", script], env={**__import__("os").environ},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1000:]
    sidecar = built.with_name(built.name + ".sha256")
    assert native._intact(built, sidecar) and built.stat().st_size == len(whole)  # rebuilt whole
    native.library.cache_clear()


def test_ryot_native_0_turns_it_off(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path, RYOT_NATIVE="0")
    assert native.library("adamw8bit") is None
    assert native.status("adamw8bit") == "torch fallback (turned off by RYOT_NATIVE=0)"
    native.library.cache_clear()


def test_a_failing_compiler_falls_back_with_the_reason(monkeypatch, tmp_path):
    fresh(monkeypatch, tmp_path, CC="/bin/false")
    assert native.library("adamw8bit") is None
    assert "/bin/false failed on adamw8bit.c" in native.status("adamw8bit")
    assert not list((tmp_path / "native").iterdir())  # nothing half-written stays behind
    native.library.cache_clear()
