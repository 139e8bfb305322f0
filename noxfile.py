"""Sessions: tests, properties, acceptance, benchmarks, mutation, lint.

Every session installs ryot with torch pinned by ``constraints.txt`` (the CPU wheel), so no
session pulls a multi-GB CUDA build. Extra pytest arguments go after ``--``:
``nox -s tests -- -k gates``.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYTHON = ["3.11", "3.10", "3.12"]


def install(session: nox.Session, extras: str = "dev") -> None:
    session.install("-c", "constraints.txt", "-e", f".[{extras}]")


@nox.session(python=PYTHON[0])
def tests(session: nox.Session) -> None:
    """Unit tests + properties at the fast `ci` Hypothesis profile, in parallel (not `slow`, not
    `slurm`: the real-cluster fleet tests are `nox -s fleet`, past .ci/run's time budget).
    The `examples` extra (transformers) is installed so examples/hf_transformers is tested."""
    install(session, "dev,examples")
    session.run(
        "pytest", "-n", "auto", "-m", "not slow and not slurm", "--hypothesis-profile=ci",
        "--junitxml=results/junit-tests.xml", *(session.posargs or ["tests", "properties"]),
        env={"TRITON_INTERPRET": "1"},
    )


@nox.session(python=PYTHON[0])
def slow(session: nox.Session) -> None:
    """Tests marked `slow` (multi-process, asv regression detection, long workloads)."""
    install(session)
    session.run("pytest", "-m", "slow", *(session.posargs or ["tests"]),
                env={"TRITON_INTERPRET": "1"})


@nox.session(python=PYTHON[0])
def properties(session: nox.Session) -> None:
    """The Hypothesis suites at the long `fuzz` profile (thousands of examples each)."""
    install(session)
    session.run("pytest", "-n", "auto", "--hypothesis-profile=fuzz",
                "--hypothesis-show-statistics", *(session.posargs or ["properties"]))


@nox.session(python=PYTHON[0])
def acceptance(session: nox.Session) -> None:
    """The acceptance suite: one pytest item per criterion of success_criteria.json.

    Reports (report.json/.md, junit.xml, plot.png) go to results/acceptance/. Another file:
    ``nox -s acceptance -- --criteria examples/cheap_criteria.json [--quick]``.
    """
    install(session)
    session.run("pytest", "acceptance", "-p", "no:cacheprovider", "-rA",
                "--junitxml=results/junit-acceptance.xml", "--ryot-out=results/acceptance",
                *session.posargs)


@nox.session(python=PYTHON[0])
def benchmarks(session: nox.Session) -> None:
    """A quick asv run of the current commit in this session's environment.

    Results go to .asv/results; compare commits with `asv continuous <base> HEAD --factor 1.1`.
    """
    install(session)
    commit = session.run("git", "rev-parse", "HEAD", silent=True, external=True).strip()
    session.run("asv", "machine", "--yes")
    session.run("asv", "run", "--quick", "--python=same", "--set-commit-hash", commit,
                "--show-stderr", *session.posargs)


@nox.session(python=PYTHON[0])
def figures(session: nox.Session) -> None:
    """The `ryot bench` figures of docs/benchmarks.md (raw samples in results/bench/)."""
    install(session, "dev,bench")
    for name in session.posargs or ["orchestrator", "compression", "kv", "tune", "decisions",
                                     "inference", "training", "proportions"]:
        session.run("ryot", "bench", name)


@nox.session(python=PYTHON[0])
def dashboard(session: nox.Session) -> None:
    """The history dashboard in headless Chromium (needs Debian's chromium + chromium-driver)."""
    install(session)
    session.install("selenium>=4.20")
    session.run("pytest", "-p", "no:cacheprovider", "-rs", "tests/history", *session.posargs)


@nox.session(python=PYTHON[0])
def fleet(session: nox.Session) -> None:
    """`ryot fleet run` on a real single-node Slurm cluster the tests start (root; Debian's
    slurmctld, slurmd, slurm-client and munge, installed when missing)."""
    install(session)
    session.run("pytest", "-p", "no:cacheprovider", "-rs", "tests/fleet", *session.posargs)


@nox.session(python=PYTHON[0])
def mutation(session: nox.Session) -> None:
    """Mutation testing (mutmut) of the verification core and the orchestrator; slow, not in CI.

    The statistics, verdicts, runner, verify, gates, precedence and the quantizer's torch
    reference (run time: docs/benchmarks.md). Each module is mutated in its own copy of the tree
    (build/mutation/); scores and every surviving mutant's diff go to results/mutation/
    (summary.md, results.json). One module or group:
    ``nox -s mutation -- ryot/core/orchestration/gates.py`` or ``nox -s mutation -- statistics``.
    """
    install(session)
    session.install("mutmut==3.8.1")
    session.run("python", "scripts/mutation.py", *session.posargs)


@nox.session(python=PYTHON[0])
def lint(session: nox.Session) -> None:
    """ruff over the whole tree."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
