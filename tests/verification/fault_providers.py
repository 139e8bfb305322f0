"""Misbehaving providers and workload factories for the fault-injection tests."""

import sys
import threading
from pathlib import Path

RELEASE = threading.Event()  # what a hung provider waits for; tests set it when done


def values(n, params):
    """A well-behaved provider: ``value`` repeated (scalar samples)."""
    return [float(params.get("value", 4.0)) + 0.001 * (i % 3) for i in range(n)]


def marker(n, params):
    """Leaves ``params["marker"]`` behind, to show that it ran."""
    Path(params["marker"]).write_text("the provider ran")
    return values(n, params)


def exits(n, params):
    sys.exit(params.get("code", 0))


class Abort(BaseException):  # noqa: N818 - a BaseException that is neither exit nor Ctrl-C
    pass


def aborts(n, params):
    raise Abort("abandoning the measurement")


def interrupts(n, params):
    raise KeyboardInterrupt


def hangs(n, params):
    RELEASE.wait()
    return values(n, params)


def noisy(n, params):
    print(f"NOISE-OUT from a chatty provider, {n} samples")
    print("NOISE-ERR progress 50%", file=sys.stderr)
    return values(n, params)


def failing_factory():
    raise RuntimeError("no model checkpoint here")


def exiting_factory():
    sys.exit(4)
