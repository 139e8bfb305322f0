"""The report store: verified, sealed reports in an embedded SQLite database.

One row per report (its sha256 seal is the key: adding a report twice keeps one entry), with
the commit under test, branch, times, criteria file and machine fingerprint it was made on, and
the whole report (compressed JSON, so nothing a report holds is lost); one row per result
with the estimate, its interval and the criterion's bound and direction, for the series.

The schema is versioned (``PRAGMA user_version``) and migrated forward on open. A locked or
corrupt database, or one written by a newer ryot, is a :class:`HistoryError` (exit 2).
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ryot.infra.errors import ReportError, RyotError

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "Added", "HistoryError", "add_after_run",
           "add_reports", "connect", "report_body"]

DEFAULT_DB = Path("results") / "history.sqlite"
SCHEMA_VERSION = 1
_BUSY_TIMEOUT_S = 5.0

_MIGRATIONS = {  # version reached -> the statements that reach it from the one before
    1: """
    CREATE TABLE machines (id TEXT PRIMARY KEY, label TEXT NOT NULL, facts TEXT NOT NULL);
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, commit_sha TEXT, branch TEXT,
        dirty INTEGER, committed_at TEXT, started_at TEXT, finished_at TEXT NOT NULL,
        criteria_name TEXT, criteria_path TEXT, criteria_sha256 TEXT,
        machine_id TEXT NOT NULL REFERENCES machines(id), quick INTEGER NOT NULL,
        source_path TEXT, added_at TEXT NOT NULL, body BLOB NOT NULL);
    CREATE TABLE results (
        report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
        position INTEGER NOT NULL, criterion_id TEXT NOT NULL, metric TEXT NOT NULL,
        unit TEXT, comparator TEXT NOT NULL, threshold REAL, min REAL, max REAL,
        status TEXT NOT NULL, estimate REAL, ci_low REAL, ci_high REAL, confidence REAL,
        PRIMARY KEY (report_id, position));
    CREATE INDEX results_series ON results (criterion_id, report_id);
    CREATE INDEX reports_machine ON reports (machine_id, committed_at, finished_at);
    """,
}


class HistoryError(RyotError):
    """A history database that cannot be used: locked, corrupt, or from a newer ryot."""


@dataclass(frozen=True)
class Added:
    """What ``add_reports`` did: the paths stored, already there, and refused (with why)."""

    stored: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()


def _problem(db: Path, exc: sqlite3.Error) -> HistoryError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        why = (f"the database is locked by another process (waited {_BUSY_TIMEOUT_S:g} s); "
               "try again when it is done")
    elif isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text
                                                       or "malformed" in text):
        why = f"not a readable SQLite database ({text}); move it aside to start a new history"
    else:
        why = f"SQLite: {text}"
    return HistoryError(why, source=str(db))


@contextmanager
def connect(db: str | os.PathLike[str], *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """An open, migrated database; one transaction, committed when the block ends cleanly."""
    path = Path(db)
    if not create and not path.is_file():
        raise HistoryError("no history database here (add reports with `ryot history add`)",
                           source=str(path))
    if path.is_dir():
        raise HistoryError("is a folder; expected a database file", source=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise HistoryError(f"cannot open: {exc}", source=str(path)) from None
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("BEGIN IMMEDIATE")
        _migrate(con, path)
        yield con
        con.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(con)
        raise _problem(path, exc) from None
    except BaseException:
        _rollback(con)
        raise
    finally:
        con.close()


def _rollback(con: sqlite3.Connection) -> None:
    try:
        con.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _migrate(con: sqlite3.Connection, path: Path) -> None:
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(f"written by a newer ryot (schema version {version}; this one "
                           f"knows up to {SCHEMA_VERSION})", source=str(path))
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for statement in _MIGRATIONS[target].split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(f"PRAGMA user_version = {target}")


def report_body(row_body: bytes) -> dict:
    """The stored report, as it was added."""
    return json.loads(zlib.decompress(row_body))


def _stats(result: dict) -> tuple:
    s = result.get("statistics") or {}
    c = result["criterion"]
    return (s.get("estimate"), s.get("ci_low"), s.get("ci_high"), c.get("confidence"))


def _insert(con: sqlite3.Connection, report: dict, source: str, now: str) -> bool:
    env = report["environment"]
    machine = env.get("machine") or _legacy_machine(env)
    subject = env.get("subject") or _legacy_subject(env)
    con.execute("INSERT OR IGNORE INTO machines VALUES (?, ?, ?)",
                (machine["id"], machine["label"], json.dumps(machine["facts"], sort_keys=True)))
    blob = zlib.compress(json.dumps(report, allow_nan=False).encode(), 6)
    crit = report["criteria_file"]
    cur = con.execute(
        "INSERT OR IGNORE INTO reports (sha256, commit_sha, branch, dirty, committed_at, "
        "started_at, finished_at, criteria_name, criteria_path, criteria_sha256, machine_id, "
        "quick, source_path, added_at, body) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (report["sha256"], subject.get("commit"), subject.get("branch"),
         None if subject.get("dirty") is None else int(subject["dirty"]),
         subject.get("committed_at"), report.get("started_at"), report["finished_at"],
         crit.get("name"), crit.get("path"), crit.get("sha256"), machine["id"],
         int(bool(report.get("quick"))), source, now, blob))
    if cur.rowcount == 0:
        return False
    report_id = cur.lastrowid
    con.executemany(
        "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(report_id, i, r["id"], r["metric"], r["criterion"].get("unit"),
          r["criterion"]["comparator"], r["criterion"].get("threshold"),
          r["criterion"].get("min"), r["criterion"].get("max"), r["status"], *_stats(r))
         for i, r in enumerate(report["results"])])
    return True


def _legacy_machine(env: dict) -> dict:
    """A report from before machine fingerprints. A CPU report's hardware block and torch
    version hold every fact :func:`ryot.infra.machine_id.facts` reads, so it gets the id a new
    report from that machine gets (its history continues); a CUDA report lacks the CUDA version
    and driver, so its id is marked ``legacy``."""
    from ryot.infra.machine_id import fingerprint_id, label, memory_bucket_gib

    hw = env.get("hardware") or {}
    if hw.get("kind") == "cpu" and hw.get("name"):
        extra = hw.get("extra") or {}
        facts = {"cpu": " ".join(str(hw["name"]).split()), "cores": hw.get("cores"),
                 "memory_gib": memory_bucket_gib(int(hw.get("memory_bytes") or 0)),
                 "isa": list(hw.get("isa_flags") or []), "arch": extra.get("machine"),
                 "system": extra.get("system"),
                 "torch": (env.get("torch") or "").split("+")[0] or None, "cuda": None,
                 "gpu": None, "gpus": 0, "gpu_driver": None}
        return {"id": fingerprint_id(facts), "label": label(facts), "facts": facts}
    facts = {"cpu": hw.get("name"), "cores": hw.get("cores"), "legacy": True}
    return {"id": fingerprint_id(facts), "label": f"{hw.get('name')} · {hw.get('cores')} cores "
                                                  "(no fingerprint)", "facts": facts}


def _legacy_subject(env: dict) -> dict:
    """A report from before ``environment.subject`` names only the checkout ryot ran from
    (``git_commit``): the commit under test when ryot measured itself, which is what such
    reports were (scripts/history_of_commits.py builds that history)."""
    commit = env.get("git_commit")
    return {"commit": commit} if commit else {}


def _checked(path: str, key: bytes | None) -> dict:
    """The report at ``path`` if ``ryot verify`` finds it consistent; ReportError otherwise."""
    from ryot.verification.verify import load_report, verify_report

    report = load_report(path)
    mismatches = verify_report(report, key=key)
    if mismatches:
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        raise ReportError(f"refused: `ryot verify` finds {mismatches[0]}{more}", source=path)
    return report


def add_reports(db: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]], *,
                key: bytes | None = None, on_each=None) -> Added:
    """Verify each report and store the consistent ones in one transaction. A report that is
    unreadable, forged or unsealed is refused (named in ``Added.refused``), never stored;
    ``on_each(path)`` is called after each one (a progress bar)."""
    from ryot.verification.report import now

    stored, duplicates, refused, good = [], [], [], []
    for p in map(str, paths):
        try:
            good.append((p, _checked(p, key)))
        except ReportError as exc:
            refused.append((p, str(exc)))
        if on_each is not None:
            on_each(p)
    when = now()
    with connect(db) as con:
        for p, report in good:
            (stored if _insert(con, report, os.path.abspath(p), when) else duplicates).append(p)
    return Added(tuple(stored), tuple(duplicates), tuple(refused))


def add_after_run(db: str | os.PathLike[str], written):
    """``ryot accept --history DB``: add the report just written. A database problem is a
    HistoryError that names the report, which stays where it was written."""
    path = written.paths["report.json"]
    try:
        added = add_reports(db, [path])
    except HistoryError as exc:
        raise HistoryError(f"{exc.message}; the report is kept at {path} (add it later with "
                           f"`ryot history add --db {db} {path}`)", source=exc.source) from None
    if added.refused:
        note = f"history: {added.refused[0][1]}"
    else:
        note = f"history: added to {db}" if added.stored else f"history: already in {db}"
    return replace(written, notes=(*written.notes, note))
