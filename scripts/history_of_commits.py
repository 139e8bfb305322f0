"""A history of ryot's own commits, the way `asv run main~10..main` builds one.

For each commit of RANGE (oldest first, first parent only), check it out in a temporary git
worktree, run *that commit's* `ryot accept` there (its own code measures its own optimizer
core; PYTHONPATH points at the worktree), and add the sealed report to the history with the
current ryot. A commit whose run fails to write a report is named and skipped; the others go on.

    python scripts/history_of_commits.py HEAD~10..HEAD --db results/history.sqlite
    ryot history check --db results/history.sqlite
    ryot history html --db results/history.sqlite --out results/dashboard

Reports from before `environment.subject` existed name the commit through
`environment.git_commit` (the checkout ryot ran from, which is the commit under test here).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def commits(spec: str) -> list[str]:
    if ".." not in spec:
        return [_git("rev-parse", "--verify", f"{spec}^{{commit}}")]
    return _git("rev-list", "--first-parent", "--reverse", spec).split()


def run_one(sha: str, criteria: str, quick: bool, out: Path) -> Path | None:
    """The report of ``sha``'s own `ryot accept`, or None (its output is printed)."""
    with tempfile.TemporaryDirectory(prefix="ryot-commit-") as tmp:
        tree = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", str(tree), sha)
        try:
            crit = tree / criteria
            if not crit.exists():
                print(f"{sha[:10]}: no {criteria} at this commit; skipped", file=sys.stderr)
                return None
            env = {**os.environ, "PYTHONPATH": str(tree), "RYOT_COMMIT": sha}
            cmd = [sys.executable, "-m", "ryot.cli", "accept", "--criteria", str(crit),
                   "--out", str(out / sha[:12])]
            if quick:
                cmd.append("--quick")
            done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
            report = out / sha[:12] / "report.json"
            if not report.exists():
                print(f"{sha[:10]}: no report (exit {done.returncode}):\n{done.stderr[-2000:]}",
                      file=sys.stderr)
                return None
            print(f"{sha[:10]}: exit {done.returncode}, {report}")
            return report
        finally:
            _git("worktree", "remove", "--force", str(tree))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("range", metavar="RANGE", help="a git range (main~10..main) or one commit")
    ap.add_argument("--criteria", default="examples/cheap_criteria.json",
                    help="criteria file, relative to each commit's tree "
                         "(default: examples/cheap_criteria.json)")
    ap.add_argument("--full", action="store_true", help="full budgets (default: --quick)")
    ap.add_argument("--db", default="results/history.sqlite")
    ap.add_argument("--reports", default="results/commits",
                    help="where each commit's report set is kept (default: results/commits)")
    args = ap.parse_args()
    out = Path(args.reports).resolve()
    out.mkdir(parents=True, exist_ok=True)
    reports = []
    for sha in commits(args.range):
        report = run_one(sha, args.criteria, not args.full, out)
        if report is not None:
            reports.append(str(report))
    if not reports:
        print("no commit wrote a report", file=sys.stderr)
        return 1
    return subprocess.run([sys.executable, "-m", "ryot.cli", "history", "add", "--db", args.db,
                           *reports]).returncode


if __name__ == "__main__":
    sys.exit(main())
