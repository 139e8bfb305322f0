"""Faults between a finished report and its files on disk: each is injected, and each test
asserts the exit code, the message, and that nothing measured was lost.

Items: 1 `--out` made absolute when claimed · 2 every name of the set checked when claimed ·
3 rendered in memory before anything is touched · 4 a failure to write keeps the rendered set
and is exit 4 · 5 output encodings and lone surrogates never crash.
"""

import errno
import importlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import ryot.verification.writers as writers
from ryot.cli import main
from ryot.infra.errors import PublishError
from ryot.verification import engine
from ryot.verification.outdir import claimed
from ryot.verification.writers import write_all

from .helpers import criterion, document, write

publishing = importlib.import_module("ryot.verification.writers.publish")  # not the function

HERE = "tests.verification.test_publish_faults"
FP = "tests.verification.fault_providers"
OUTPUTS = ("report.json", "report.md", "junit.xml", "plot.png")


# -- providers (referenced by the criteria below as HERE:name) ----------------------------------
def chdir_away(n, params):
    os.chdir(params["to"])
    return [4.0 + 0.001 * (i % 3) for i in range(n)]


def mkdir_in_out(n, params):
    """Puts a folder (holding a file of the user's) where a report file goes, mid-run."""
    Path(params["path"]).mkdir(exist_ok=True)
    (Path(params["path"]) / "mine.txt").write_text("not ryot's")
    return [4.0 + 0.001 * (i % 3) for i in range(n)]


def odd_text(n, params):
    print("naïve ☃ \udcff from the provider")
    return [4.0 + 0.001 * (i % 3) for i in range(n)]


def user(cid, provider, **params):
    return criterion(id=cid, metric=f"user.{cid}", provider=f"{HERE}:{provider}", params=params,
                     min_samples=8, max_samples=8, max_seconds=0.3, timeout_seconds=5)


def passes(cid="c"):
    return criterion(id=cid, metric="synthetic.exact", params={"value": 2.0})


def fails(cid="c"):
    return criterion(id=cid, metric="synthetic.exact", params={"value": 0.5})


def accept(tmp_path, doc, out):
    path = write(tmp_path / f"criteria-{uuid.uuid4().hex[:6]}.json", doc)
    return main(["accept", "--criteria", str(path), "--out", str(out)])


def contents(folder):
    return {n: (folder / n).read_bytes() for n in OUTPUTS if (folder / n).is_file()}


def kept_folders(tmp_path, out="out"):
    return sorted(tmp_path.glob(f"{out}.unwritten-*"))


def status_of(folder):
    return json.loads((folder / "report.json").read_text())["results"][0]["status"]


@pytest.fixture
def old_set(tmp_path):
    """A folder holding the set of a passing run; the tests write a failing run over it."""
    assert accept(tmp_path, document(passes()), tmp_path / "out") == 0
    return tmp_path / "out", contents(tmp_path / "out")


# -- 1: --out is absolute from the claim on ----------------------------------------------------
@pytest.mark.parametrize("where", ["provider", "in process"])
def test_1_a_change_of_directory_mid_run_does_not_move_the_report(tmp_path, monkeypatch, capsys,
                                                                  where):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    with claimed("relative") as out:
        assert out == tmp_path / "relative" and out.is_absolute()
    doc = document(user("wanders", "chdir_away", to=str(elsewhere)))
    if where == "in process":  # providers may run in a worker process: move this one too
        real = engine.write_all
        monkeypatch.setattr(engine, "write_all",
                            lambda report, out: (os.chdir(elsewhere), real(report, out))[1])
    capsys.readouterr()
    assert main(["accept", "--criteria", str(write(tmp_path / "c.json", doc)), "--out", "out"]) == 0
    assert set(contents(tmp_path / "out")) == set(OUTPUTS)
    assert not (elsewhere / "out").exists()
    assert f"report: {tmp_path / 'out' / 'report.json'}" in capsys.readouterr().out


# -- 2: every name of the set is checked when --out is claimed ---------------------------------
@pytest.mark.parametrize("name, kind", [("report.md", "a folder"), ("plot.png", "a folder"),
                                        ("junit.xml", "not a file")])
def test_2_a_non_file_in_place_of_a_report_file_is_exit_2_before_measuring(tmp_path, capsys,
                                                                           name, kind):
    out, ran = tmp_path / "out", tmp_path / "provider-ran"
    out.mkdir()
    if kind == "a folder":
        (out / name).mkdir()
        (out / name / "mine.txt").write_text("not ryot's")
    else:
        os.mkfifo(out / name)
    doc = document(criterion(id="m", metric="user.m", provider=f"{FP}:marker",
                             params={"marker": str(ran)}, min_samples=8, max_samples=8))
    assert accept(tmp_path, doc, out) == 2
    err = capsys.readouterr().err
    assert f"--out {out}: {out / name} is {kind}" in err and "Traceback" not in err
    assert not ran.exists()  # refused before anything was measured
    assert kind != "a folder" or (out / name / "mine.txt").read_text() == "not ryot's"


# -- 3: rendered before anything is touched ----------------------------------------------------
def test_3_a_renderer_failure_changes_nothing_and_keeps_the_data(tmp_path, old_set, monkeypatch,
                                                                 capsys):
    out, before = old_set

    def broken(report):
        raise RuntimeError("junit renderer bug")

    monkeypatch.setattr(writers, "render_junit", broken)
    capsys.readouterr()
    assert accept(tmp_path, document(fails()), out) == 4  # a bug: the traceback says so
    err = capsys.readouterr().err
    assert "this is a ryot bug" in err and "RuntimeError: junit renderer bug" in err
    assert contents(out) == before and not list(out.glob(".ryot-staging-*"))
    [kept] = kept_folders(tmp_path)
    assert f"its data is kept in {kept / 'report.json'}" in err
    assert status_of(kept) == "FAIL"  # the new run's measurements, not lost


# -- 4: a failure to write keeps the rendered set, names it, exit 4 ----------------------------
class Fault:
    """Replaces ``real``; the ``at``-th call whose path lies in ``where`` raises ENOSPC."""

    def __init__(self, real, at, where):
        self.real, self.at, self.where, self.calls = real, at, where, 0

    def __call__(self, *args, **kwargs):
        if any(self.where(Path(a)) for a in args[:2] if isinstance(a, str | os.PathLike)):
            self.calls += 1
            if self.calls == self.at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.real(*args, **kwargs)


def _in_staging(path):
    return path.parent.name.startswith(publishing.STAGING_PREFIX)


@pytest.mark.parametrize("target, at, old_state", [
    ("write", 1, "nothing in {out} was changed"),  # disk full while staging: report.json
    ("write", 4, "nothing in {out} was changed"),  # ... or the last file, plot.png
    ("unlink", 1, "nothing in {out} was changed"),  # the old report.json cannot be removed
    ("unlink", 3, "the previous report set in {out} was removed"),
    ("replace", 1, "the previous report set in {out} was removed"),
    ("replace", 4, "the previous report set in {out} was removed"),  # report.json, last
])
def test_4_a_failed_write_keeps_the_set_beside_out_and_is_exit_4(tmp_path, old_set, monkeypatch,
                                                                 capsys, target, at, old_state):
    out, before = old_set
    if target == "write":
        fault = Fault(publishing._write_synced, at, _in_staging)
        monkeypatch.setattr(publishing, "_write_synced", fault)
    else:
        fault = Fault(getattr(os, target), at, lambda p: p.parent == out and p.name in OUTPUTS)
        monkeypatch.setattr(os, target, fault)
    capsys.readouterr()
    assert accept(tmp_path, document(fails()), out) == 4
    err = capsys.readouterr().err
    [kept] = kept_folders(tmp_path)
    assert f"\nryot: error: could not write the report set into {out}: {out}/" in err
    assert "No space left on device (ENOSPC)" in err and old_state.format(out=out) in err
    assert f"the finished report set is kept in {kept}\n" in err and "Traceback" not in err
    left = contents(out)
    assert left == before if "nothing" in old_state else left == {}  # intact or gone, no mix
    assert set(contents(kept)) == set(OUTPUTS) and status_of(kept) == "FAIL"
    monkeypatch.undo()
    assert main(["verify", str(kept / "report.json")]) == 0  # what was kept is a whole report
    assert not list(out.glob(".ryot-staging-*"))


def test_4_a_folder_appearing_mid_run_is_exit_4_and_left_alone(tmp_path, capsys):
    out = tmp_path / "out"
    assert accept(tmp_path, document(user("m", "mkdir_in_out", path=str(out / "plot.png"))),
                  out) == 4
    err = capsys.readouterr().err
    [kept] = kept_folders(tmp_path)
    assert f"{out / 'plot.png'}: Is a directory (EISDIR); nothing in {out} was changed" in err
    assert f"kept in {kept}" in err and "Traceback" not in err
    assert (out / "plot.png" / "mine.txt").read_text() == "not ryot's" and contents(out) == {}
    assert set(contents(kept)) == set(OUTPUTS) and status_of(kept) == "PASS"


def test_4_when_beside_out_fails_the_set_is_kept_in_the_temp_folder(tmp_path, old_set,
                                                                    monkeypatch, capsys):
    out, before = old_set
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "systmp"))
    (tmp_path / "systmp").mkdir()
    real = publishing._write_synced

    def disk_full_here(path, data):  # in staging and beside out; the temp folder has room
        if Path(path).parent.parent in (out, tmp_path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data)

    monkeypatch.setattr(publishing, "_write_synced", disk_full_here)
    capsys.readouterr()
    assert accept(tmp_path, document(fails()), out) == 4
    err = capsys.readouterr().err
    [kept] = sorted((tmp_path / "systmp").glob("out.unwritten-*"))
    assert f"the finished report set is kept in {kept}\n" in err and not kept_folders(tmp_path)
    assert contents(out) == before and set(contents(kept)) == set(OUTPUTS)


def test_4_when_nothing_can_be_kept_the_error_says_so(tmp_path, old_set, monkeypatch):
    out, before = old_set
    report = json.loads(before["report.json"])

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(publishing, "_write_synced", disk_full)
    with pytest.raises(PublishError) as caught:
        write_all(report, out)
    assert caught.value.kept is None and caught.value.path == str(out / "report.json")
    assert "could not be kept anywhere either (report.json: No space left" in str(caught.value)
    assert contents(out) == before and not kept_folders(out.parent)


def _file_size_limit(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_4_a_file_size_limit_from_ulimit_is_exit_4_with_the_rest_kept(tmp_path, old_set):
    out, before = old_set
    doc = document(fails())
    path = write(tmp_path / "fails.json", doc)
    limit = max(len(data) for name, data in before.items() if name != "plot.png") + 4096
    assert len(before["plot.png"]) > limit  # the plot cannot be written; the rest can
    proc = subprocess.run([sys.executable, "-m", "ryot.cli", "accept", "--criteria", str(path),
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          preexec_fn=_file_size_limit(limit))
    assert proc.returncode == 4, proc.stderr
    [kept] = kept_folders(tmp_path)
    assert f"{out / 'plot.png'}: File too large (EFBIG); nothing in {out} was changed" in (
        proc.stderr)
    assert f"kept in {kept} (all but plot.png: File too large)" in proc.stderr
    assert "Traceback" not in proc.stderr and contents(out) == before
    assert set(contents(kept)) == {"report.json", "report.md", "junit.xml"}
    assert status_of(kept) == "FAIL" and main(["verify", str(kept / "report.json")]) == 0


# -- 5: encodings --------------------------------------------------------------------------------
ODD_NAME = "café \udcff release"


def test_5_ascii_output_and_lone_surrogates_never_crash(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document(user("odd", "odd_text"), name=ODD_NAME)))  # \udcff escaped
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run([sys.executable, "-m", "ryot.cli", "accept", "--criteria", str(path),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=300, env=env, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "caf\\xe9 \\udcff release" in proc.stdout
    out = tmp_path / "out"
    assert set(contents(out)) == set(OUTPUTS)  # the plot too: its title is escaped
    report = json.loads((out / "report.json").read_text())
    assert report["criteria_file"]["name"] == ODD_NAME
    assert "from the provider" in report["provider_output"]["odd"]  # its print did not fail
    md = (out / "report.md").read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert "café \\\\udcff release" in md and "naïve ☃ \\udcff" in md
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite.get("name") == "ryot acceptance: café \\udcff release"
    assert main(["verify", str(out / "report.json")]) == 0


def test_5_the_cli_escapes_what_its_streams_cannot_encode(tmp_path, monkeypatch):
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    assert accept(tmp_path, document(passes(), name=ODD_NAME), tmp_path / "out") == 0
    assert main(["verify", str(tmp_path / "missing-\udcff-é.json")]) == 2
    stdout.flush()
    stderr.flush()
    assert b"caf\\xe9 \\udcff release" in stdout.buffer.getvalue()
    assert b"missing-\\udcff-\\xe9.json" in stderr.buffer.getvalue()
