"""Every Helm release, rendered and linted by the real helm (v4.1.4, the version the helm role installs)
with the values and namespace our roles pass, and every rendered object validated.

The release data is computed by Ansible: one play on localhost loads the release files of
playbooks/vars/releases/ and the defaults and vars of the roles that own the add-on releases
(the files playbooks/cluster.yml and playbooks/addons.yml load; rebuilt here, not captured from a
run of the helm_release role, whose arguments at run time are not seen by this test), the
helm_release role's own vars (the wait, atomic, timeout and namespace defaults it applies), the
dashboard Service and the Spark job Namespace rendered from their role templates, and the
SparkApplication rendered by the spark_wordcount role. The charts are the pinned upstream trees
(tests/helpers/reference_data.py). Then, per release:

- ``helm lint`` and ``helm template --include-crds`` with the release's values file and namespace;
- every rendered object against the Kubernetes 1.37 schemas (kubernetes-validate, strict), and every
  custom resource against the CRD the charts ship;
- across objects: our NodePort Service selects the pods the kube-opex-analytics chart renders and
  targets a named container port of theirs; the Spark operator watches the namespace our jobs run
  in; the service account our SparkApplication names gets a Role there that lets the driver manage
  its executors; the SparkApplication validates against the chart's own CRD; the job namespace
  enforces Pod Security "baseline" and the SparkApplication asks for nothing that baseline forbids.
- every image the rendered objects (and the containerd role's sandbox image) deploy is pinned by
  digest or listed with its reason in playbooks/vars/images.yml, and every pin site there names an
  image and tag that is deployed.

What helm then does against an API server (install, wait, rollback) is not run here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from addons_render import REPO, cluster_variables, role_variables
from addons_render import render as ansible_render
from deployed_images import Policy, helm_test_hook, image_name, images_in, site_value, violations
from helm_binary import helm_binary, helm_version
from reference_data import CHARTS_DIR

pytestmark = pytest.mark.xdist_group("helm_render")

K8S_SCHEMA = "1.37.0"  # kubernetes-validate 1.37.0 ships the 1.37 schemas
KUBE_VERSION = "v1.37.1"  # cluster_kubernetes_version default, passed to helm as the target cluster
CLUSTER_RELEASES = ("flannel", "metrics_server", "local_path_provisioner")
KOA_TAGS = ("v25.10.1", "v26.01.1")

PLAY = """
- name: Compute every Helm release as the playbooks pass it
  hosts: localhost
  gather_facts: false
  vars_files:
{vars_files}
  tasks:
    # helm_release's own vars (roles/helm_release/vars/main.yml) evaluated for each release, as the
    # role evaluates them when a playbook passes it the release.
    - name: Evaluate each release as the helm_release role does
      ansible.builtin.set_fact:
        computed: >-
          {{{{ computed | default({{}}) | combine({{item.key: {{
               'release': helm_release, 'chart_ref': __helm_release_chart_ref,
               'create_namespace': __helm_release_create_namespace, 'wait': __helm_release_wait,
               'atomic': __helm_release_atomic, 'timeout': __helm_release_timeout}}}}) }}}}
      loop: "{{{{ release_vars | dict2items }}}}"
      vars:
        helm_release: "{{{{ lookup('ansible.builtin.vars', item.value) }}}}"
        release_vars: {release_vars}
    - name: Write the releases
      ansible.builtin.copy:
        dest: "{out}/releases.json"
        mode: "0600"
        content: "{{{{ computed | to_json }}}}"
    - name: Render the dashboard NodePort Service
      ansible.builtin.template:
        src: "{repo}/roles/kube_opex_analytics/templates/dashboard-service.yml.j2"
        dest: "{out}/dashboard-service.yaml"
        mode: "0600"
    - name: Render the Spark job namespace
      ansible.builtin.template:
        src: "{repo}/roles/spark_operator/templates/job-namespace.yml.j2"
        dest: "{out}/job-namespace.yaml"
        mode: "0600"
    - name: Render the WordCount SparkApplication
      ansible.builtin.include_role:
        name: "{repo}/roles/spark_wordcount"
      vars:
        spark_wordcount_submit: false
        spark_wordcount_run_id: 20261130-120000-ab12
        spark_wordcount_generate: 1GiB
"""


def compute(tmp: Path, koa_tag: str) -> dict[str, Any]:
    out = tmp / "out"
    out.mkdir(parents=True)
    files = [REPO / f"playbooks/vars/releases/{r}.yml" for r in CLUSTER_RELEASES] + [
        REPO / "roles/helm_release/defaults/main.yml",
        REPO / "roles/helm_release/vars/main.yml",
        REPO / "roles/kube_opex_analytics/defaults/main.yml",
        REPO / "roles/kube_opex_analytics/vars/main.yml",
        REPO / "roles/spark_operator/defaults/main.yml",
    ]
    release_vars = {r: f"sparklab_release_{r}" for r in CLUSTER_RELEASES} | {
        "kube_opex_analytics": "kube_opex_analytics_release",
        "spark_operator": "spark_operator_release",
    }
    cluster = cluster_variables(tmp)
    play = PLAY.format(
        vars_files="\n".join(f"    - {f}" for f in files),
        out=out,
        repo=REPO,
        release_vars=json.dumps(release_vars),
    )
    (tmp / "play.yml").write_text(textwrap.dedent(play))
    extra = {
        **{k: v for k, v in cluster.items() if k.startswith("cluster_")},
        "kube_opex_analytics_git_tag": koa_tag,
        "cluster_state_dir": str(tmp / "state"),
        "spark_wordcount_input_urls": [],
    }
    (tmp / "extra.json").write_text(json.dumps(extra))
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp / "ansible-home"),
        # The roles' sparklab.cluster filters resolve through the checkout's collection link.
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
    )
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "play.yml", "-e", "@extra.json"],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    (run,) = (tmp / "state" / "runs").iterdir()
    return {
        "releases": json.loads((out / "releases.json").read_text()),
        "dashboard_service": yaml.safe_load((out / "dashboard-service.yaml").read_text()),
        "job_namespace": yaml.safe_load((out / "job-namespace.yaml").read_text()),
        "sparkapplication": yaml.safe_load((run / "sparkapplication.yaml").read_text()),
    }


def chart_dir(chart: dict[str, Any]) -> Path:
    """The pinned upstream tree of the chart a release names (checked against its Chart.yaml)."""
    for folder in CHARTS_DIR.iterdir():
        meta = yaml.safe_load((folder / "Chart.yaml").read_text())
        if meta["name"] == chart["name"] and str(meta["version"]) == str(chart["version"]):
            return folder
    raise AssertionError(f"no pinned chart {chart['name']} {chart['version']} under {CHARTS_DIR}")


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm_binary()), *args], capture_output=True, text=True, timeout=120, check=False
    )


# (release name, namespace, chart folder, values) -> rendered objects: a release that is the same for
# both kube-opex-analytics tags is linted and rendered once.
_RENDERED: dict[str, list[dict]] = {}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def template(name: str, entry: dict[str, Any], tmp: Path) -> list[dict]:
    release = entry["release"]
    chart = chart_dir(release["chart"])
    key = json.dumps([release["name"], release["namespace"], str(chart), release.get("values", {})])
    if key not in _RENDERED:
        _RENDERED[key] = _template(name, release, chart, tmp)
    return _RENDERED[key]


def _template(name: str, release: dict[str, Any], chart: Path, tmp: Path) -> list[dict]:
    values = tmp / f"{name}-values.yaml"
    values.write_text(yaml.safe_dump(release.get("values", {})))
    common = ["-f", str(values), "--kube-version", KUBE_VERSION]
    lint = helm("lint", str(chart), "--namespace", release["namespace"], *common)
    assert lint.returncode == 0, f"helm lint {name}:\n{lint.stdout}\n{lint.stderr}"
    proc = helm(
        "template",
        release["name"],
        str(chart),
        "--namespace",
        release["namespace"],
        "--include-crds",
        *common,
    )
    assert proc.returncode == 0, f"helm template {name}:\n{proc.stderr}"
    return [d for d in yaml.load_all(proc.stdout, Loader=LOADER) if d]


@pytest.fixture(scope="module", params=KOA_TAGS)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp(f"helm-render-{request.param}")
    data = compute(tmp, request.param)
    data["objects"] = {name: template(name, entry, tmp) for name, entry in data["releases"].items()}
    data["tag"] = request.param
    return data


def crd_schemas(rendered: dict[str, Any]) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema, for every CRD the rendered charts ship."""
    out = {}
    for objects in rendered["objects"].values():
        for obj in objects:
            if obj["kind"] != "CustomResourceDefinition":
                continue
            spec = obj["spec"]
            for version in spec["versions"]:
                api = f"{spec['group']}/{version['name']}"
                out[(api, spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return out


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def test_the_test_helm_is_the_version_the_helm_role_installs() -> None:
    defaults = yaml.safe_load((REPO / "roles/helm/defaults/main.yml").read_text())
    assert helm_version(helm_binary()) == defaults["helm_version"] == "v4.1.4"


def test_every_release_is_rendered_with_the_role_defaults_it_relies_on(rendered: dict[str, Any]) -> None:
    releases = rendered["releases"]
    assert set(releases) == {*CLUSTER_RELEASES, "kube_opex_analytics", "spark_operator"}
    cache = "/var/cache/sparklab/helm-charts"
    for name, entry in releases.items():
        assert entry["wait"] is True and entry["atomic"] is True, name
        chart = entry["release"]["chart"]
        if "archive_url" in chart:  # installed from the archive verified by its SHA-256
            file = chart["archive_url"].rsplit("/", 1)[1]
            assert entry["chart_ref"] == f"{cache}/archives/{chart['sha256']}/{file}", name
        else:  # installed from the checkout of the tag
            repo = chart["git_url"].removeprefix("https://").removesuffix(".git")
            assert entry["chart_ref"] == f"{cache}/{repo}/{chart['git_tag']}/{chart['path']}", name
        assert entry["timeout"] in ("5m0s", "10m0s"), name
        assert rendered["objects"][name], f"{name} renders no object"
    assert releases["flannel"]["create_namespace"] is False  # made by kube_namespace with its label
    assert releases["local_path_provisioner"]["create_namespace"] is True
    koa = releases["kube_opex_analytics"]["release"]
    assert koa["chart"]["git_tag"] == rendered["tag"]
    assert chart_dir(koa["chart"]).name == f"kube-opex-analytics-{rendered['tag'][1:]}"


def test_every_git_chart_we_install_is_the_tree_the_tests_render(rendered: dict[str, Any]) -> None:
    """The commit a release pins is the commit of the reference tree rendered here, path included."""
    from reference_data import CHARTS

    trees = {(f"https://github.com/{c.repo}.git", c.path): c.commit for c in CHARTS}
    checked = 0
    for name, entry in rendered["releases"].items():
        chart = entry["release"]["chart"]
        if "git_url" not in chart:
            continue
        assert trees.get((chart["git_url"], chart["path"])) == chart["git_commit"], name
        checked += 1
    assert checked >= 5  # flannel, metrics-server, local-path, kube-opex-analytics, spark-operator


_VALIDATED: set[int] = set()


def test_every_rendered_object_validates_against_kubernetes_or_its_crd(rendered: dict[str, Any]) -> None:
    crds = crd_schemas(rendered)
    assert ("sparkoperator.k8s.io/v1beta2", "SparkApplication") in crds
    checked = 0
    for objects in rendered["objects"].values():
        if id(objects) in _VALIDATED:
            checked += len(objects)
            continue  # the same rendering, validated for the other tag already
        for obj in objects:
            key = (obj["apiVersion"], obj["kind"])
            if key in crds:
                jsonschema.validate(obj, crds[key])
            else:
                kubernetes_validate.validate(obj, K8S_SCHEMA, strict=True)
            checked += 1
        _VALIDATED.add(id(objects))
    extra = [rendered["dashboard_service"], rendered["job_namespace"]]
    for obj in extra:
        kubernetes_validate.validate(obj, K8S_SCHEMA, strict=True)
    assert checked > 40


def test_metrics_server_runs_the_image_pinned_by_digest(rendered: dict[str, Any]) -> None:
    (deployment,) = by_kind(rendered["objects"]["metrics_server"], "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == (
        "registry.k8s.io/metrics-server/metrics-server:v0.8.1"
        "@sha256:b2d2efaf5ac3b366ed0f839d2412a2c4279d4fc2a2a733f12c52133faed36c41"
    )


def test_schema_check_rejects_a_broken_rendered_object(rendered: dict[str, Any]) -> None:
    (deployment,) = [
        o
        for o in rendered["objects"]["metrics_server"]
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "metrics-server"
    ]
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_SCHEMA, strict=True)


def pod_templates(objects: list[dict]) -> list[dict]:
    workloads = ("Deployment", "StatefulSet", "DaemonSet")
    return [o["spec"]["template"] for o in objects if o["kind"] in workloads]


def test_dashboard_service_selects_the_chart_pods_and_a_named_port_of_theirs(
    rendered: dict[str, Any],
) -> None:
    svc = rendered["dashboard_service"]
    release = rendered["releases"]["kube_opex_analytics"]["release"]
    objects = rendered["objects"]["kube_opex_analytics"]
    selector = svc["spec"]["selector"]
    matching = [t for t in pod_templates(objects) if selector.items() <= t["metadata"]["labels"].items()]
    assert len(matching) == 1, f"{selector} selects {len(matching)} pod templates"
    workload = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")][0]
    assert svc["metadata"]["namespace"] == release["namespace"]
    assert workload["metadata"].get("namespace", release["namespace"]) == release["namespace"]
    ports = {p.get("name"): p["containerPort"] for c in matching[0]["spec"]["containers"] for p in c["ports"]}
    (port,) = svc["spec"]["ports"]
    assert port["targetPort"] in ports and ports[port["targetPort"]] == 5483
    # Every envs value we set reaches the container as an environment variable (the chart's range).
    env = {e["name"]: e.get("value") for c in matching[0]["spec"]["containers"] for e in c.get("env", [])}
    for key, value in release["values"]["envs"].items():
        assert env.get(key) == value, key
    image = matching[0]["spec"]["containers"][0]["image"]
    assert image == f"docker.io/rchakode/kube-opex-analytics:{release['values']['image']['version']}"
    chart_services = {o["metadata"]["name"] for o in by_kind(objects, "Service")}
    assert svc["metadata"]["name"] not in chart_services, "must not collide with the chart's own Service"
    # The PersistentVolumeClaim (dataVolume.persist) needs the default StorageClass local-path makes.
    classes = by_kind(rendered["objects"]["local_path_provisioner"], "StorageClass")
    assert [c["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] for c in classes] == [
        "true"
    ]


def test_spark_operator_watches_the_namespace_our_jobs_run_in(rendered: dict[str, Any]) -> None:
    app = rendered["sparkapplication"]
    job_namespace = app["metadata"]["namespace"]
    assert rendered["job_namespace"]["metadata"]["name"] == job_namespace
    objects = rendered["objects"]["spark_operator"]
    for deployment in by_kind(objects, "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert f"--namespaces={job_namespace}" in container["args"], deployment["metadata"]["name"]


def rules_allow(rules: list[dict], resource: str, verbs: set[str]) -> bool:
    granted: set[str] = set()
    for rule in rules:
        if "" in rule.get("apiGroups", []) and resource in rule.get("resources", []):
            granted |= set(rule.get("verbs", []))
    return "*" in granted or verbs <= granted


def test_the_sparkapplication_service_account_gets_the_rbac_the_driver_needs(
    rendered: dict[str, Any],
) -> None:
    app = rendered["sparkapplication"]
    namespace = app["metadata"]["namespace"]
    account = app["spec"]["driver"]["serviceAccount"]
    assert app["spec"]["executor"]["serviceAccount"] == account
    objects = rendered["objects"]["spark_operator"]
    accounts = [
        o
        for o in by_kind(objects, "ServiceAccount")
        if (o["metadata"]["name"], o["metadata"]["namespace"]) == (account, namespace)
    ]
    assert len(accounts) == 1, f"the chart renders no ServiceAccount {namespace}/{account}"
    bindings = [
        b
        for b in by_kind(objects, "RoleBinding")
        if b["metadata"]["namespace"] == namespace
        and {"kind": "ServiceAccount", "name": account, "namespace": namespace} in b["subjects"]
    ]
    assert bindings, f"no RoleBinding for {account} in {namespace}"
    roles = {
        r["metadata"]["name"]: r for r in by_kind(objects, "Role") if r["metadata"]["namespace"] == namespace
    }
    rules = [
        rule
        for b in bindings
        if b["roleRef"]["kind"] == "Role"
        for rule in roles[b["roleRef"]["name"]]["rules"]
    ]
    # The driver creates, watches and deletes its executor pods, a headless Service and a ConfigMap.
    every = {"create", "get", "list", "watch", "delete"}
    assert rules_allow(rules, "pods", every)
    assert rules_allow(rules, "services", {"create", "get", "delete"})
    assert rules_allow(rules, "configmaps", {"create", "get", "delete"})
    assert not rules_allow(rules, "secrets", {"create"}), "the job account cannot create Secrets"


def test_the_sparkapplication_validates_against_the_chart_crd(rendered: dict[str, Any]) -> None:
    crds = crd_schemas(rendered)
    app = rendered["sparkapplication"]
    jsonschema.validate(app, crds[(app["apiVersion"], app["kind"])])
    broken = json.loads(json.dumps(app))
    broken["spec"]["driver"]["cores"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, crds[(app["apiVersion"], app["kind"])])


# Pod Security "baseline", as k8s.io/pod-security-admission/policy checks it (check_hostNamespaces.go,
# check_privileged.go, check_capabilities_baseline.go, check_hostPathVolumes.go, check_hostPorts.go,
# check_procMount.go, check_seLinuxOptions.go, check_seccompProfile_baseline.go, check_sysctls.go),
# applied to what the SparkApplication puts into its driver and executor pods.
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip


def baseline_violations(app: dict) -> list[str]:
    spec = app["spec"]
    found = []
    for volume in spec.get("volumes", []):
        if "hostPath" in volume:
            found.append(f"volume {volume['name']} is a hostPath")
    for role in ("driver", "executor"):
        pod = spec[role]
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(key):
                found.append(f"{role}.{key}")
        context = pod.get("securityContext", {})
        if context.get("privileged"):
            found.append(f"{role} is privileged")
        added = set(context.get("capabilities", {}).get("add", []))
        if added - BASELINE_CAPABILITIES:
            found.append(f"{role} adds {sorted(added - BASELINE_CAPABILITIES)}")
        if context.get("seccompProfile", {}).get("type") == "Unconfined":
            found.append(f"{role} seccomp Unconfined")
        if context.get("procMount", "Default") != "Default":
            found.append(f"{role} procMount")
        for port in pod.get("ports", []):
            if port.get("hostPort"):
                found.append(f"{role} hostPort")
    return found


def test_spark_job_namespace_enforces_baseline_and_the_job_passes_it(rendered: dict[str, Any]) -> None:
    labels = rendered["job_namespace"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    app = rendered["sparkapplication"]
    assert baseline_violations(app) == []
    privileged = json.loads(json.dumps(app))
    privileged["spec"]["driver"]["securityContext"] = {
        "privileged": True,
        "capabilities": {"add": ["NET_ADMIN"]},
    }
    privileged["spec"]["volumes"] = [{"name": "host", "hostPath": {"path": "/"}}]
    assert baseline_violations(privileged) == [
        "volume host is a hostPath",
        "driver is privileged",
        "driver adds ['NET_ADMIN']",
    ]


def deployed_references(rendered: dict[str, Any], tmp: Path) -> set[str]:
    """Every image reference the product deploys: the rendered releases, the SparkApplication, and
    the sandbox image the containerd role configures for the default Kubernetes version."""
    objects = [o for objs in rendered["objects"].values() for o in objs] + [rendered["sparkapplication"]]
    variables = role_variables("containerd") | {
        "cluster_kubernetes_version": cluster_variables(tmp)["cluster_kubernetes_version"]
    }
    return images_in(objects) | {ansible_render("{{ __containerd_sandbox_image }}", variables)}


def test_every_deployed_image_is_pinned_by_digest_or_a_named_exception(
    rendered: dict[str, Any], tmp_path: Path
) -> None:
    references = deployed_references(rendered, tmp_path)
    names = {image_name(r) for r in references}
    assert names >= {
        "ghcr.io/flannel-io/flannel",
        "ghcr.io/flannel-io/flannel-cni-plugin",
        "registry.k8s.io/metrics-server/metrics-server",
        "docker.io/rancher/local-path-provisioner",
        "docker.io/library/busybox",
        "docker.io/rchakode/kube-opex-analytics",
        "ghcr.io/kubeflow/spark-operator/controller",
        "docker.io/apache/spark",
        "registry.k8s.io/pause",
    }, sorted(names)
    assert violations(references, Policy.load()) == []
    # The only objects left out are `helm test` pods, which sparklab never creates.
    skipped = [o for objs in rendered["objects"].values() for o in objs if helm_test_hook(o)]
    assert [(o["kind"], o["metadata"]["name"]) for o in skipped] == [
        ("Pod", "kube-opex-analytics-test-connection")
    ]


def test_every_pin_site_names_an_image_and_tag_that_is_deployed(
    rendered: dict[str, Any], tmp_path: Path
) -> None:
    deployed = {
        (image_name(r), r.split("@", 1)[0].rsplit(":", 1)[1]) for r in deployed_references(rendered, tmp_path)
    }
    other_tags = set(KOA_TAGS) - {rendered["tag"]}
    checked = 0
    for site in Policy.load().pins:
        if other_tags & set(site["key"]):
            continue  # the kube-opex-analytics image of the other chart tag: checked in its own render
        value = site_value(site).split("@", 1)[0]
        tag = value if site["holds"] == "tag" else value.rsplit(":", 1)[1]
        assert (site["image"], tag) in deployed, site
        checked += 1
    assert checked >= 9


def test_image_policy_fails_closed(rendered: dict[str, Any], tmp_path: Path) -> None:
    references = deployed_references(rendered, tmp_path)
    policy = Policy.load()
    # A new image by tag is refused until pinned or listed with its reason.
    assert violations(references | {"quay.io/example/sidecar:1.0"}, policy) == [
        "quay.io/example/sidecar:1.0 is deployed by tag and not listed under unpinned in images.yml"
    ]
    # Once pinned, its exception must go; an exception for an image no longer deployed must go too.
    spark = next(r for r in references if image_name(r) == "docker.io/apache/spark")
    pinned = references - {spark} | {f"{spark}@sha256:{'a' * 64}"}
    assert violations(pinned, policy) == [
        "docker.io/apache/spark is pinned by digest now: delete its unpinned entry"
    ]
    assert violations(references - {spark}, policy) == [
        "docker.io/apache/spark is not deployed: delete its unpinned entry"
    ]
    # An exception without a reason does not count.
    blank = Policy(
        policy.pins, policy.unpinned | {"docker.io/apache/spark": {"image": "docker.io/apache/spark"}}
    )
    assert violations(references, blank) == ["docker.io/apache/spark: unpinned without a reason"]


def _pull_key(reference: str) -> tuple[str, str]:
    """(image name, digest) for a reference with a digest, else (image name, tag)."""
    name = image_name(reference)
    if "@" in reference:
        return name, reference.split("@", 1)[1]
    return name, reference.rsplit(":", 1)[1]


def test_the_workers_pull_ahead_every_image_the_defaults_deploy(
    rendered: dict[str, Any], tmp_path: Path
) -> None:
    """The background pre-pull (roles/image_prepull, lookup sparklab.cluster.prepull_images) against
    what the product renders: the workers get every deployed image but the sandbox image (kubeadm's,
    pulled with the control-plane images), as the pod will ask for it (by digest where pinned); with
    the other kube-opex-analytics tag only that image is missing, since the defaults do not deploy it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("image_refs", REPO / "plugins/module_utils/image_refs.py")
    image_refs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(image_refs)  # type: ignore[union-attr]
    ahead = {_pull_key(r) for r in image_refs.deployed_references(REPO / "playbooks/vars/images.yml")}
    deployed = {_pull_key(r) for r in deployed_references(rendered, tmp_path)
                if image_name(r) != "registry.k8s.io/pause"}
    missing = {name for name, _ in deployed - ahead}
    expected = set() if rendered["tag"] == KOA_TAGS[0] else {"docker.io/rchakode/kube-opex-analytics"}
    assert missing == expected, sorted(deployed - ahead)
    assert {name for name, _ in ahead} == {name for name, _ in deployed}
