"""Rules that stand in for the controllers, kubelets and operators of a real cluster.

Each rule runs inside the stand-in API server (``kube_api.Cluster.on_create``) and writes what the
real component would write, as far as sparklab's roles and runner read it. None of them runs a
container: what they prove is that our code reads the right fields, not that the components work.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kube_api import Cluster, Kind, now

# The driver container name of the Spark operator (spark-on-k8s: Constants.scala DRIVER_CONTAINER_NAME).
DRIVER_CONTAINER = "spark-kubernetes-driver"
EXECUTOR_CONTAINER = "spark-kubernetes-executor"
APP_LABEL = "sparkoperator.k8s.io/app-name"


def workloads_available(cluster: Cluster, kind: Kind, obj: dict) -> None:
    """kube-controller-manager + kubelets: a workload is rolled out and Available when created;
    a CRD is Established; an APIService is Available (metrics-server answering)."""
    status: dict[str, Any] | None = None
    if kind.plural == "deployments":
        replicas = obj["spec"].get("replicas", 1)
        status = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "observedGeneration": 1,
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
            "observedGeneration": 1,
        }
    elif kind.plural == "daemonsets":
        nodes = len(cluster.list(cluster.kind("nodes"), None))
        status = {
            "desiredNumberScheduled": nodes,
            "currentNumberScheduled": nodes,
            "numberReady": nodes,
            "numberAvailable": nodes,
            "updatedNumberScheduled": nodes,
            "observedGeneration": 1,
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
    and executor pods with the operator's labels, and a driver log ending in our application's
    ``SPARKLAB_RESULT {json}`` line, counted in plain Python from a small fixed text (the real job runs
    on real Spark in tests/spark). ``outcome``:
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
        if self.outcome == "unschedulable":
            unscheduled = pod(
                driver,
                ns,
                {**labels, "spark-role": "driver"},
                DRIVER_CONTAINER,
                image,
                "",
                {},
                "Pending",
                [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/3 nodes are available: 3 Insufficient cpu.",
                    }
                ],
            )
            cluster.put_object("pods", unscheduled)
            return
        if self.outcome == "image-pull-failure":
            cluster.put_object(
                "pods",
                pod(
                    driver,
                    ns,
                    {**labels, "spark-role": "driver"},
                    DRIVER_CONTAINER,
                    image,
                    self.node,
                    {
                        "waiting": {
                            "reason": "ImagePullBackOff",
                            "message": f'Back-off pulling image "{image}"',
                        }
                    },
                    "Pending",
                    [{"type": "PodScheduled", "status": "True"}],
                ),
            )
            return
        cluster.put_object(
            "pods",
            pod(
                driver,
                ns,
                {**labels, "spark-role": "driver"},
                DRIVER_CONTAINER,
                image,
                self.node,
                {"running": {"startedAt": now()}},
                "Running",
                [{"type": "Ready", "status": "True"}],
            ),
        )
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
        time.sleep(self.run_seconds)
        exit_code = 1 if self.outcome == "failed" else 0
        if exit_code == 0:
            self.upload_counts(cluster, ns, app)
            log.append(f"SPARKLAB_RESULT {json.dumps(self.result(app), sort_keys=True)}")
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
        cluster.put_object(
            "pods",
            pod(
                driver,
                ns,
                {**labels, "spark-role": "driver"},
                DRIVER_CONTAINER,
                image,
                self.node,
                terminated,
                "Succeeded" if exit_code == 0 else "Failed",
            ),
        )
        if exit_code == 0:
            final = {"applicationState": {"state": "COMPLETED"}, "terminationTime": now()}
        else:
            final = {
                "applicationState": {
                    "state": "FAILED",
                    "errorMessage": "driver container failed with ExitCode: 1, Reason: Error",
                },
                "terminationTime": now(),
            }
        self._status(cluster, kind, ns, name, final)

    def counts(self) -> list[tuple[str, int]]:
        words = re.findall(r"[^\W_]+", self.text.lower())
        return sorted(Counter(words).items(), key=lambda kv: (-kv[1], kv[0]))

    def upload_counts(self, cluster: Cluster, ns: str, app: dict) -> None:
        """The executors' CSV parts (``word,count`` with a header), one PUT per presigned URL in the
        job's Secret, as our application's ``upload_counts`` does; the URLs point at the test's S3."""
        for secret in (
            cluster.list(
                cluster.kind("secrets"),
                ns,
                f"sparklab/run-id={app['metadata'].get('labels', {}).get('sparklab/run-id', '')}",
            )
            or []
        ):
            for encoded in (secret.get("data") or {}).values():
                urls = json.loads(base64.b64decode(encoded)).get("output_urls", [])
                rows = self.counts()
                for index, url in enumerate(urls):
                    part = rows[index :: len(urls)]
                    body = "word,count\n" + "".join(f"{w},{c}\n" for w, c in part)
                    request = urllib.request.Request(url, data=body.encode(), method="PUT")
                    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - test S3 on 127.0.0.1
                        pass

    def result(self, app: dict) -> dict:
        """Our application's result line, counted with the word rule in plain Python."""
        words = [w for w in re.findall(r"[^\W_]+", self.text.lower())]
        counts = Counter(words)
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        return {
            "version": 1,
            "top": [[w, c] for w, c in top],
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
