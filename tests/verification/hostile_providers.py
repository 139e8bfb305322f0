"""Providers that attack the engine from the worker process (issue #20, items 1-8 and 10).

Each takes ``params["log"]`` (a file path) where it may write what it saw, so a test can check
what reached the worker.
"""

import concurrent.futures
import ctypes
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

from ryot.measure.samples import Samples


def _values(n):
    return [2.0 + 0.01 * random.random() for _ in range(n)]


def _log(params, text):
    if params.get("log"):
        with open(params["log"], "a", encoding="utf-8") as handle:
            handle.write(text + "\n")


def hard_exit(n, params):
    os._exit(params.get("code", 0))


def c_exit(n, params):
    ctypes.CDLL(None).exit(0)  # C code ending the process: no Python cleanup at all


def sigkill(n, params):
    os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does


def reads_secrets(n, params):
    _log(params, "env=" + os.environ.get("RYOT_SEAL_KEY", "<unset>"))
    with open("/proc/self/environ", "rb") as handle:
        _log(params, "proc=" + str(b"RYOT_SEAL_KEY" in handle.read()))
    return _values(n)


def chdirs(n, params):
    os.chdir(params["to"])
    return _values(n)


def regex_holds_gil(n, params):
    re.match(r"(a+)+$", "a" * 40 + "b")  # catastrophic backtracking in C, the GIL held
    return _values(n)


def leaves_threads(n, params):
    threading.Thread(target=time.sleep, args=(60,), daemon=False).start()
    concurrent.futures.ThreadPoolExecutor(1).submit(time.sleep, 60)
    return _values(n)


def prints_late(n, params):
    def chatter():
        for _ in range(100):
            print("LATE-LINE", flush=True)
            time.sleep(0.02)
    threading.Thread(target=chatter, daemon=True).start()
    return _values(n)


def hangs_printing(n, params):
    threading.Thread(target=lambda: [print("HUNG-LINE", flush=True) or time.sleep(0.02)
                                     for _ in range(10**6)], daemon=True).start()
    time.sleep(60)


def quiet(n, params):
    time.sleep(params.get("sleep", 0.0))
    return _values(n)


def forks_helper(n, params):
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    _log(params, f"helper={helper.pid}")
    return _values(n)


def too_many(n, params):
    return [2.0] * 200_000


def bad_warmup(n, params):
    return Samples("scalar", values=_values(n), warmup_reached="no")


def nan_details(n, params):
    return Samples("scalar", values=_values(n), details={"loss": float("nan")})


def object_details(n, params):
    return Samples("scalar", values=_values(n), details={"model": object()})


def surrogate(n, params):
    print("lone \udcff surrogate")
    return _values(n)


def closes_stdout(n, params):
    os.close(1)
    os.close(2)
    return _values(n)


def chatty(n, params):
    print("CHATTY-OUT", params.get("_offset"))
    os.system("echo FROM-A-SUBPROCESS")  # fd level: captured as well
    return _values(n)


def counts_builds(n, params):
    return float(params["_workload"]["builds"])


def workload_factory():
    path = os.environ.get("RYOT_TEST_BUILD_LOG")
    if path:
        with open(path, "a") as handle:
            handle.write("built\n")
    return {"builds": 1 + (sum(1 for _ in open(path)) - 1 if path else 0)}


def _answer_pipe():
    """The worker's answer pipe, found the way hostile code would: its command line."""
    return int(sys.argv[2])


def _forged_pass(n):
    import json

    from ryot.measure.samples import coerce
    from ryot.verification.wire import to_wire

    return (json.dumps({"status": "ok", "samples": to_wire(coerce([2.0] * n, None))})
            + "\n").encode()


def forges_now(n, params):
    """Writes a forged PASS answer on ryot's pipe, then returns its real (failing) values."""
    os.write(_answer_pipe(), _forged_pass(n))
    return [0.5] * n


def forges_for_the_next(n, params):
    """Leaves a thread that waits for the next request and answers it first, with a PASS."""
    def forge():
        time.sleep(0.3)
        os.write(_answer_pipe(), _forged_pass(64))
    threading.Thread(target=forge, daemon=True).start()
    return _values(n)


def steals_requests(n, params):
    """Leaves a thread that reads ryot's request pipe, so the worker never sees the next one."""
    _log(params, f"worker={os.getpid()}")
    threading.Thread(target=os.read, args=(int(sys.argv[1]), 1 << 16), daemon=True).start()
    return _values(n)


def low_level_thread(n, params):
    """A thread that the threading module does not know about."""
    import _thread

    _thread.start_new_thread(lambda: time.sleep(60), ())
    return _values(n)


def sleeps_logging_pid(n, params):
    _log(params, f"worker={os.getpid()}")
    time.sleep(60)
