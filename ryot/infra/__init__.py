"""Infrastructure: what every layer may use, and which uses no other layer.

| module | one job |
|---|---|
| ``errors.py`` | ``RyotError``, the one base of every error a user can cause (exit code 2) |
| ``jsonio.py`` | the one strict-JSON reader and the one sha256 seal |
| ``atomic.py`` | atomic file writes (temp + rename, umask respected) |
| ``schemas.py`` | the JSON Schemas and errors that point at a JSON pointer |
| ``switches.py`` | environment switches read one way; the cache folder |
| ``machine.py``, ``provenance.py`` | what machine this is; where a result came from |
| ``isolation.py`` | fresh processes for memory figures |
| ``interrupts.py`` | SIGTERM handled like Ctrl-C (exit 143) for `ryot train` and `ryot accept` |
| ``version.py``, ``moved.py`` | ryot's version; old import paths, forwarded with a warning |
"""

__all__: list[str] = []
