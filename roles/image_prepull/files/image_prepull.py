"""Pull container images into containerd in the background, and say how far that got.

  image_prepull.py status UNIT STATE_DIR REF...  JSON: is the unit running, which REFs are missing
  image_prepull.py pull STATE_DIR SECONDS        pull every reference of STATE_DIR/images with crictl
                                                 (each attempt at most SECONDS), writing
                                                 STATE_DIR/result.json as it goes
  image_prepull.py wait UNIT STATE_DIR SECONDS REF...
                                                 wait until the unit has ended (at most SECONDS), then
                                                 JSON: the result, whether it still runs, which REFs
                                                 are missing, how long the last pull took

Run by the image_prepull role of sparklab.cluster; `pull` runs as a transient systemd unit, so it
outlives the SSH session that started it. A failed pull is recorded, never fatal: the kubelet pulls
the image again when a pod needs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ATTEMPTS = 3
PAUSE = 5


def present(ref: str) -> bool:
    try:
        proc = subprocess.run(["crictl", "inspecti", ref], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):  # no crictl yet (check mode on a fresh node)
        return False
    return proc.returncode == 0


def running(unit: str) -> bool:
    proc = subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False)
    return proc.returncode == 0


def write_result(state: Path, result: dict) -> None:
    tmp = state / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, state / "result.json")


def pull(state: Path, seconds: int) -> int:
    refs = [line.strip() for line in (state / "images").read_text().splitlines() if line.strip()]
    result: dict = {"images": refs, "started": time.time(), "finished": None, "pulled": {}, "failed": {}}
    write_result(state, result)
    for ref in refs:
        began, error = time.monotonic(), ""
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(PAUSE)
            command = ["crictl", "pull", f"--pull-timeout={seconds}s", ref]
            proc = subprocess.run(command, capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                error = ""
                break
            said = proc.stderr.strip() or proc.stdout.strip() or f"exit code {proc.returncode}"
            error = said.splitlines()[-1]
        if error:
            result["failed"][ref] = error[:400]
        else:
            result["pulled"][ref] = round(time.monotonic() - began, 1)
        write_result(state, result)
    result["finished"] = time.time()
    write_result(state, result)
    return 1 if result["failed"] else 0


def read_result(state: Path) -> dict:
    try:
        return json.loads((state / "result.json").read_text())
    except (OSError, ValueError):
        return {}


def wait(unit: str, state: Path, seconds: float, refs: list[str]) -> dict:
    deadline = time.monotonic() + seconds
    while running(unit) and time.monotonic() < deadline:
        time.sleep(2)
    result = read_result(state)
    result["running"] = running(unit)
    result["images"] = refs
    result["missing"] = [ref for ref in refs if not present(ref)]
    if result.get("started") and result.get("finished"):
        result["seconds"] = round(result["finished"] - result["started"])
    failed = result.get("failed") or {}
    result["missing_text"] = "; ".join(
        f"{ref}: {failed[ref]}" if ref in failed else ref for ref in result["missing"]
    )
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["status"] and len(argv) >= 3:
        unit, refs = argv[1], argv[3:]
        print(json.dumps({"running": running(unit), "missing": [ref for ref in refs if not present(ref)]}))
        return 0
    if argv[:1] == ["pull"] and len(argv) == 3:
        return pull(Path(argv[1]), int(argv[2]))
    if argv[:1] == ["wait"] and len(argv) >= 4:
        print(json.dumps(wait(argv[1], Path(argv[2]), float(argv[3]), argv[4:])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
