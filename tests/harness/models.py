"""Rules that stand in for the controllers, kubelets and operators of a real cluster.

Each rule runs inside the stand-in API server (``kube_api.Cluster.on_create``) and writes what the
real component would write, as far as sparklab's roles and runner read it. None of them runs a
container: what they prove is that our code reads the right fields, not that the components work.
The one exception is a submitted application's pods, run as folders and processes on local Spark
by spark_pods.py, so the manifests' paths, mounts, Secrets and init containers are executed.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from kube_api import Cluster, Kind, now
from spark_pods import app_is_submitted, run_application

REPO = Path(__file__).resolve().parents[2]
# The application file the role ships to the driver: the model counts and uploads with its code.
APP_FILE = REPO / "roles" / "spark_wordcount" / "files" / "wordcount_app.py"


@functools.lru_cache(maxsize=1)
def wordcount_app() -> ModuleType:
    """roles/spark_wordcount/files/wordcount_app.py, imported (it needs pyspark only inside Spark calls)."""
    spec = importlib.util.spec_from_file_location("sparklab_harness_wordcount_app", APP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module

# The driver container name of the Spark operator (spark-on-k8s: Constants.scala DRIVER_CONTAINER_NAME).
DRIVER_CONTAINER = "spark-kubernetes-driver"
EXECUTOR_CONTAINER = "spark-kubernetes-executor"
APP_LABEL = "sparkoperator.k8s.io/app-name"


def workloads_available(cluster: Cluster, kind: Kind, obj: dict) -> None:
    """kube-controller-manager + kubelets: a workload is rolled out and Available when created;
    a CRD is Established; an APIService is Available (metrics-server answering)."""
    status: dict[str, Any] | None = None
    # Run on creation and on every update (Cluster.on_update): the controllers observe each generation.
    generation = obj.get("metadata", {}).get("generation", 1)
    if kind.plural == "deployments":
        replicas = obj["spec"].get("replicas", 1)
        status = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "observedGeneration": generation,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        }
    elif kind.plural == "statefulsets":
        replicas = obj["spec"].get("replicas", 1)
        status = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "observedGeneration": generation,
        }
    elif kind.plural == "daemonsets":
        nodes = len(cluster.list(cluster.kind("nodes"), None))
        status = {
            "desiredNumberScheduled": nodes,
            "currentNumberScheduled": nodes,
            "numberReady": nodes,
            "numberAvailable": nodes,
            "updatedNumberScheduled": nodes,
            "observedGeneration": generation,
        }
    elif kind.plural == "customresourcedefinitions":
        status = {
            "conditions": [
                {"type": "NamesAccepted", "status": "True"},
                {"type": "Established", "status": "True"},
            ],
            "acceptedNames": obj["spec"]["names"],
        }
    elif kind.plural == "apiservices":
        status = {
            "conditions": [
                {"type": "Available", "status": "True", "reason": "Passed", "lastTransitionTime": now()}
            ]
        }
    if status is not None:
        obj["status"] = status


def statefulset_pods(cluster: Cluster, kind: Kind, obj: dict) -> None:
    """The StatefulSet controller and the kubelets: pods ``<name>-0`` ... from the template, on the
    first node (a control plane first, as the pods sparklab exposes tolerate it), Running and Ready,
    so the stand-in kubelet's NodePorts answer for a Service selecting them. Pods are not removed
    with their StatefulSet (no garbage collector)."""
    if kind.plural != "statefulsets":
        return
    meta, template = obj["metadata"], obj["spec"].get("template") or {}
    nodes = cluster.list(cluster.kind("nodes"), None)
    control = [n for n in nodes if "node-role.kubernetes.io/control-plane" in n["metadata"].get("labels", {})]
    node = (control or nodes or [{"metadata": {"name": ""}}])[0]["metadata"]["name"]
    containers = (template.get("spec") or {}).get("containers") or [{"name": "main"}]
    for index in range(obj["spec"].get("replicas", 1)):
        cluster.put_object(
            "pods",
            {
                "metadata": {
                    "name": f"{meta['name']}-{index}",
                    "namespace": meta["namespace"],
                    "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                },
                "spec": {**(template.get("spec") or {}), "nodeName": node},
                "status": {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [
                        {"name": c["name"], "ready": True, "restartCount": 0, "state": {"running": {}}}
                        for c in containers
                    ],
                },
            },
        )


def pod(
    name: str,
    namespace: str,
    labels: dict,
    container: str,
    image: str,
    node: str,
    state: dict,
    phase: str,
    conditions: list[dict] | None = None,
) -> dict:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": container, "image": image}]},
        "status": {
            "phase": phase,
            "conditions": conditions or [],
            "containerStatuses": [
                {
                    "name": container,
                    "image": image,
                    "ready": "running" in state,
                    "restartCount": 0,
                    "state": state,
                }
            ]
            if state
            else [],
        },
    }


@dataclass
class SparkOperatorModel:
    """The Kubeflow Spark operator (v2.5) and Spark's driver and executors, as the role sees them.

    On a new SparkApplication it writes what the operator's controller writes (``status.applicationState``
    SUBMITTED -> RUNNING -> COMPLETED, ``driverInfo.podName``, ``lastSubmissionAttemptTime``,
    ``terminationTime``; source: ``internal/controller/sparkapplication/controller.go``), creates the driver
    and executor pods with the operator's labels. A submitted application (``runner.py submit``) runs
    for real: tests/harness/spark_pods.py runs its init containers and its driver on local Spark,
    and the driver's output is its log. For the bundled WordCount it writes a driver log ending in our
    application's
    ``SPARKLAB_RESULT {json}`` line, counted from a small fixed text with the application's own
    plain-Python word rule, and uploads the full counts through the presigned URLs with the
    application's own part writer (the real job runs on real Spark in tests/spark). ``outcome``:
    - ``completed``: the run above;
    - ``image-pull-failure``: the driver pod exists but its container never starts (ErrImagePull, then
      ImagePullBackOff); the application stays SUBMITTED, as the operator leaves it until the pod ends;
    - ``unschedulable``: the driver pod is never scheduled (PodScheduled False, Unschedulable);
    - ``failed``: the driver ends with exit code 1 and the application FAILED with an error message.
    """

    outcome: str = "completed"
    run_seconds: float = 6.0
    text: str = "the quick brown fox jumps over the lazy dog\nThe dog sleeps; the fox runs.\n" * 50
    node: str = "harness-worker-1"
    threads: list[threading.Thread] = field(default_factory=list)

    def __call__(self, cluster: Cluster, kind: Kind, obj: dict) -> None:
        if kind.group != "sparkoperator.k8s.io" or kind.plural != "sparkapplications":
            return
        thread = threading.Thread(
            target=self._run,
            args=(cluster, kind, obj["metadata"]["namespace"], obj["metadata"]["name"]),
            daemon=True,
        )
        self.threads.append(thread)
        thread.start()

    def _status(self, cluster: Cluster, kind: Kind, ns: str, name: str, status: dict) -> None:
        current = cluster.get(kind, ns, name)
        merged = {**(current.get("status") or {}), **status}
        cluster.patch(
            kind, ns, name, "application/merge-patch+json", json.dumps({"status": merged}).encode(), "status"
        )

    def _run(self, cluster: Cluster, kind: Kind, ns: str, name: str) -> None:
        time.sleep(0.3)
        app = cluster.get(kind, ns, name)
        image = app["spec"].get("image", "")
        driver = f"{name}-driver"
        labels = {
            APP_LABEL: name,
            "sparkoperator.k8s.io/launched-by-spark-operator": "true",
            **(app["spec"].get("driver", {}).get("labels") or {}),
        }
        self._status(
            cluster,
            kind,
            ns,
            name,
            {
                "applicationState": {"state": "SUBMITTED"},
                "submissionAttempts": 1,
                "lastSubmissionAttemptTime": now(),
                "driverInfo": {"podName": driver},
            },
        )

        def put_driver(node: str, state: dict, phase: str, conditions: list[dict] | None = None) -> None:
            driver_pod = pod(driver, ns, {**labels, "spark-role": "driver"}, DRIVER_CONTAINER, image, node,
                             state, phase, conditions)
            cluster.put_object("pods", driver_pod)

        if self.outcome == "unschedulable":
            put_driver("", {}, "Pending", [{
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient cpu.",
            }])
            return
        if self.outcome == "image-pull-failure":
            waiting = {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
            scheduled = [{"type": "PodScheduled", "status": "True"}]
            put_driver(self.node, {"waiting": waiting}, "Pending", scheduled)
            return
        ready = [{"type": "Ready", "status": "True"}]
        put_driver(self.node, {"running": {"startedAt": now()}}, "Running", ready)
        self._status(cluster, kind, ns, name, {"applicationState": {"state": "RUNNING"}})
        executors = [
            f"{name}-exec-{i + 1}" for i in range(int(app["spec"].get("executor", {}).get("instances", 1)))
        ]
        for executor in executors:
            cluster.put_object(
                "pods",
                pod(
                    executor,
                    ns,
                    {**labels, "spark-role": "executor"},
                    EXECUTOR_CONTAINER,
                    image,
                    self.node,
                    {"running": {"startedAt": now()}},
                    "Running",
                ),
            )
        log = [
            f"{now()} INFO SparkContext: Running Spark version 4.0.3",
            f"{now()} INFO SparkContext: Submitted application: sparklab-wordcount",
        ]
        cluster.pod_logs[(ns, driver)] = "\n".join(log) + "\n"
        if app_is_submitted(app):  # the user's application: its pods run on local Spark (spark_pods.py)
            ended = run_application(cluster, ns, app)
            if ended.failed_init:  # the pod fails before its container starts: no driver log at all
                self.init_failed(cluster, kind, ns, name, driver, labels, image, ended, executors)
                return
            exit_code = ended.code
            log.append(ended.log)
        else:
            time.sleep(self.run_seconds)
            exit_code = 1 if self.outcome == "failed" else 0
            if exit_code == 0:
                self.upload_counts(cluster, ns, app)
                result = {**self.result(app), "word_splitter": self.word_splitter(cluster, ns, app)}
                log.append(f"SPARKLAB_RESULT {json.dumps(result, sort_keys=True)}")
            else:
                log.append("Traceback (most recent call last):\nRuntimeError: input could not be read")
        cluster.pod_logs[(ns, driver)] = "\n".join(log) + "\n"
        terminated = {
            "terminated": {
                "exitCode": exit_code,
                "reason": "Completed" if exit_code == 0 else "Error",
                "finishedAt": now(),
            }
        }
        for executor in executors:
            cluster.delete(cluster.kind("pods"), ns, executor)
        put_driver(self.node, terminated, "Succeeded" if exit_code == 0 else "Failed")
        if exit_code == 0:
            final = {"applicationState": {"state": "COMPLETED"}, "terminationTime": now()}
        else:
            final = {
                "applicationState": {
                    "state": "FAILED",
                    "errorMessage": f"driver container failed with ExitCode: {exit_code}, Reason: Error",
                },
                "terminationTime": now(),
            }
        self._status(cluster, kind, ns, name, final)

    def init_failed(self, cluster: Cluster, kind: Kind, ns: str, name: str, driver: str, labels: dict,
                    image: str, ended: Any, executors: list[str]) -> None:
        """A driver pod whose init container failed (restartPolicy Never): phase Failed, the init
        container terminated with its code, the Spark container never started; the application
        FAILED. The init container's output is the pod's log (the stand-in API keeps one per pod)."""
        driver_pod = pod(driver, ns, {**labels, "spark-role": "driver"}, DRIVER_CONTAINER, image, self.node,
                         {"waiting": {"reason": "PodInitializing"}}, "Failed")
        driver_pod["status"]["initContainerStatuses"] = [{
            "name": ended.failed_init, "image": image, "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": ended.code, "reason": "Error", "finishedAt": now()}}}]
        for executor in executors:
            cluster.delete(cluster.kind("pods"), ns, executor)
        cluster.put_object("pods", driver_pod)
        cluster.pod_logs[(ns, driver)] = ended.log
        self._status(cluster, kind, ns, name, {
            "applicationState": {"state": "FAILED", "errorMessage": "driver pod failed"},
            "terminationTime": now()})

    def counts(self) -> list[tuple[str, int]]:
        """Every word of ``text`` with its count, most frequent first: the application's own word rule
        (``reference_counts``, the plain-Python twin of the rule Spark evaluates)."""
        counts = wordcount_app().reference_counts(self.text.splitlines())
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def upload_counts(self, cluster: Cluster, ns: str, app: dict) -> None:
        """The executors' CSV parts: one per presigned URL in the job's Secret, each sent by the
        application's own ``_put_part`` (``word,count`` header, ``text/csv``), as its
        ``upload_counts`` does from each Spark partition; the URLs point at the test's S3."""
        put_part = wordcount_app()._put_part
        run_id = app["metadata"].get("labels", {}).get("sparklab/run-id", "")
        for secret in cluster.list(cluster.kind("secrets"), ns, f"sparklab/run-id={run_id}") or []:
            for key, encoded in (secret.get("data") or {}).items():
                if key != "urls.json":  # WordCount's own key; inputs.json and output.json are submit's
                    continue
                urls = json.loads(base64.b64decode(encoded)).get("output_urls", [])
                rows = self.counts()
                for index in range(len(urls)):
                    list(put_part(index, rows[index :: len(urls)], urls))

    @staticmethod
    def word_splitter(cluster: Cluster, ns: str, app: dict) -> str:
        """``jvm`` when every ``deps.jars`` entry is a ``local://`` file that a ConfigMap mounted into
        both the driver and the executors holds (the operator passes ``--jars``, its webhook mounts
        ``configMaps``: ``submission.go`` and ``sparkpod_defaulter.go`` of v2.5.2; Spark's SparkSubmit
        puts a ``local:`` jar on the driver's class path when the file exists, and the executors load it
        from the same path); else ``regex``, the application's fallback."""
        jars = (app["spec"].get("deps") or {}).get("jars") or []

        def files(role: str) -> set[str]:
            found = set()
            for mount in app["spec"].get(role, {}).get("configMaps") or []:
                configmap = cluster.get(cluster.kind("configmaps"), ns, mount["name"])
                found |= {f"{mount['path'].rstrip('/')}/{key}" for key in configmap.get("binaryData") or {}}
            return found

        shipped = files("driver") & files("executor")
        local = [jar.removeprefix("local://") for jar in jars if jar.startswith("local://")]
        return "jvm" if local and len(local) == len(jars) and set(local) <= shipped else "regex"

    def result(self, app: dict) -> dict:
        """Our application's result line, counted with the application's word rule."""
        words = wordcount_app().reference_words(self.text)
        counts = self.counts()
        return {
            "version": 1,
            "top": [[w, c] for w, c in counts[:20]],
            "lines": self.text.count("\n"),
            "words": len(words),
            "distinct_words": len(counts),
            "bytes": len(self.text.encode()),
            "inputs": 1,
            "splits": 1,
            "started_at": now(),
            "finished_at": now(),
            "elapsed_seconds": self.run_seconds,
            "output": {"kind": "none"},
        }
