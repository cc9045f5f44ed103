"""What ``runner.py wordcount`` shows beside the playbook, run in a terminal by test_live_view.py.

Starts the stand-in of tests/spark/metrics_standin.py, then the same
:class:`sparklab.job.live.view.ClusterWatch` and :class:`sparklab.job.live.view.LiveProgress` that
the wordcount verb uses, on this process's terminal. The playbook's events are fed to the progress
as ansible-runner would: a task start, and at the end either nothing (completed) or the failure that
the collect step raises (reason and driver-log tail). Usage: ``python live_view_session.py <folder>
completed|failed [--plain]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import metrics_standin as standin  # noqa: E402

from sparklab.job.live.view import ClusterWatch, LiveProgress, make_live_view  # noqa: E402

FAILURE = ("WordCount wordcount-20261127-090000-ab12 ended in state FAILED. Reason: driver container "
           "failed with ExitCode: 1, Reason: Error | Last lines of the driver log: "
           "SPARKLAB_ERROR {\"error\": \"OSError: server ignored the byte range\"}")


def pods(tick: int) -> list[dict]:
    """The driver from tick 1; exec-1 on ticks 2-7, exec-2 from tick 4: two executors on 4-7."""
    found = []
    if tick >= 1:
        found.append(standin.pod(f"{standin.APP}-driver", "driver", f"{300 + 10 * tick}m", "700Mi"))
    if 2 <= tick <= 7:
        found.append(standin.pod(f"{standin.APP}-exec-1", "executor", f"{1000 + 100 * tick}m", "1Gi"))
    if tick >= 4:
        found.append(standin.pod(f"{standin.APP}-exec-2", "executor", "1500m", "2Gi"))
    return found


def main() -> int:
    folder, outcome = Path(sys.argv[1]), sys.argv[2]
    plain = "--plain" in sys.argv
    final = "COMPLETED" if outcome == "completed" else "FAILED"
    script = standin.Script(pods=pods, state_at={1: "SUBMITTED", 3: "RUNNING", 14: final}, stop_pods_at=12,
                            error_message="driver container failed" if final == "FAILED" else "",
                            fail_node_call=6)
    with standin.metrics_api(folder, script) as (server, kubeconfig, base):
        view = make_live_view(f"sparklab wordcount {standin.APP}", force_plain=plain)
        progress = LiveProgress(view)
        progress.start_phase("wordcount", 1, 1)
        progress.event({"event": "playbook_on_task_start",
                        "event_data": {"task": "wait | Wait for COMPLETED or FAILED, at most seconds 1800"}})
        watch = ClusterWatch(view, kubeconfig, standin.NAMESPACE, standin.APP, folder / "metrics.csv",
                             spark_ui_url=f"{base}/", interval=1.5,
                             on_spark_ui=lambda url: (folder / "ui-announced").write_text(url))
        watch.start()
        deadline = time.time() + 120
        while server.state["pod_calls"] < 16 and time.time() < deadline:
            time.sleep(0.1)
        if final == "FAILED":
            progress.event({"event": "playbook_on_task_start", "event_data": {
                "task": "collect | Fail with the reason and the end of the driver log"}})
            progress.event({"event": "runner_on_failed", "event_data": {
                "host": "localhost", "task": "collect | Fail with the reason and the end of the driver log",
                "res": {"msg": FAILURE}}})
        watch.stop()
        progress.end_phase("failed" if final == "FAILED" else "successful")
        view.close()
    print(f"session over: {outcome}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
