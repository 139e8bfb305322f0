"""A real single-node Slurm cluster for the fleet tests (munge, slurmctld, slurmd from Debian's
packages; two partitions, ``kind-a`` and ``kind-b``, stand for two machine kinds).

:func:`start` installs the packages when they are missing (root and apt needed), writes
``/etc/slurm/slurm.conf`` (only when absent or written by this module: a configuration someone
else wrote is never touched), starts the daemons as plain processes (no systemd) and waits until
both partitions are idle. It returns None with the reason when the machine cannot.
``python tests/fleet/slurm_cluster.py`` starts one by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["MARK", "start", "stop"]

MARK = "# written by ryot's tests/fleet/slurm_cluster.py"
CONF = Path("/etc/slurm/slurm.conf")
PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")


def _conf() -> str:
    mem_mib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal"))) // 1024
    cpus = os.cpu_count() or 1
    memory = max(mem_mib - 2048, 1024)
    return f"""{MARK}
ClusterName=ryotci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
MpiDefault=none
OverTimeLimit=0
KillWait=5
InactiveLimit=0
MinJobAge=300
DefMemPerCPU={memory // cpus}
NodeName=localhost CPUs={cpus} RealMemory={memory} Features=cpu-a,cpu-b State=UNKNOWN
PartitionName=kind-a Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=kind-b Nodes=localhost MaxTime=INFINITE State=UP
"""


def _run(*cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _idle() -> bool:
    if not shutil.which("sinfo"):
        return False
    try:
        out = _run("sinfo", "-h", "-o", "%P %T", timeout=10).stdout
    except subprocess.TimeoutExpired:
        return False
    states = dict(line.split()[:2] for line in out.splitlines() if line.strip())
    return all(states.get(p, "").startswith(("idle", "mix", "alloc"))
               for p in ("kind-a*", "kind-b"))


def _install() -> str | None:
    if all(shutil.which(b) for b in ("slurmctld", "slurmd", "sbatch", "munged")):
        return None
    if not shutil.which("apt-get"):
        return "Slurm is not installed and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *PACKAGES]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        if done.returncode:
            return f"{' '.join(cmd)} failed: {done.stderr.strip()[-300:]}"
    return None


def start() -> tuple[bool, str | None]:
    """(started_here, why_not): a cluster is up when ``why_not`` is None. Safe to call from
    several test processes at once (pytest-xdist): one starts it, the others wait and use it."""
    import fcntl

    with open("/tmp/ryot-slurm-cluster.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start()


def _start() -> tuple[bool, str | None]:
    if CONF.exists() and MARK not in CONF.read_text(errors="replace"):
        return False, f"{CONF} was not written by ryot's tests: not touching a real cluster"
    if CONF.exists() and _idle():  # ours, already up: brought up to this configuration
        if CONF.read_text() != _conf():
            CONF.write_text(_conf())
            _run("scontrol", "reconfigure")
        return False, None
    if os.geteuid() != 0:
        return False, "starting Slurm needs root (munge key, daemons)"
    why = _install()
    if why:
        return False, why
    for d in ("/etc/slurm", "/var/spool/slurmctld", "/var/spool/slurmd", "/var/log/slurm",
              "/run/munge", "/var/log/munge", "/var/lib/munge"):
        Path(d).mkdir(parents=True, exist_ok=True)
    key = Path("/etc/munge/munge.key")
    if not key.exists() or key.stat().st_size < 32:
        key.write_bytes(os.urandom(1024))
    shutil.chown(key, "munge", "munge")
    key.chmod(0o400)
    for d in ("/run/munge", "/var/log/munge", "/var/lib/munge"):
        shutil.chown(d, "munge", "munge")
    CONF.write_text(_conf())
    if _run("pgrep", "-x", "munged").returncode:
        done = _run("runuser", "-u", "munge", "--", "/usr/sbin/munged")
        if done.returncode:
            return False, f"munged did not start: {done.stderr.strip()[-300:]}"
    for daemon in ("slurmctld", "slurmd"):
        if _run("pgrep", "-x", daemon).returncode:
            done = _run(f"/usr/sbin/{daemon}")
            if done.returncode:
                return False, f"{daemon} did not start: {done.stderr.strip()[-300:]}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _idle():
            return True, None
        time.sleep(1)
        _run("scontrol", "update", "nodename=localhost", "state=resume")
    return True, "the partitions did not become idle in 60 s (see /var/log/slurm/)"


def stop() -> None:
    """Stop the cluster (by hand: the tests leave it running, since another test process may
    still be using it; munged is left, it is harmless)."""
    _run("scancel", "--user", "root")
    _run("scontrol", "shutdown")


if __name__ == "__main__":
    started, why = start()
    print(why or f"Slurm is up ({'started' if started else 'already running'}): "
          + _run("sinfo").stdout)
    sys.exit(1 if why else 0)
