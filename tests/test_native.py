"""ryot.native: compiled once into the cache, switchable off, and a missing or failing compiler
means the torch path with the reason said — never an error."""

import ryot.native as native


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
    assert not [p for p in (tmp_path / "native").iterdir() if p.suffix != ".so"]  # no temporaries left
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
