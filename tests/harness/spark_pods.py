"""The pods of a SparkApplication, run on this machine as the operator's webhook would shape them.

What it models (spark-operator v2.5.2, ``internal/webhook/sparkpod_defaulter.go``): a driver or
executor pod gets the application's ``configMaps`` mounted at their ``path``, each ``volumeMounts``
entry with the ``spec.volumes`` volume of that name (a Secret with its ``items``, an ``emptyDir``),
its ``env``, and its ``initContainers`` appended as given, which must all exit 0 before the main
container starts. Spark's driver runs ``spark-submit`` of ``mainApplicationFile`` with
``arguments``, ``sparkConf``, ``deps.pyFiles`` and ``deps.jars``.

Here each pod is a folder: every mount path of the pod maps to a folder of it (filled from the
stored ConfigMap or Secret, or empty), every argument and environment value that starts with a
mount path is rewritten to that folder, ``python3`` is this interpreter, and the driver is the
container's command on real local Spark (``local[2]``: the executors are threads of the driver's
JVM, so an executor pod's init containers run and its folders are checked, but its tasks run in
the driver). So the manifests the role renders are run, not only read: a wrong path, a missing
mount, a Secret key an init container cannot see, or a URL that does not fetch fails the run.
Only a real cluster proves the webhook, the image and the pods themselves.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kube_api import Cluster

LOCAL = "local://"


@dataclass
class Pod:
    """A pod as folders: mount path -> local folder, and its environment."""

    root: Path
    mounts: dict[str, Path] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def local(self, value: str) -> str:
        """``value`` with a mount path prefix (``local://`` too) rewritten to the pod's folder."""
        text = value[len(LOCAL):] if value.startswith(LOCAL) else value
        for mount in sorted(self.mounts, key=len, reverse=True):
            if text == mount or text.startswith(mount.rstrip("/") + "/"):
                return str(self.mounts[mount]) + text[len(mount.rstrip("/")):]
        return value if "=" not in value else self._local_option(value)

    def _local_option(self, value: str) -> str:
        key, _, rest = value.partition("=")
        rewritten = self.local(rest)
        return f"{key}={rewritten}" if rewritten != rest else value


def _write_files(folder: Path, obj: dict, items: list[dict] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    files = {key: value.encode() for key, value in (obj.get("stringData") or {}).items()}
    for key, value in (obj.get("data") or {}).items():
        files[key] = base64.b64decode(value) if obj.get("kind") == "Secret" else value.encode()
    for key, value in (obj.get("binaryData") or {}).items():
        files[key] = base64.b64decode(value)
    chosen = ({item["key"]: item.get("path", item["key"]) for item in items} if items
              else {key: key for key in files})
    for key, path in chosen.items():
        assert key in files, f"{obj['kind']} {obj['metadata']['name']} has no key {key}"
        (folder / path).write_bytes(files[key])


def make_pod(cluster: Cluster, ns: str, app: dict, role: str, root: Path) -> Pod:
    """The folders of the ``role`` (driver or executor) pod, filled as the kubelet would."""
    spec, side = app["spec"], app["spec"][role]
    pod = Pod(root)
    for index, config_map in enumerate(side.get("configMaps") or []):
        folder = root / f"configmap-{index}"
        _write_files(folder, cluster.get(cluster.kind("configmaps"), ns, config_map["name"]))
        pod.mounts[config_map["path"]] = folder
    volumes = {volume["name"]: volume for volume in spec.get("volumes") or []}
    for mount in side.get("volumeMounts") or []:
        volume = volumes[mount["name"]]  # the webhook adds only volumes the app declares
        folder = root / "volumes" / mount["name"]
        if "secret" in volume:
            secret = cluster.get(cluster.kind("secrets"), ns, volume["secret"]["secretName"])
            _write_files(folder, secret, volume["secret"].get("items"))
        else:
            assert "emptyDir" in volume, f"volume {mount['name']}: only secret and emptyDir are modelled"
            folder.mkdir(parents=True, exist_ok=True)
        pod.mounts[mount["mountPath"]] = folder
    pod.env = {item["name"]: pod.local(str(item["value"])) for item in side.get("env") or []}
    return pod


def run_init_containers(pod: Pod, side: dict) -> tuple[int, str, str]:
    """Each init container's command in the pod's folders; the first failure's exit code, the log
    and the failed container's name ("" when all ended with 0)."""
    log = []
    for container in side.get("initContainers") or []:
        for mount in container.get("volumeMounts") or []:
            assert mount["mountPath"] in pod.mounts, \
                f"init container {container['name']}: {mount['name']} is not a volume of the pod"
        command = [*container.get("command", []), *container.get("args", [])]
        argv = [sys.executable if part == "python3" else pod.local(part) for part in command]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                              env={"PATH": os.environ["PATH"], **pod.env})
        log.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            return proc.returncode, "".join(log), container["name"]
    return 0, "".join(log), ""


def submit_args(pod: Pod, spec: dict) -> str:
    """``PYSPARK_SUBMIT_ARGS`` of what the operator passes to spark-submit, on local Spark."""
    parts = ["--master", "local[2]", "--conf", "spark.driver.host=127.0.0.1",
             "--conf", "spark.driver.bindAddress=127.0.0.1"]
    for key, value in (spec.get("sparkConf") or {}).items():
        parts += ["--conf", f"{key}={value}"]
    deps = spec.get("deps") or {}
    if deps.get("pyFiles"):
        parts += ["--py-files", ",".join(pod.local(path) for path in deps["pyFiles"])]
    if deps.get("jars"):
        parts += ["--jars", ",".join(pod.local(path) for path in deps["jars"])]
    return shlex.join([*parts, "pyspark-shell"])


@dataclass
class Ended:
    """How the driver pod ended: its exit code, its log, and the init container that failed ("")."""

    code: int
    log: str
    failed_init: str = ""


def run_application(cluster: Cluster, ns: str, app: dict) -> Ended:
    """Run the application's pods: the driver's init containers, then the executors' (which must
    fetch what the driver's fetched), then the driver; how the driver pod ended."""
    spec = app["spec"]
    with tempfile.TemporaryDirectory(prefix="sparklab-pods-") as work:
        executors = [make_pod(cluster, ns, app, "executor", Path(work) / f"exec-{index + 1}")
                     for index in range(int(spec["executor"].get("instances", 1)))]
        driver = make_pod(cluster, ns, app, "driver", Path(work) / "driver")
        code, init_log, failed = run_init_containers(driver, spec["driver"])
        if code != 0:
            return Ended(code, init_log, failed)
        for executor in executors:
            code, log, failed = run_init_containers(executor, spec["executor"])
            assert code == 0, f"executor init container {failed} failed where the driver's did not:\n{log}"
        for executor in executors:  # the same files at the same path in every pod
            if "SPARKLAB_INPUT" in driver.env:
                assert tree(Path(executor.env["SPARKLAB_INPUT"])) == tree(Path(driver.env["SPARKLAB_INPUT"]))
        env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "JAVA_HOME", "HOME", "LANG")},
               **driver.env, "PYSPARK_SUBMIT_ARGS": submit_args(driver, spec),
               "PYSPARK_PYTHON": sys.executable}
        argv = [sys.executable, driver.local(spec["mainApplicationFile"]),
                *(driver.local(arg) for arg in spec.get("arguments") or [])]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False,
                              env=env, cwd=driver.root)
        return Ended(proc.returncode, init_log + proc.stdout + proc.stderr)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def app_is_submitted(app: dict[str, Any]) -> bool:
    """A submitted application (not the bundled WordCount, which the model counts itself)."""
    arguments = [arg for arg in app["spec"].get("arguments") or [] if not arg.startswith("--")]
    return bool(arguments) and not arguments[0].endswith("/wordcount_app.py")
