"""The live view in a real terminal (tmux) and in plain mode, against the metrics-API stand-in.

``live_view_session.py`` runs the wordcount verb's ClusterWatch and LiveProgress on a tmux pane
(an 80x... real pseudo-terminal, so rich draws its live panel); the test reads the screen with
``tmux capture-pane`` while the job runs and after it ends. The stand-in's job: the driver and
an executor appear, a second executor comes, the first leaves, then every pod goes, and the
application ends COMPLETED or FAILED.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from terminal import Terminal

SESSION_SCRIPT = Path(__file__).with_name("live_view_session.py")


def start(tmp_path: Path, outcome: str) -> Terminal:
    command = f"{sys.executable} {SESSION_SCRIPT} {tmp_path} {outcome}"
    return Terminal(f"sparklab-live-{tmp_path.name}", command, width=120, height=45)


@pytest.mark.parametrize("outcome", ["completed", "failed"])
def test_terminal_panel_follows_pods_that_come_and_go_and_never_hides_the_end(tmp_path, outcome):
    with start(tmp_path, outcome) as term:
        _follow(term, tmp_path, outcome)


def _follow(term: Terminal, tmp_path: Path, outcome: str) -> None:
    # Mid-run: both nodes against their allocatable, the driver, two executors summed and each
    # one on its own line, sparklines, the state, bytes read from the Spark UI, the UI address.
    mid = term.wait(lambda s: "executor (2 pods)" in s and "running" in s)
    assert "node ip-10-42-0-10" in mid and "/ 1.93" in mid and "/ 7.4 GiB" in mid
    assert "node ip-10-42-0-11" in mid and "/ 2 " in mid and "/ 8.0 GiB" in mid
    assert "driver (1 pod)" in mid
    assert "-ab12-exec-1 " in mid and "-ab12-exec-2 " in mid  # pod names, shortened from the left
    # exec-1 uses 1.4 to 1.7 cores on ticks 4-7, exec-2 1.5, each with a 1m sidecar.
    assert any(f"{cores:.2f}" in mid for cores in (2.902, 3.002, 3.102, 3.202))
    assert any(ch in mid for ch in "▁▂▃▄▅▆▇█")
    assert "read " in mid and " MB" in mid and "tasks " in mid
    ui = (tmp_path / "ui-announced").read_text()
    assert ui.startswith("http://127.0.0.1:") and f"Spark UI {ui}" in mid
    assert "task: wordcount | wait | Wait for COMPLETED or FAILED" in mid
    # Later: exec-1 has left, exec-2 alone.
    later = term.wait(lambda s: "executor (1 pod)" in s and "running" in s)
    assert "exec-1" not in later
    # The end: the panel's last state stays on screen, with every line printed above it.
    end = term.wait(lambda s: "session over" in s)
    assert f"{outcome} · " in end, end
    assert "no pod any more" in end, end
    assert f"Spark UI: {ui}" in end
    if outcome == "failed":
        assert "FAILED wordcount | collect | Fail with the reason" in end
        assert "Reason: driver container failed" in end and "SPARKLAB_ERROR" in end


def test_plain_mode_prints_one_compact_line_per_sample(tmp_path):
    proc = subprocess.run([sys.executable, str(SESSION_SCRIPT), str(tmp_path), "failed", "--plain"],
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    samples = [line for line in lines if line.startswith("[") and " | " in line]
    csv_times = {row.split(",")[0] for row in (tmp_path / "metrics.csv").read_text().splitlines()[1:]}
    failed_samples = [line for line in samples if "sample error" in line]
    assert len(samples) == len(csv_times) + len(failed_samples) and len(failed_samples) == 1
    assert "\x1b[" not in proc.stdout  # no terminal control sequence
    assert any("executor (2 pods) cpu" in line and "ip-10-42-0-11 cpu" in line for line in samples)
    assert any(line.split("] ", 1)[1].startswith("running") for line in samples)
    assert samples[-1].split("] ", 1)[1].startswith("failed")
    assert any(line.startswith("FAILED wordcount | collect") for line in lines)
    assert lines.index(next(line for line in lines if line.startswith("Spark UI: "))) > 0
