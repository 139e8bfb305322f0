"""The child of :func:`ryot.infra.isolation.run_isolated` (``-m ryot.infra.isolated_child FD``).

Reads the pickled ``(fn, args)`` from standard input, runs it, and writes the pickled
``(status, value, peak resident bytes)`` to file descriptor ``FD``.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback

__all__ = ["main"]


def main(fd: int) -> None:
    from ryot.infra.isolation import peak_rss_bytes

    try:
        fn, args = pickle.loads(sys.stdin.buffer.read())
        message = ("ok", fn(*args), peak_rss_bytes())
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        message = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", 0)
    with os.fdopen(fd, "wb") as out:
        out.write(pickle.dumps(message))


if __name__ == "__main__":
    main(int(sys.argv[1]))
