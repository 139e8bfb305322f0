"""Fault injection for acceptance runs (issue #9): nothing lost, nothing executed, nothing hidden.

One test (or parametrized family) per numbered item of the issue; each asserts the exit code,
the message, and that no measurement was lost and no code ran that should not have.
"""

import copy
import fcntl
import json
import os
import re
import shutil
import sys
import uuid
import xml.etree.ElementTree as ET

import pytest

from ryot.cli import main
from ryot.infra.schemas import validator

from . import fault_providers
from .helpers import criterion, document, write

FP = "tests.verification.fault_providers"
OUTPUTS = ("report.json", "report.md", "junit.xml", "plot.png")


def accept(tmp_path, doc, out="out", *extra):
    path = write(tmp_path / f"criteria-{uuid.uuid4().hex[:6]}.json", doc)
    return main(["accept", "--criteria", str(path), "--out", str(tmp_path / out), *extra])


def report_of(tmp_path, out="out"):
    report = json.loads((tmp_path / out / "report.json").read_text())
    assert validator("report").is_valid(report)
    return report


def statuses(report):
    return {r["id"]: r["status"] for r in report["results"]}


def fails():
    return criterion(id="fails", metric="synthetic.exact", params={"value": 0.5})


def passes(cid="passes"):
    return criterion(id=cid, metric="synthetic.exact", params={"value": 2.0})


def user(cid, provider, **params):
    return criterion(id=cid, metric=f"user.{cid}", provider=f"{FP}:{provider}", params=params,
                     min_samples=8, max_samples=8, max_seconds=0.3, timeout_seconds=0.9)


# -- 4: a provider that exits or raises a BaseException ------------------------------------------
@pytest.mark.parametrize("provider, params, fragment", [
    ("exits", {"code": 0}, "called sys.exit(0) instead of returning"),
    ("exits", {"code": "bye"}, "called sys.exit('bye')"),
    ("aborts", {}, "raised Abort: abandoning the measurement"),
])
def test_4_a_provider_that_exits_is_an_error_and_the_run_goes_on(tmp_path, capsys, provider,
                                                                 params, fragment):
    code = accept(tmp_path, document(fails(), user("quits", provider, **params), passes()))
    assert code == 1  # the earlier FAIL still decides the exit code
    report = report_of(tmp_path)
    assert statuses(report) == {"fails": "FAIL", "quits": "ERROR", "passes": "PASS"}
    quits = report["results"][1]
    assert fragment in quits["reason"] and "the run went on" in quits["reason"]
    assert "Traceback" not in capsys.readouterr().err


def test_4_keyboard_interrupt_raised_by_a_provider_is_its_error(tmp_path, capsys):
    # a real Ctrl-C reaches ryot, not the worker (its own session): test_worker_client.py::test_11_…
    assert accept(tmp_path, document(user("stop", "interrupts"), passes())) == 3
    assert statuses(report_of(tmp_path)) == {"stop": "ERROR", "passes": "PASS"}


# -- 5: `criteria check` imports nothing --------------------------------------------------------
@pytest.fixture
def evil_modules(tmp_path, monkeypatch):
    """A package and a module whose import would leave a marker file (unique names per test)."""
    tag = uuid.uuid4().hex[:8]
    pkg, mod, markers = f"evilpkg_{tag}", f"evilmod_{tag}", tmp_path / "markers"
    markers.mkdir()
    code = "from pathlib import Path\nPath({!r}).write_text('imported')\n"
    (tmp_path / pkg).mkdir()
    (tmp_path / pkg / "__init__.py").write_text(code.format(str(markers / "package")))
    (tmp_path / pkg / "provide.py").write_text(
        code.format(str(markers / "submodule")) + "def samples(n, params):\n    return [1.0] * n\n")
    (tmp_path / f"{mod}.py").write_text(
        code.format(str(markers / "workload")) + "def factory():\n    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield pkg, mod, markers
    for name in [m for m in sys.modules if m.startswith((pkg, mod))]:
        del sys.modules[name]


def test_5_criteria_check_runs_no_code_from_the_file(tmp_path, capsys, evil_modules):
    pkg, mod, markers = evil_modules
    doc = document(criterion(id="evil", metric="user.evil", provider=f"{pkg}.provide:samples"),
                   workload=f"{mod}:factory")
    path = write(tmp_path / "c.json", doc)
    assert main(["criteria", "check", str(path)]) == 0
    assert "located, not imported" in capsys.readouterr().out
    assert list(markers.iterdir()) == []  # neither the package, its module nor the workload ran
    assert main(["criteria", "check", "--import", str(path)]) == 0
    assert sorted(p.name for p in markers.iterdir()) == ["package", "submodule", "workload"]


@pytest.mark.parametrize("reference, fragment", [
    ("{pkg}.missing:samples", "no module named '{pkg}.missing'"),
    ("{mod}.sub:samples", "'{mod}' is a module, not a package"),
    ("nowhere_{pkg}:samples", "no module named 'nowhere_{pkg}'"),
])
def test_5_unlocatable_references_are_exit_2_without_importing(tmp_path, capsys, evil_modules,
                                                              reference, fragment):
    pkg, mod, markers = evil_modules
    reference, fragment = (s.format(pkg=pkg, mod=mod) for s in (reference, fragment))
    path = write(tmp_path / "c.json",
                 document(criterion(id="x", metric="user.x", provider=reference)))
    assert main(["criteria", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "/criteria/0/provider" in err and str(path) in err
    assert list(markers.iterdir()) == []


# -- 6: a bad --out is refused before anything is measured --------------------------------------
def _file(tmp_path):
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile", "exists and is not a folder"


def _under_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    return tmp_path / "afile" / "out", "is a file, not a folder"


def _unwritable(tmp_path):
    return "/proc/ryot-cannot-be-here", "cannot create the folder"


@pytest.mark.parametrize("make", [_file, _under_a_file, _unwritable])
def test_6_bad_out_is_exit_2_before_measuring(tmp_path, capsys, make):
    out, fragment = make(tmp_path)
    ran = tmp_path / "provider-ran"
    doc = document(criterion(id="m", metric="user.m", provider=f"{FP}:marker",
                             params={"marker": str(ran)}, min_samples=8, max_samples=8))
    path = write(tmp_path / "c.json", doc)
    assert main(["accept", "--criteria", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}" in err and fragment in err and "Traceback" not in err
    assert not ran.exists()  # refused before the provider ran: no measurement was lost


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_6_read_only_out_is_exit_2_before_measuring(tmp_path, capsys):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert accept(tmp_path, document(passes()), out="ro") == 2
    finally:
        locked.chmod(0o755)
    assert "cannot write there" in capsys.readouterr().err


# -- 7: the four files are one set; one run per folder -------------------------------------------
class Killed(BaseException):  # noqa: N818 - stands for SIGKILL at one point of the writing
    pass


class KillSwitch:
    """Wraps file-system calls; the call after the first ``at`` ones raises Killed."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0

    def wrap(self, real):
        def step(*args, **kwargs):
            self.calls += 1
            if self.calls > self.at:
                raise Killed(f"killed at step {self.at}")
            return real(*args, **kwargs)
        return step


def _contents(out):
    return {name: (out / name).read_bytes() for name in OUTPUTS if (out / name).exists()}


def test_7_a_kill_between_writes_never_leaves_a_mixed_set(tmp_path, monkeypatch):
    """Kill the second run at every file-system step of its writing; look at what is left."""
    assert accept(tmp_path, document(passes("c")), "out") == 0
    first = _contents(tmp_path / "out")
    shutil.copytree(tmp_path / "out", tmp_path / "first")
    second_doc = document(criterion(id="c", metric="synthetic.exact", params={"value": 0.5}))
    step, code = 0, None
    while code is None:
        shutil.rmtree(tmp_path / "out")
        shutil.copytree(tmp_path / "first", tmp_path / "out")
        switch = KillSwitch(step)
        with monkeypatch.context() as patched:
            patched.setattr(os, "replace", switch.wrap(os.replace))
            patched.setattr(os, "unlink", switch.wrap(os.unlink))
            try:
                code = accept(tmp_path, second_doc, "out")
            except Killed:
                step += 1
        left = _contents(tmp_path / "out")
        old = {name for name, data in left.items() if first[name] == data}
        assert not (old and len(old) < len(left)), f"kill at {switch.at}: mixed {sorted(left)}"
        if "report.json" in left:  # present only beside the rest of its own set
            assert set(left) == set(OUTPUTS), f"kill at {switch.at}: {sorted(left)}"
    assert code == 1 and step >= len(OUTPUTS) * 2  # every unlink and rename was a kill point
    assert json.loads(left["report.json"])["results"][0]["status"] == "FAIL"
    sha = json.loads(left["report.json"])["sha256"]
    assert sha in left["report.md"].decode() and sha in left["junit.xml"].decode()


def test_7_the_next_run_removes_what_a_killed_run_left(tmp_path, monkeypatch):
    doc, out = document(fails()), tmp_path / "out"
    with monkeypatch.context() as patched:
        switch = KillSwitch(2)
        patched.setattr(os, "replace", switch.wrap(os.replace))
        patched.setattr(os, "unlink", switch.wrap(os.unlink))
        with pytest.raises(Killed):
            accept(tmp_path, doc, "out")
    assert list(out.glob(".ryot-staging-*")) and "report.json" not in _contents(out)
    assert accept(tmp_path, doc, "out") == 1
    assert not list(out.glob(".ryot-staging-*")) and set(_contents(out)) == set(OUTPUTS)


def test_7_a_second_run_into_a_folder_in_use_is_exit_2(tmp_path, capsys):
    assert accept(tmp_path, document(passes()), "out") == 0
    before = _contents(tmp_path / "out")
    ran = tmp_path / "provider-ran"
    doc = document(criterion(id="m", metric="user.m", provider=f"{FP}:marker",
                             params={"marker": str(ran)}, min_samples=8, max_samples=8))
    with open(tmp_path / "out" / ".ryot.lock", "a") as other_run:  # another run holds the lock
        fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        capsys.readouterr()
        assert accept(tmp_path, doc, "out") == 2
    err = capsys.readouterr().err
    assert "is in use by another ryot run" in err and str(tmp_path / "out") in err
    assert not ran.exists() and _contents(tmp_path / "out") == before
    assert accept(tmp_path, doc, "out") == 0 and ran.exists()  # free again once released


# -- 9: user strings are text, never markup --------------------------------------------------
def test_9_markup_and_newlines_in_user_strings(tmp_path, capsys):
    message = "line one\nline | two `tick` [/red] **bold** <b>\x1b[31m"
    doc = document(passes("ok"),
                   criterion(id="boom", metric="synthetic.error", params={"message": message}),
                   name="release [/v2] [bold]x[/bold] $5")
    assert accept(tmp_path, doc) == 3  # the ERROR's code: no MarkupError after writing
    out = capsys.readouterr().out
    assert "release [/v2] [bold]x[/bold] $5" in " ".join(out.split())  # the title may wrap
    md = (tmp_path / "out" / "report.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(rows) == 3  # header + two criteria: the message's newline did not split a row
    for row in rows:
        assert len(re.split(r"(?<!\\)\|", row)) == 10  # 8 cells: its pipes are escaped
    assert "line one<br>line \\| two \\`tick\\` \\[/red\\] \\*\\*bold\\*\\* \\<b>" in rows[2]
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot().find("testsuite")
    assert "line one" in suite.find("testcase[@name='boom']/error").get("message")


# -- 10: no matplotlib -------------------------------------------------------------------------
def test_10_without_matplotlib_the_plot_is_skipped_with_a_note(tmp_path, capsys, monkeypatch):
    assert accept(tmp_path, document(fails(), passes())) == 1
    assert (tmp_path / "out" / "plot.png").exists()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    capsys.readouterr()
    assert accept(tmp_path, document(fails(), passes())) == 1  # still the verdicts' code
    out = capsys.readouterr().out
    assert "note: plot.png not written: matplotlib cannot be imported" in out
    assert "also report.md, junit.xml in" in out
    assert "plot.png not written: matplotlib cannot be imported" in (
        tmp_path / "out" / "report.md").read_text()
    assert not (tmp_path / "out" / "plot.png").exists()  # the old run's plot went with its set
    assert statuses(report_of(tmp_path)) == {"fails": "FAIL", "passes": "PASS"}


# -- 12: compare checks its inputs; migrate writes only valid files ------------------------------
@pytest.fixture(scope="module")
def good_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("good")
    assert accept(tmp, document(fails(), passes())) == 1
    return json.loads((tmp / "out" / "report.json").read_text())


@pytest.mark.parametrize("edit, fragment", [
    (lambda r: r["results"][0].__setitem__("status", "PASS"),
     "its sha256 does not match its content"),
    (lambda r: r.pop("sha256"), "'sha256' is a required property"),
    (lambda r: r.pop("results"), "'results' is a required property"),
    (lambda r: r["results"][1].pop("criterion"), "'criterion' is a required property"),
])
def test_12_compare_rejects_edited_unsealed_or_incomplete_reports(tmp_path, capsys, good_report,
                                                                  edit, fragment):
    good = write(tmp_path / "good.json", good_report)
    bad_doc = copy.deepcopy(good_report)
    edit(bad_doc)
    bad = write(tmp_path / "bad.json", bad_doc)
    assert main(["compare", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: not a consistent ryot report" in err and fragment in err
    assert "Traceback" not in err
    assert main(["compare", str(good), str(good)]) == 0


@pytest.mark.parametrize("legacy, fragment", [
    ('{"speedup_metrics": {"training_speedup_min": 1e999}}',
     "at /speedup_metrics/training_speedup_min: 1e999 is beyond the range of a float"),
    ('{"speedup_metrics": {"latency_p99_ms": 12}}',
     "no key maps to a criterion, so there is nothing to write"),
    ('{}', "the file has no keys"),
    ('{"speedup_metrics": {"training_speedup_min": 1e301}}', "/criteria/0/threshold"),
])
def test_12_migrate_writes_no_invalid_or_empty_file(tmp_path, capsys, legacy, fragment):
    path = tmp_path / "legacy.json"
    path.write_text(legacy)
    out = tmp_path / "new.json"
    assert main(["criteria", "migrate", str(path), "-o", str(out)]) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()
    assert main(["criteria", "migrate", str(path)]) == 2
    assert "Infinity" not in capsys.readouterr().out


def test_12_migrate_to_an_unwritable_output_is_exit_2(tmp_path, capsys):
    path = tmp_path / "legacy.json"
    path.write_text('{"speedup_metrics": {"training_speedup_min": 3}}')
    (tmp_path / "afile").write_text("x")
    assert main(["criteria", "migrate", str(path), "-o", str(tmp_path / "afile" / "new.json")]) == 2
    assert "-o " in capsys.readouterr().err


# -- 13: hangs, chatter, huge documents, failing factories --------------------------------------
@pytest.fixture
def release_hung_providers():
    fault_providers.RELEASE.clear()
    yield
    fault_providers.RELEASE.set()  # lets the abandoned worker thread finish


def test_13_a_hung_provider_times_out_and_the_run_goes_on(tmp_path, release_hung_providers):
    assert accept(tmp_path, document(user("hangs", "hangs"), passes())) == 3
    report = report_of(tmp_path)
    assert statuses(report) == {"hangs": "ERROR", "passes": "PASS"}
    hung = report["results"][0]
    assert hung["reason"].startswith("timed out after 0.9 s")  # timeout_seconds
    assert "the worker process was killed" in hung["reason"]
    assert "in hangs" in hung["error_traceback"]  # the worker's stack when it was killed


def test_13_provider_output_is_kept_out_of_the_summary(tmp_path, capsys):
    assert accept(tmp_path, document(user("chatty", "noisy"), passes())) == 0
    captured = capsys.readouterr()
    assert "NOISE" not in captured.out and "NOISE" not in captured.err
    report = report_of(tmp_path)
    printed = report["provider_output"]["chatty"]
    assert "NOISE-OUT from a chatty provider" in printed and "NOISE-ERR progress 50%" in printed
    assert set(report["provider_output"]) == {"chatty"}
    assert "NOISE-OUT" in (tmp_path / "out" / "report.md").read_text()
    assert main(["verify", str(tmp_path / "out" / "report.json")]) == 0


def test_13_schema_errors_quote_a_short_excerpt(tmp_path, capsys):
    huge = {"format": "ryot.criteria", "format_version": 1, "criteria": "x" * 5_000_000}
    path = write(tmp_path / "huge.json", huge)
    assert main(["criteria", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err) < 1000 and str(path) in err and "at /criteria:" in err
    assert "characters]" in err and "is not of type 'array'" in err


@pytest.mark.parametrize("factory, fragment", [
    ("failing_factory", "RuntimeError: no model checkpoint here"),
    ("exiting_factory", "called sys.exit(4)"),
])
def test_13_a_failing_workload_factory_errors_every_criterion(tmp_path, capsys, factory, fragment):
    doc = document(passes("a"), passes("b"), workload=f"{FP}:{factory}")
    assert accept(tmp_path, doc) == 3
    assert "Traceback" not in capsys.readouterr().err
    report = report_of(tmp_path)
    assert statuses(report) == {"a": "ERROR", "b": "ERROR"}
    for r in report["results"]:
        assert r["reason"].startswith(f"the workload factory {FP}:{factory} failed: ")
        assert fragment in r["reason"]
