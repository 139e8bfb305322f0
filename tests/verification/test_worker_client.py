"""Providers in a worker process (issue #20): none can change a verdict, lose a run or reach
the seal. One test per numbered item; each asserts the exit code, the message, and that nothing
was lost, executed or forged. The providers are in hostile_providers.py."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

import ryot
from ryot.cli import main
from ryot.infra.schemas import validator
from ryot.verification.verify import verify_report

from .helpers import criterion, document, write

HP = "tests.verification.hostile_providers"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def user(cid, provider, timeout=20.0, **params):
    return criterion(id=cid, metric=f"user.{cid}", provider=f"{HP}:{provider}", params=params,
                     min_samples=6, max_samples=6, max_seconds=5, timeout_seconds=timeout)


def fails():
    return criterion(id="fails", metric="synthetic.exact", params={"value": 0.5})


def passes(cid="passes"):
    return criterion(id=cid, metric="synthetic.exact", params={"value": 2.0})


def accept(tmp_path, doc, out="out"):
    path = write(tmp_path / f"criteria-{uuid.uuid4().hex[:6]}.json", doc)
    return main(["accept", "--criteria", str(path), "--out", str(tmp_path / out)])


def report_of(tmp_path, out="out"):
    report = json.loads((tmp_path / out / "report.json").read_text())
    assert validator("report").is_valid(report) and verify_report(report) == []
    return report


def running(pid):
    """True while ``pid`` exists and is not a zombie (one nobody reaped yet counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def by_id(report):
    return {r["id"]: r for r in report["results"]}


# -- 1: a provider that ends the process after a FAIL --------------------------------------------
@pytest.mark.parametrize("provider, fragment", [
    ("hard_exit", "exited with status 0 (os._exit, or C code calling exit)"),
    ("c_exit", "exited with status 0"),
    ("sigkill", "was killed by SIGKILL (the kernel's OOM killer sends SIGKILL)"),
])
def test_1_a_provider_ending_its_process_is_an_error_and_the_fail_still_counts(
        tmp_path, provider, fragment):
    assert accept(tmp_path, document(fails(), user("ends", provider), passes())) == 1
    results = by_id(report_of(tmp_path))
    assert results["fails"]["status"] == "FAIL" and results["passes"]["status"] == "PASS"
    assert results["ends"]["status"] == "ERROR" and fragment in results["ends"]["reason"]


# -- 2: the seal key never reaches user code -----------------------------------------------------
def test_2_a_provider_cannot_read_the_seal_key(tmp_path, monkeypatch):
    log = tmp_path / "seen.txt"
    monkeypatch.setenv("RYOT_SEAL_KEY", "s3cret-key")
    assert accept(tmp_path, document(user("snoops", "reads_secrets", log=str(log)))) == 0
    seen = log.read_text()
    assert "s3cret" not in seen and "env=<unset>" in seen and "proc=False" in seen
    (tmp_path / "key").write_text("s3cret-key")
    assert main(["verify", str(tmp_path / "out" / "report.json"),
                 "--key-file", str(tmp_path / "key")]) == 0


# -- 3: a provider that changes directory --------------------------------------------------------
def test_3_chdir_in_a_provider_moves_nothing(tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "c.json", document(user("moves", "chdirs", to=str(elsewhere)),
                                               passes()))
    assert main(["accept", "--criteria", str(path), "--out", "rel-out"]) == 0
    assert (tmp_path / "rel-out" / "report.json").is_file()
    assert list(elsewhere.iterdir()) == [] and os.getcwd() == str(tmp_path)
    assert str(tmp_path / "rel-out" / "report.json") in capsys.readouterr().out


# -- 4: imports, GIL-holding code and left-behind threads are bounded ----------------------------
def test_4_an_import_that_blocks_counts_against_the_limit(tmp_path, monkeypatch, capsys):
    (tmp_path / "slow_import.py").write_text("import time\ntime.sleep(30)\n"
                                             "def p(n, params):\n    return [2.0] * n\n")
    monkeypatch.chdir(tmp_path)
    doc = document(criterion(id="slow", metric="user.slow", provider="slow_import:p",
                             timeout_seconds=1.0))
    started = time.monotonic()
    assert accept(tmp_path, doc) == 2
    assert time.monotonic() - started < 15
    err = capsys.readouterr().err
    assert "/criteria/0/provider" in err and "did not finish within 1 s" in err
    assert not (tmp_path / "out" / "report.json").exists()


def test_4_a_regex_holding_the_gil_is_killed_at_the_limit(tmp_path):
    started = time.monotonic()
    assert accept(tmp_path, document(user("regex", "regex_holds_gil", timeout=1.0),
                                     passes())) == 3
    assert time.monotonic() - started < 20
    results = by_id(report_of(tmp_path))
    assert results["regex"]["reason"].startswith("timed out after 1 s")
    assert "regex_holds_gil" in results["regex"]["error_traceback"]  # the worker's stack
    assert results["passes"]["status"] == "PASS"


def test_4_threads_left_behind_do_not_hold_the_exit(tmp_path):
    path = write(tmp_path / "c.json", document(user("threads", "leaves_threads"), passes()))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ryot.cli", "accept", "--criteria", str(path),
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 45  # the threads sleep 60 s
    assert {r["id"]: r["status"] for r in report_of(tmp_path)["results"]} == {
        "threads": "PASS", "passes": "PASS"}


# -- 5: output belongs to the criterion whose code printed it ------------------------------------
@pytest.mark.parametrize("first", ["prints_late", "hangs_printing"])
def test_5_late_output_never_reaches_the_next_criterion(tmp_path, first):
    doc = document(user("first", first, timeout=2.0), user("second", "chatty"),
                   user("third", "quiet", sleep=1.0))
    accept(tmp_path, doc)
    outputs = report_of(tmp_path).get("provider_output", {})
    assert "LINE" not in outputs.get("second", "") + outputs.get("third", "")
    assert "CHATTY-OUT" in outputs["second"]
    if first == "prints_late":  # its thread ended with its worker, and the evidence says why
        assert "left Python threads running (Thread-1 (chatter))" in outputs["first"]


def test_5_output_is_captured_at_the_file_descriptor(tmp_path):
    assert accept(tmp_path, document(user("chatty", "chatty"))) == 0
    output = report_of(tmp_path)["provider_output"]["chatty"]
    assert "CHATTY-OUT 0" in output and "FROM-A-SUBPROCESS" in output


# -- 6: helpers left running -----------------------------------------------------------------------
def test_6_a_helper_left_running_neither_holds_the_lock_nor_survives(tmp_path):
    log = tmp_path / "helper.txt"
    assert accept(tmp_path, document(user("forks", "forks_helper", log=str(log)))) == 0
    pid = int(log.read_text().split("=")[1])
    assert not running(pid)  # killed with the worker's session
    assert accept(tmp_path, document(passes())) == 0  # the folder is not "in use"


# -- 7: what a provider returns or prints is checked when it arrives -----------------------------
@pytest.mark.parametrize("provider, fragment", [
    ("nan_details", "details/loss is nan"),
    ("object_details", "details/model is a object, which JSON cannot carry"),
    ("bad_warmup", "warmup_reached must be true or false"),
])
def test_7_unrecordable_samples_are_an_error_and_the_run_goes_on(tmp_path, provider, fragment):
    assert accept(tmp_path, document(user("bad", provider), passes())) == 3
    results = by_id(report_of(tmp_path))
    assert results["bad"]["status"] == "ERROR" and fragment in results["bad"]["reason"]
    assert results["passes"]["status"] == "PASS"


@pytest.mark.parametrize("provider", ["surrogate", "closes_stdout"])
def test_7_what_a_provider_does_to_its_streams_loses_nothing(tmp_path, provider):
    assert accept(tmp_path, document(user("streams", provider), user("after", "chatty"))) == 0
    report = report_of(tmp_path)
    assert "CHATTY-OUT" in report["provider_output"]["after"]
    if provider == "surrogate":
        assert "lone \\udcff surrogate" in report["provider_output"]["streams"]


# -- 8: the engine decides on what it asked for ----------------------------------------------------
def test_8_more_samples_than_asked_is_an_error_naming_the_count(tmp_path):
    assert accept(tmp_path, document(user("flood", "too_many"), passes())) == 3
    flood = by_id(report_of(tmp_path))["flood"]
    assert flood["status"] == "ERROR" and "returned 200000 samples when 6 were asked for" in \
        flood["reason"]
    assert flood["samples"] is None


# -- 10: ryot.evaluate leaves the host as it found it --------------------------------------------
def test_10_evaluate_from_two_threads_leaves_the_host_untouched(tmp_path, capfd):
    stdout, cwd, path = sys.stdout, os.getcwd(), list(sys.path)
    doc = document(user("chatty", "chatty"), passes())
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(ryot.evaluate(doc)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("HOST-PRINT")
    assert sys.stdout is stdout and os.getcwd() == cwd and HP not in sys.modules
    assert sys.path == path
    assert "HOST-PRINT" in capfd.readouterr().out
    assert [by_id(r)["chatty"]["status"] for r in reports] == ["PASS", "PASS"]


def test_10_an_edited_provider_is_imported_afresh(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "edited_provider.py"
    doc = document(criterion(id="v", metric="user.v", provider="edited_provider:p"))
    values = []
    for value in (2.0, 5.0):
        module.write_text(f"def p(n, params):\n    return {value}\n")
        values.append(by_id(ryot.evaluate(doc))["v"]["statistics"]["estimate"])
    assert values == [2.0, 5.0]


# -- the workload lives in the worker, once per worker --------------------------------------------
def test_the_workload_is_built_once_and_again_only_after_the_worker_died(tmp_path, monkeypatch):
    log = tmp_path / "builds.txt"
    monkeypatch.setenv("RYOT_TEST_BUILD_LOG", str(log))
    doc = document(user("one", "counts_builds"), user("two", "counts_builds"),
                   user("dies", "hard_exit"), user("three", "counts_builds"),
                   workload=f"{HP}:workload_factory")
    report = ryot.evaluate(doc)
    estimates = {r["id"]: (r["statistics"] or {}).get("estimate") for r in report["results"]}
    assert estimates == {"one": 1.0, "two": 1.0, "dies": None, "three": 2.0}
    assert log.read_text().count("built") == 2


# -- 11: only the worker's own answers are read (red-team findings on #20) ------------------------
def test_11_a_forged_answer_on_ryots_pipe_is_refused_and_shifts_nothing(tmp_path):
    assert accept(tmp_path, document(user("forger", "forges_now"), fails(), passes())) == 1
    results = by_id(report_of(tmp_path))
    assert results["forger"]["status"] == "ERROR"
    assert "provider code writing to ryot's pipe" in results["forger"]["reason"]
    assert "twice" in results["forger"]["reason"]  # tried again in a fresh worker first
    assert results["fails"]["status"] == "FAIL" and results["passes"]["status"] == "PASS"


def test_11_a_thread_left_to_answer_for_the_next_criterion_ends_with_its_worker(tmp_path):
    assert accept(tmp_path, document(user("forger", "forges_for_the_next"), fails())) == 1
    report = report_of(tmp_path)
    results = by_id(report)
    assert results["forger"]["status"] == "PASS" and results["fails"]["status"] == "FAIL"
    assert "left Python threads running" in report["provider_output"]["forger"]


def test_11_a_thread_left_reading_requests_does_not_stall_the_next_criterion(tmp_path):
    log = tmp_path / "worker.txt"
    started = time.monotonic()
    assert accept(tmp_path, document(user("thief", "steals_requests", log=str(log)),
                                     user("next", "quiet"))) == 0
    assert time.monotonic() - started < 15  # "next" would otherwise wait out its 20 s limit
    assert not running(int(log.read_text().split("=")[1]))


def test_11_threads_unknown_to_the_threading_module_are_seen_too(tmp_path):
    assert accept(tmp_path, document(user("low", "low_level_thread"))) == 0
    output = report_of(tmp_path)["provider_output"]["low"]
    assert "left Python threads running (1 more started with _thread)" in output


def interrupting():
    return criterion(id="stop", metric="user.stop", min_samples=6, max_samples=6, max_seconds=5,
                     provider="tests.verification.fault_providers:interrupts")


def test_11_a_keyboard_interrupt_raised_by_a_provider_is_its_error(tmp_path):
    assert accept(tmp_path, document(interrupting(), fails())) == 1
    results = by_id(report_of(tmp_path))
    assert results["stop"]["status"] == "ERROR" and results["fails"]["status"] == "FAIL"
    assert "raised KeyboardInterrupt (a BaseException)" in results["stop"]["reason"]


def test_11_a_module_raising_keyboard_interrupt_at_import_is_a_clear_refusal(tmp_path,
                                                                           monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "interrupting_module.py").write_text("raise KeyboardInterrupt\n")
    doc = document(criterion(id="i", metric="user.i", provider="interrupting_module:p"))
    assert accept(tmp_path, doc) == 2
    err = capsys.readouterr().err
    assert "importing it raised KeyboardInterrupt (a BaseException)" in err
    assert "the run went on" not in err and "Traceback" not in err


def test_11_a_real_ctrl_c_stops_the_run_and_its_worker(tmp_path):
    log = tmp_path / "worker.txt"
    path = write(tmp_path / "c.json", document(user("slow", "sleeps_logging_pid", log=str(log),
                                                    timeout=60.0)))
    proc = subprocess.Popen([sys.executable, "-m", "ryot.cli", "accept", "--criteria", str(path),
                             "--out", str(tmp_path / "out")], cwd=ROOT, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text().endswith("\n")) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert not running(int(log.read_text().split("=")[1]))
