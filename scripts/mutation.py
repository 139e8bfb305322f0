"""Mutation testing of the verification core and the orchestrator (issue #13), with mutmut.

    python scripts/mutation.py                       # every module below (slow: docs/benchmarks.md)
    # one module (or a group: statistics, ...)
    python scripts/mutation.py ryot/core/orchestration/gates.py
    python scripts/mutation.py --reuse statistics    # re-read build/mutation/ (no new run)
    # the same in a fresh nox environment
    nox -s mutation -- ryot/core/orchestration/gates.py

mutmut writes ``mutants/`` beside the code it mutates, so each module is run in its own copy of
the working tree under ``build/mutation/<module>/`` (git-ignored; kept afterwards, so
``cd build/mutation/ryot_gates && mutmut show NAME`` works). Each module runs only the tests
that exercise it, at a derandomized Hypothesis profile (``mutation``), so a rerun gives the same
result. Of ``ryot/core/kernels/quantize.py`` only the torch reference counts: mutmut skips the
``@triton.jit`` kernels by itself (it never mutates decorated functions), and the mutants it
makes of the Triton launchers (``quantize_triton``, ...) are neither run nor counted, because
only the reference functions are named to ``mutmut run``.

Results go to ``results/mutation/``: ``results.json`` (per module: counts, score, and every
surviving mutant with its diff) and ``summary.md``. A survivor listed in
``scripts/mutation_equivalents.json`` (name, the mutated line, and why no test can tell it from
the original) counts as *equivalent*: the adjusted score leaves it out. An entry whose mutated
line no longer matches (the source changed and mutmut renumbered its mutants) is ignored, and
the mutant counts as surviving until the list is updated.

Scores: raw = killed / mutants; adjusted = killed / (mutants - equivalent). A timeout counts as
killed (the mutant made the tests hang, which a test run notices); "no tests" (no selected test
calls the function) counts as surviving.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "scripts" / "mutation_equivalents.json"

ENGINE_TESTS = (  # the tests of the verification engine that exercise the statistics
    "tests/verification/test_calibration.py",
    "tests/verification/test_verdicts.py",
    "tests/verification/test_runner.py",
    "tests/measure/test_samples.py",
    "properties/test_statistics.py",
)
STATISTICS_TESTS = (*ENGINE_TESTS, "tests/stats/test_intervals.py",
                    "tests/stats/test_sequential.py", "tests/stats/test_stationarity.py")
VERDICT_TESTS = (*ENGINE_TESTS,)


@dataclass(frozen=True)
class Target:
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()  # mutate only these functions (default: the whole module)


MODULES: dict[str, Target] = {
    "ryot/stats/intervals.py": Target(STATISTICS_TESTS),
    "ryot/stats/sequential.py": Target(STATISTICS_TESTS),
    "ryot/stats/stationarity.py": Target(STATISTICS_TESTS),
    "ryot/verification/verdicts.py": Target(VERDICT_TESTS),
    "ryot/verification/runner.py": Target((
        *VERDICT_TESTS, "tests/verification/test_evaluate.py",
        "tests/verification/test_accept_faults.py")),
    "ryot/verification/verify.py": Target((
        "tests/verification/test_verify_forgeries.py", "tests/verification/test_accept_faults.py",
        "tests/verification/test_verify.py", "properties/test_statistics.py")),
    "ryot/core/orchestration/gates.py": Target((
        "tests/core/orchestration/test_gates.py", "properties/test_gates.py")),
    "ryot/core/orchestration/precedence.py": Target((
        "tests/core/orchestration/test_precedence.py", "properties/test_resolution.py")),
    "ryot/core/kernels/quantize.py": Target(
        ("tests/core/quant/test_blockwise.py", "tests/core/kernels/test_quantize_kernel.py"),
        functions=("qmax", "quantize_blocks", "dequantize_blocks", "pack_int4", "unpack_int4")),
}
GROUPS = {
    "statistics": ("ryot/stats/intervals.py", "ryot/stats/sequential.py",
                   "ryot/stats/stationarity.py"),
    "verdicts": ("ryot/verification/verdicts.py",),
    "gates": ("ryot/core/orchestration/gates.py",),
    "precedence": ("ryot/core/orchestration/precedence.py",),
    "runner": ("ryot/verification/runner.py",),
    "verify": ("ryot/verification/verify.py",),
    "quantizer reference": ("ryot/core/kernels/quantize.py",),
}
GOAL = {"statistics": 0.90, "verdicts": 0.90, "gates": 0.90, "precedence": 0.90}

# copied into each scratch tree (beside ryot/): what the tests read
ALSO_COPY = ("schemas", "success_criteria.json", "conftest.py", "properties", "examples",
             "acceptance", "benchmarks")
NOT_COPIED = (".git", ".nox", ".venv", "build", "dist", "results", "mutants", ".asv", ".hypothesis",
              ".pytest_cache", ".ruff_cache", "__pycache__", "*.egg-info", "htmlcov", ".whl")
# A mutant that makes the tests run this many times longer than the clean run (CPU time) is a
# timeout (counted as killed); mutmut's default of 15 spends most of a run waiting on a few.
TIMEOUT_MULTIPLIER = 4.0
PYTEST_ARGS = ("-x", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-m", "not slow",
               "--hypothesis-profile=mutation")
KILLED = ("killed", "timeout")


def slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", "_")


def dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def toml_list(items) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(module: str, target: Target, work: Path) -> Path:
    """A fresh copy of the working tree with a [tool.mutmut] section for ``module``."""
    scratch = work / slug(module)
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(ROOT, scratch, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    pyproject = scratch / "pyproject.toml"
    tests = [t for t in target.tests if (scratch / t).exists()]
    pyproject.write_text(pyproject.read_text() + f"""
[tool.mutmut]
source_paths = ["ryot"]
only_mutate = [{json.dumps(module)}]
pytest_add_cli_args_test_selection = {toml_list(tests)}
pytest_add_cli_args = {toml_list(PYTEST_ARGS)}
also_copy = {toml_list(a for a in ALSO_COPY if (scratch / a).exists())}
timeout_multiplier = {TIMEOUT_MULTIPLIER}
""")
    return scratch


def mutmut(scratch: Path, *args: str, log: Path | None = None) -> str:
    """Run mutmut in ``scratch``; its output is returned, or written to ``log``."""
    env = {**os.environ, "TRITON_INTERPRET": os.environ.get("TRITON_INTERPRET", "1")}
    with open(log, "w") if log else open(os.devnull, "w") as sink:
        done = subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=scratch, env=env,
                              check=False, text=True, stderr=subprocess.STDOUT,
                              stdout=sink if log else subprocess.PIPE)
    output = log.read_text(errors="replace") if log else done.stdout
    if done.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(args)} failed in {scratch} (exit {done.returncode}):\n"
                         f"{output[-4000:]}")
    return output


def function_of(name: str, module: str) -> str | None:
    """``ryot.core.orchestration.gates.x_check_gate__mutmut_3`` -> ``check_gate``; methods
    (mutmut writes ``xǁClassǁmethod``) -> ``Class.method``; None for another module's mutant."""
    head = dotted(module) + ".x"
    if not name.startswith(head):
        return None
    fn = re.sub(r"__mutmut_\d+$", "", name[len(head):])
    return fn[1:] if fn.startswith("_") else fn.strip("ǁ").replace("ǁ", ".")


def load_equivalents() -> dict[str, dict]:
    """mutant name -> {"mutated": line, "reason": why}, from the grouped list."""
    if not EQUIVALENTS.exists():
        return {}
    out = {}
    for group in json.loads(EQUIVALENTS.read_text())["groups"]:
        for name, line in group["mutants"].items():
            out[name] = {"mutated": line, "reason": group["reason"]}
    return out


def added_lines(diff: str) -> list[str]:
    return [line[1:].strip() for line in diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")]


def run_module(module: str, target: Target, work: Path, max_children: int,
               equivalents: dict[str, dict], reuse: dict | None = None) -> dict:
    """Mutate ``module`` in a fresh copy; with ``reuse`` (its previous result), only re-read the
    results of the copy already there (e.g. after ``mutmut run NAME`` in it)."""
    if reuse is None:
        scratch = prepare(module, target, work)
        patterns = [f"{dotted(module)}.x_{f}*" for f in target.functions]
        started = time.monotonic()
        mutmut(scratch, "run", "--max-children", str(max_children), *patterns,
               log=scratch / "mutmut-run.log")
        seconds = time.monotonic() - started
    else:
        scratch, seconds = work / slug(module), reuse.get("seconds", 0)
    statuses = {}
    for line in mutmut(scratch, "results", "--all", "true").splitlines():
        name, sep, status = line.strip().rpartition(": ")
        fn = function_of(name, module) if sep else None
        if fn is not None and (not target.functions or fn in target.functions):
            statuses[name] = status
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    survivors, equivalent, stale = [], [], []
    for name in sorted(statuses, key=_natural):
        if statuses[name] in KILLED:
            continue
        diff = mutmut(scratch, "show", name).split("\n", 1)[-1].strip()
        entry = {"name": name, "status": statuses[name], "diff": diff}
        listed = equivalents.get(name)
        if listed and listed["mutated"].strip() in added_lines(diff):
            equivalent.append({**entry, "reason": listed["reason"]})
        else:
            if listed:
                stale.append(name)
            survivors.append(entry)
    total = len(statuses)
    killed = sum(counts.get(s, 0) for s in KILLED)
    return {
        "module": module, "tests": list(target.tests), "functions": list(target.functions),
        "seconds": round(seconds), "mutants": total, "counts": counts, "killed": killed,
        "equivalent": len(equivalent), "surviving": len(survivors),
        "raw_score": killed / total if total else None,
        "adjusted_score": killed / (total - len(equivalent)) if total > len(equivalent) else None,
        "survivors": survivors, "equivalents": equivalent, "stale_equivalents": stale,
    }


def _natural(name: str):
    head, _, number = name.rpartition("__mutmut_")
    return head, int(number) if number.isdigit() else 0


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def group_rows(results: dict[str, dict]) -> list[dict]:
    rows = []
    for group, modules in GROUPS.items():
        got = [results[m] for m in modules if m in results and "error" not in results[m]]
        if not got:
            continue
        total = sum(r["mutants"] for r in got)
        killed = sum(r["killed"] for r in got)
        eq = sum(r["equivalent"] for r in got)
        rows.append({"group": group, "mutants": total, "killed": killed, "equivalent": eq,
                     "raw_score": killed / total if total else None,
                     "adjusted_score": killed / (total - eq) if total > eq else None,
                     "goal": GOAL.get(group)})
    return rows


def summary_markdown(doc: dict) -> str:
    lines = [f"# Mutation testing ({doc['mutmut']}, {doc['cpu']})", "",
             f"Command: `{doc['command']}`", "",
             "| module | mutants | killed | timeout | survived | no tests | equivalent | raw "
             "| adjusted | time |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in doc["modules"].values():
        if "error" in r:
            lines.append(f"| `{r['module']}` | failed: see below | | | | | | | | |")
            continue
        c = r["counts"]
        lines.append(f"| `{r['module']}`"
                     f"{' (' + ', '.join(r['functions']) + ')' if r['functions'] else ''} "
                     f"| {r['mutants']} | {c.get('killed', 0)} | {c.get('timeout', 0)} "
                     f"| {c.get('survived', 0)} | {c.get('no tests', 0)} | {r['equivalent']} "
                     f"| {pct(r['raw_score'])} | {pct(r['adjusted_score'])} | {r['seconds']} s |")
    lines += ["", "| group | mutants | killed | equivalent | raw | adjusted | goal |",
              "|---|---|---|---|---|---|---|"]
    for g in doc["groups"]:
        lines.append(f"| {g['group']} | {g['mutants']} | {g['killed']} | {g['equivalent']} "
                     f"| {pct(g['raw_score'])} | {pct(g['adjusted_score'])} | {pct(g['goal'])} |")
    for r in doc["modules"].values():
        if "error" in r:
            lines += ["", f"## `{r['module']}` did not run", "```", r["error"], "```"]
            continue
        if r["stale_equivalents"]:
            lines += ["", f"Listed as equivalent but the mutation changed (recheck): "
                          f"{', '.join(r['stale_equivalents'])}"]
        if r["survivors"]:
            lines += ["", f"## Surviving in `{r['module']}` ({len(r['survivors'])})", ""]
            for s in r["survivors"]:
                lines += [f"### {s['name']} ({s['status']})", "```diff", s["diff"], "```"]
    return "\n".join(lines) + "\n"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} CPUs"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*",
                        help="modules (ryot/core/orchestration/gates.py) or groups (statistics); "
                             "default: all")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "mutation")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "mutation")
    parser.add_argument("--reuse", action="store_true",
                        help="do not run mutmut: re-read the results in --work (after a manual "
                             "`mutmut run NAMES` there, or a change to the equivalent list)")
    args = parser.parse_args(argv)
    chosen: list[str] = []
    for name in args.modules or list(MODULES):
        for m in GROUPS.get(name, (name,)):
            if m not in MODULES:
                parser.error(f"unknown module or group {m!r}; "
                             f"known: {', '.join([*MODULES, *GROUPS])}")
            if m not in chosen:
                chosen.append(m)
    equivalents = load_equivalents()
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / "results.json"
    # results of modules not rerun this time are kept, so a one-module run updates the summary
    kept = json.loads(previous.read_text())["modules"] if previous.exists() else {}
    results = {m: kept[m] for m in MODULES if m in kept and m not in chosen}
    from importlib.metadata import version
    for module in chosen:
        print(f"== mutation testing {module}", flush=True)
        if args.reuse and module not in kept:
            parser.error(f"--reuse: no previous result for {module} in {previous}")
        try:
            results[module] = run_module(module, MODULES[module], args.work, args.max_children,
                                         equivalents, kept[module] if args.reuse else None)
        except SystemExit as failed:  # e.g. the clean test run failed: record it, go on
            results[module] = {"module": module, "error": str(failed)[-4000:]}
            print(f"== {module}: FAILED\n{failed}", flush=True)
        else:
            r = results[module]
            print(f"== {module}: {r['killed']}/{r['mutants']} killed, {r['equivalent']} "
                  f"equivalent, {r['surviving']} surviving (raw {pct(r['raw_score'])}, "
                  f"adjusted {pct(r['adjusted_score'])}) in {r['seconds']} s", flush=True)
        results = {m: results[m] for m in MODULES if m in results}
        doc = {"mutmut": f"mutmut {version('mutmut')}", "cpu": cpu_name(),
               "command": "nox -s mutation"
                          + (" -- " + " ".join(args.modules) if args.modules else ""),
               "modules": results, "groups": group_rows(results)}
        previous.write_text(json.dumps(doc, indent=1) + "\n")
        (args.out / "summary.md").write_text(summary_markdown(doc))
    print(f"results: {args.out / 'summary.md'}, {previous}")
    return 1 if any("error" in results[m] for m in chosen) else 0


if __name__ == "__main__":
    sys.exit(main())
