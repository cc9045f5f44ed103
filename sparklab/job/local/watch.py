"""One local driver process, watched: started in its own session, sampled every second, stopped on Ctrl-C.

Shared by every local run (``wordcount --local`` and ``submit --local``): the driver's command
and environment come from the caller; this module starts it with its output added to ``driver.log``,
runs :class:`sparklab.job.local.sampler.LocalSampler` and the live view while it runs, and on
Ctrl-C stops its whole tree (:mod:`sparklab.job.local.procs`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparklab.job.local.procs import Interrupts, reap, stop_tree
from sparklab.job.local.sampler import LocalSampler
from sparklab.job.monitor import Snapshot

STATUS_FILE = "driver-status.json"  # the launcher tells the sampler the Spark UI address here


@dataclass
class Watched:
    """How the driver ended: ``COMPLETED`` (exit 0 and ``done`` said so), ``FAILED`` or ``INTERRUPTED``."""

    state: str
    returncode: int | None
    spark_ui: str = ""


def watch_driver(cmd: Sequence[str], env: dict[str, str], run_dir: Path, view: Any,
                 done: Callable[[], bool], archive: Any = None) -> Watched:
    """Run ``cmd`` in ``run_dir`` while sampling it into ``metrics.csv`` and ``view``."""
    state = "FAILED"
    announced: dict[str, str] = {}

    def on_sample(snap: Snapshot) -> None:
        view.update(snap)
        status = sampler.status()
        if status.get("spark_ui") and "ui" not in announced:
            announced["ui"] = status["spark_ui"]
            view.set_spark_ui(status["spark_ui"])
            view.note(f"Spark UI (while the job runs, on this machine only): {status['spark_ui']}")

    with Interrupts() as interrupts, (run_dir / "driver.log").open("ab") as log:
        proc = subprocess.Popen(list(cmd), cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        sampler = LocalSampler(proc.pid, run_dir / "metrics.csv", on_sample=on_sample,
                               status_file=run_dir / STATUS_FILE)
        sampler.start()
        try:
            while proc.poll() is None and not interrupts.event.wait(0.2):
                pass
            if interrupts.event.is_set() and proc.poll() is None:
                view.note("interrupted: stopping Spark (the JVM and its Python workers)")
                sampler.seen.update(p.pid for p in sampler.tree())
                killed = stop_tree(proc, set(sampler.seen))
                state = "INTERRUPTED"
                if killed:
                    view.note(f"killed {len(killed)} process(es) that did not stop in time")
            elif proc.returncode == 0 and done():
                state = "COMPLETED"
        finally:
            sampler.stop()
            if proc.poll() is None:  # an unexpected error above: never leave the job running
                stop_tree(proc, set(sampler.seen), grace=2)
            reap(sampler.seen)
            if archive is not None:
                archive.sweep()  # an interrupted first run leaves a partial archive
            view.set_state({"COMPLETED": "completed", "INTERRUPTED": "interrupted"}.get(state, "failed"))
            view.close()
    (run_dir / STATUS_FILE).unlink(missing_ok=True)
    return Watched(state, proc.returncode, announced.get("ui", ""))
