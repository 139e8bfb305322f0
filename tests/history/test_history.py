"""`ryot history`: the store (verified on the way in, once per report, clear errors), change
points against the reports' own noise, and the commit/machine fields reports now carry."""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess

import numpy as np
import pytest

from ryot.cli import main
from ryot.history import store
from ryot.history.changes import find_changes
from ryot.history.simulated import simulated_report
from ryot.infra.machine_id import fingerprint_id, memory_bucket_gib
from ryot.infra.subject import subject
from ryot.verification.verify import verify_report


def write(path, report):
    path.write_text(json.dumps(report))
    return str(path)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """40 simulated commits, one criterion 7% slower from commit 20 on."""
    folder = tmp_path_factory.mktemp("reports")
    return [write(folder / f"r{i:02d}.json",
                  simulated_report(i, {"speed": 1.0 if i < 20 else 0.93}, seed=3))
            for i in range(40)]


def test_a_report_is_stored_once_and_a_step_is_found_at_its_commit(reports, tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert main(["history", "add", "--db", db, *reports]) == 0
    assert main(["history", "add", "--db", db, reports[0]]) == 0
    assert "0 added, 1 already there" in capsys.readouterr().out
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 40
        assert con.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert main(["history", "check", "--db", db]) == 1
    out = capsys.readouterr().out
    at = json.loads(open(reports[20]).read())["environment"]["subject"]["commit"][:10]
    assert "`speed` fell" in out and f"at commit {at}" in out and "REGRESSION" in out


def test_forged_and_unsealed_reports_are_refused_by_name(reports, tmp_path, capsys):
    forged = json.loads(open(reports[1]).read())
    forged["results"][0]["statistics"]["estimate"] = 2.0  # not resealed
    unsealed = copy.deepcopy(json.loads(open(reports[2]).read()))
    del unsealed["sha256"]
    paths = [write(tmp_path / "forged.json", forged), write(tmp_path / "unsealed.json", unsealed)]
    db = str(tmp_path / "h.sqlite")
    assert main(["history", "add", "--db", db, reports[0], *paths]) == 1
    err = capsys.readouterr().err
    assert "forged.json" in err and "unsealed.json" in err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 1


def test_a_corrupt_a_locked_and_a_newer_database_are_exit_2(reports, tmp_path, capsys,
                                                           monkeypatch):
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not sqlite at all " * 100)
    assert main(["history", "add", "--db", str(bad), reports[0]]) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err
    db = tmp_path / "h.sqlite"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store, "_BUSY_TIMEOUT_S", 0.1)
    assert main(["history", "add", "--db", str(db), reports[0]]) == 2
    assert "locked by another process" in capsys.readouterr().err
    holder.execute("ROLLBACK")
    holder.execute("PRAGMA user_version = 99")
    holder.close()
    assert main(["history", "check", "--db", str(db)]) == 2
    assert "newer ryot" in capsys.readouterr().err


def test_accept_history_names_the_kept_report_when_the_database_fails(tmp_path, reports):
    from ryot.verification.writers import Written

    bad = tmp_path / "bad.sqlite"
    bad.write_text("not sqlite " * 100)
    with pytest.raises(store.HistoryError, match="the report is kept at .*r00.json"):
        store.add_after_run(bad, Written({"report.json": reports[0]}, ()))
    good = store.add_after_run(tmp_path / "h.sqlite", Written({"report.json": reports[0]}, ()))
    assert good.notes[-1].startswith("history: added to")


def test_a_change_smaller_than_the_runs_own_noise_is_not_reported():
    rng = np.random.default_rng(5)
    values = np.r_[np.ones(40), np.full(40, 0.97)] * (1 + 0.005 * rng.standard_normal(80))
    narrow = find_changes(values, values * 0.99, values * 1.01)
    assert [c.index for c in narrow] and abs(narrow[0].index - 40) <= 2
    wide = find_changes(values, values * 0.7, values * 1.3)  # the runs say ±30%
    assert wide == []


def test_an_a_a_history_has_no_change_point():
    rng = np.random.default_rng(11)
    values = 1 + 0.05 * rng.standard_normal(100)
    assert find_changes(values, values - 0.1, values + 0.1) == []


def test_the_machine_id_is_its_facts_hash_and_verify_checks_it(reports):
    report = json.loads(open(reports[0]).read())
    machine = report["environment"]["machine"]
    assert machine["id"] == fingerprint_id(machine["facts"])
    report["environment"]["machine"]["facts"]["cores"] = 64
    from ryot.infra.jsonio import seal
    assert any("not the fingerprint of its facts" in str(m)
               for m in verify_report(seal(report)))


def test_memory_buckets_absorb_what_the_kernel_reserves():
    assert memory_bucket_gib(int(23.4 * 2**30)) == memory_bucket_gib(24 * 2**30) == 24
    assert memory_bucket_gib(int(15.6 * 2**30)) == 16


def test_the_subject_is_the_working_directorys_checkout(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q", "-b", "trunk")
    (tmp_path / "f").write_text("a")
    git("add", "f")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    monkeypatch.delenv("RYOT_COMMIT", raising=False)
    s = subject(cwd=tmp_path)
    assert s["branch"] == "trunk" and s["dirty"] is False and len(s["commit"]) == 40
    (tmp_path / "f").write_text("b")
    assert subject(cwd=tmp_path)["dirty"] is True
    monkeypatch.setenv("RYOT_COMMIT", "abc1234")
    assert subject(cwd=tmp_path)["source"] == "RYOT_COMMIT"
    assert subject(cwd=tmp_path.parent)["source"] in ("RYOT_COMMIT",)


def test_a_bad_commit_is_exit_2_naming_the_argument(capsys):
    assert main(["accept", "--commit", "not-a-sha", "--criteria", "nowhere.json"]) == 2
    assert "--commit: expected a commit id" in capsys.readouterr().err


def test_compare_refuses_two_machines_unless_asked(reports, tmp_path, capsys):
    from ryot.history.simulated import machine
    other = simulated_report(5, {"speed": 1.0}, seed=3, machine_facts=machine("Other CPU", 8))
    b = write(tmp_path / "b.json", other)
    assert main(["compare", reports[0], b]) == 2
    assert "different machines" in capsys.readouterr().err
    assert main(["compare", reports[0], b, "--across-machines"]) == 0


def test_the_dashboard_has_a_card_a_point_per_report_and_the_change_marker(reports, tmp_path):
    db = str(tmp_path / "h.sqlite")
    assert main(["history", "add", "--db", db, *reports]) == 0
    assert main(["history", "html", "--db", db, "--out", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "index.html").read_text()
    assert page.count('class="card"') == 1 and page.count('class="point"') == 40
    assert page.count('class="change-point regression"') == 1
    assert "http" not in page.replace('xmlns="http', "")  # nothing fetched from a network
    assert len(list((tmp_path / "site" / "reports").iterdir())) == 40


def test_a_report_from_before_subject_and_machine_continues_this_machines_series(tmp_path):
    from ryot.infra.jsonio import seal
    from ryot.verification import report as report_module

    now = report_module.environment()
    old = simulated_report(0, {"speed": 1.0})
    old.pop("sha256")
    env = {k: v for k, v in now.items() if k not in ("subject", "machine")}
    old["environment"] = {**env, "git_commit": "ab" * 20}
    old = seal(old)
    assert verify_report(old) == []
    db = str(tmp_path / "h.sqlite")
    assert main(["history", "add", "--db", db, write(tmp_path / "old.json", old)]) == 0
    with sqlite3.connect(db) as con:
        commit, machine = con.execute("SELECT commit_sha, machine_id FROM reports").fetchone()
    assert commit == "ab" * 20
    assert machine == now["machine"]["id"]  # the same series as a new report from here
