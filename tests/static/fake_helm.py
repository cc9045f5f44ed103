#!/usr/bin/env python3
"""A stand-in for the cluster-facing part of the helm CLI, enough for kubernetes.core.helm to install
and upgrade without a Kubernetes API server.

What needs no cluster is handed to the real helm binary named by ``SPARKLAB_REAL_HELM``:
``version`` (so the module takes its Helm 4 code paths) and ``show chart`` (so every chart name and
version comes from the chart itself, read by helm). What needs a cluster is modelled: ``list``,
``get values`` and ``upgrade`` keep the releases in ``releases.json`` next to this file, and every
command line received is appended to ``calls.log`` there, so a test sees exactly what the module
asked helm to do. ``upgrade`` records the chart as the real ``helm show chart`` describes it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
STATE = HERE / "releases.json"
CALLS = HERE / "calls.log"


def load() -> dict:
    return json.loads(STATE.read_text()) if STATE.exists() else {}


def save(state: dict) -> None:
    STATE.write_text(json.dumps(state, indent=1, sort_keys=True))


def flag(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(args):
            return args[i + 1]
    return None


def real_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [os.environ["SPARKLAB_REAL_HELM"], *args], capture_output=True, text=True, check=False
    )


def chart_info(ref: str) -> dict:
    proc = real_helm("show", "chart", ref)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    return yaml.safe_load(proc.stdout)


def positional(args: list[str]) -> list[str]:
    """Arguments that are not flags (values of flags given as --flag=value are skipped)."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in ("--timeout", "--filter", "--version", "--repo", "--namespace", "-n")
        else:
            out.append(arg)
    return out


def main(argv: list[str]) -> None:
    with CALLS.open("a") as fd:
        fd.write(shlex.join(argv) + "\n")
    words = positional(argv)
    state = load()
    if words[:1] == ["version"] or words[:2] == ["show", "chart"]:
        proc = real_helm(*argv)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        sys.exit(proc.returncode)
    elif words[:2] == ["plugin", "list"]:
        print("NAME\tVERSION\tDESCRIPTION")
    elif words[:1] == ["list"]:
        name = flag(argv, "--filter")
        print(yaml.safe_dump([r["status"] for n, r in state.items() if n == name]))
    elif words[:2] == ["get", "values"]:
        print(yaml.safe_dump(state[words[2]]["values"]) if state[words[2]]["values"] else "null")
    elif words[:1] == ["upgrade"]:
        name, ref = words[1], words[2]
        info = chart_info(ref)
        values_file = flag(argv, "-f")
        values = yaml.safe_load(Path(values_file).read_text()) if values_file else {}
        revision = state.get(name, {}).get("status", {}).get("revision", 0) + 1
        state[name] = {
            "argv": argv,
            "kubeconfig_set": bool(os.environ.get("KUBECONFIG")),
            "values": values,
            "status": {
                "name": name,
                "namespace": os.environ.get("HELM_NAMESPACE", ""),
                "revision": revision,
                "status": "deployed",
                "chart": f"{info['name']}-{info['version']}",
                "app_version": str(info.get("appVersion", "")),
            },
        }
        save(state)
        print(f'Release "{name}" has been upgraded. Happy Helming!')
    else:
        sys.exit(f"fake helm: unsupported command {argv!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
