"""The fleet: the same criteria on several machine kinds, one merged verdict.

| module | one job |
|---|---|
| ``spec.py`` | the fleet file, validated, and its plan (jobs per kind × shard) |
| ``executors.py`` | where jobs run: a small interface and its submitit backend (Slurm or local) |
| ``job.py`` | what runs inside a job: the ordinary ``ryot accept`` |
| ``run.py`` | ``ryot fleet run``: submit, follow, retry, cancel, merge, write |
| ``merge.py`` | the sealed fleet report: parts untouched, the matrix, the fleet verdicts |
| ``verify.py`` | re-deriving a fleet report (``ryot verify``) |
| ``render.py`` | report.md and junit.xml of the matrix |
"""

__all__: list[str] = []
