"""Every YAML file the roles hand to a Kubernetes tool splits, as Kubernetes splits it, into
documents that each carry apiVersion and kind; kubeadm's configuration passes kubeadm's own check.

The files are rendered by Ansible (``ansible.builtin.template`` in a play on localhost, and the
spark_wordcount role run in its render-only mode), then split with ``tests/helpers/kube_yaml.py``,
which mirrors k8s.io/apimachinery ``pkg/util/yaml/decoder.go`` (``YAMLReader``) and
kubernetes/kubernetes ``cmd/kubeadm/app/util/marshal.go`` (``SplitConfigDocuments``). PyYAML is
not enough: it drops a comment-only document that kubeadm refuses.

What this does not prove: that kubeadm or the API server accepts the field values; only a real
cluster does (tests/e2e).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from cluster_render import SAMPLE_HOSTS
from kube_yaml import (
    KubeYAMLError,
    kubeadm_split_config_documents,
    read_documents,
    require_type_meta_in_every_chunk,
)

from sparklab.job import splitter as word_splitter

REPO = Path(__file__).resolve().parents[2]

# Templates whose output goes to a Kubernetes tool, and the file each is rendered to in the test.
# kubeadm reads the first one; kubernetes.core.k8s (src/template/definition) reads the others.
KUBERNETES_TEMPLATES = {
    "kubeadm_init/templates/kubeadm-config.yaml.j2": "kubeadm-config.yaml",
    "kube_namespace/templates/namespace.yaml.j2": "kube-namespace.yaml",
    "kube_opex_analytics/templates/namespace.yml.j2": "koa-namespace.yaml",
    "kube_opex_analytics/templates/dashboard-service.yml.j2": "koa-dashboard-service.yaml",
    "spark_operator/templates/job-namespace.yml.j2": "spark-job-namespace.yaml",
    "spark_wordcount/templates/configmap.yaml.j2": "runs/*/configmap.yaml",
    "spark_wordcount/templates/sparkapplication.yaml.j2": "runs/*/sparkapplication.yaml",
    "spark_wordcount/templates/spark-ui-service.yaml.j2": "runs/*/spark-ui-service.yaml",
    "spark_wordcount/templates/secret.yaml.j2": "wordcount-secret.yaml",
}


def _cluster_variables(home: Path) -> dict:
    from sparklab.config.load import schema

    resolved, _ = schema().validate({"cluster_name": "documents-test"}, environ={"SPARKLAB_HOME": str(home)})
    return resolved


def _playbook(out: Path) -> str:
    roles = REPO / "roles"
    return textwrap.dedent(
        f"""\
        - name: Render the manifests and the kubeadm configuration
          hosts: cp-1
          gather_facts: false
          vars_files:
            - {roles}/kubeadm_init/defaults/main.yml
            - {roles}/kubeadm_init/vars/main.yml
            - {roles}/kube_opex_analytics/defaults/main.yml
            - {roles}/kube_opex_analytics/vars/main.yml
            - {roles}/spark_operator/defaults/main.yml
          tasks:
            - name: Render the kubeadm configuration
              ansible.builtin.template:
                src: {roles}/kubeadm_init/templates/kubeadm-config.yaml.j2
                dest: {out}/kubeadm-config.yaml
                mode: "0600"
            - name: Render the namespace of kube_namespace
              ansible.builtin.template:
                src: {roles}/kube_namespace/templates/namespace.yaml.j2
                dest: {out}/kube-namespace.yaml
                mode: "0600"
              vars:
                kube_namespace_name: kube-flannel
                kube_namespace_labels:
                  pod-security.kubernetes.io/enforce: privileged
            - name: Render the dashboard namespace
              ansible.builtin.template:
                src: {roles}/kube_opex_analytics/templates/namespace.yml.j2
                dest: {out}/koa-namespace.yaml
                mode: "0600"
            - name: Render the dashboard Service
              ansible.builtin.template:
                src: {roles}/kube_opex_analytics/templates/dashboard-service.yml.j2
                dest: {out}/koa-dashboard-service.yaml
                mode: "0600"
            - name: Render the Spark job namespace
              ansible.builtin.template:
                src: {roles}/spark_operator/templates/job-namespace.yml.j2
                dest: {out}/spark-job-namespace.yaml
                mode: "0600"

        - name: Render the WordCount manifests with the role itself
          hosts: localhost
          gather_facts: false
          roles:
            - role: {roles}/spark_wordcount
          post_tasks:
            - name: Render the Secret the submit task sends
              ansible.builtin.template:
                src: {roles}/spark_wordcount/templates/secret.yaml.j2
                dest: {out}/wordcount-secret.yaml
                mode: "0600"
        """
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("kube-documents")
    out = work / "out"
    out.mkdir()
    home = work / "home"
    jar = word_splitter.words_jar({**os.environ, "XDG_CACHE_HOME": str(work)})
    variables = {
        **_cluster_variables(home),
        "cluster_state_dir": str(out),
        "spark_wordcount_submit": False,
        "spark_wordcount_ui_service": True,
        "spark_wordcount_input_urls": ["https://bucket.s3.amazonaws.com/a.txt?X-Amz-Signature=ab"],
        "spark_wordcount_output_urls": ["https://bucket.s3.amazonaws.com/p0.csv?X-Amz-Signature=cd"],
        # The word splitter's jar, built here, so the ConfigMap's binaryData is rendered too.
        "spark_wordcount_splitter_jar": str(jar),
    }
    (work / "vars.json").write_text(json.dumps(variables))
    host = {
        **SAMPLE_HOSTS["cp-1"],
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
    }
    inventory = {
        "all": {
            "hosts": {
                "localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
            },
            "children": {
                "cluster": {
                    "children": {"control_plane": {"hosts": {"cp-1": host}}, "workers": {"hosts": {}}}
                }
            },
        }
    }
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (work / "play.yml").write_text(_playbook(out))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_HOME": str(work / "ansible-home"),
    }
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            "inventory.yml",
            "-e",
            "@vars.json",
            "play.yml",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return out


def _rendered_file(out: Path, pattern: str) -> Path:
    matches = sorted(out.glob(pattern))
    assert len(matches) == 1, f"{pattern}: {matches}"
    return matches[0]


def test_every_kubernetes_template_of_the_roles_is_covered() -> None:
    on_disk = {
        str(p.relative_to(REPO / "roles"))
        for pattern in ("*/templates/*.yaml.j2", "*/templates/*.yml.j2")
        for p in (REPO / "roles").glob(pattern)
    }
    assert on_disk == set(KUBERNETES_TEMPLATES)


@pytest.mark.parametrize("template", sorted(KUBERNETES_TEMPLATES))
def test_rendered_file_splits_into_documents_that_each_carry_apiversion_and_kind(
    rendered: Path, template: str
) -> None:
    data = _rendered_file(rendered, KUBERNETES_TEMPLATES[template]).read_bytes()
    metas = require_type_meta_in_every_chunk(data)
    assert metas, f"{template} rendered no document"
    # The Go reader and PyYAML agree on how many objects there are.
    assert len(metas) == len([d for d in yaml.safe_load_all(data) if d is not None])


def test_kubeadm_configuration_passes_kubeadm_split_config_documents(rendered: Path) -> None:
    documents = kubeadm_split_config_documents((rendered / "kubeadm-config.yaml").read_bytes())
    assert sorted((m.group, m.version, m.kind) for m in documents) == [
        ("kubeadm.k8s.io", "v1beta4", "ClusterConfiguration"),
        ("kubeadm.k8s.io", "v1beta4", "InitConfiguration"),
        ("kubelet.config.k8s.io", "v1beta1", "KubeletConfiguration"),
    ]


# The reader itself, on inputs whose upstream outcome follows from the Go code cited in kube_yaml.
def test_comments_before_the_first_separator_are_a_document_kubeadm_refuses() -> None:
    text = "# managed\n# more\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
    assert read_documents(text)[0] == b"# managed\n# more\n"
    assert [d for d in yaml.safe_load_all(text) if d] != [], "PyYAML sees only the object"
    with pytest.raises(KubeYAMLError, match="kind and apiVersion is mandatory"):
        kubeadm_split_config_documents(text)
    with pytest.raises(KubeYAMLError, match="no apiVersion and kind"):
        require_type_meta_in_every_chunk(text)


def test_a_leading_separator_and_comments_after_it_are_accepted() -> None:
    text = "---\n# managed\napiVersion: v1\nkind: Namespace\n--- # next\napiVersion: v1\nkind: ConfigMap\n"
    chunks = read_documents(text)
    assert chunks == [
        b"---\n# managed\napiVersion: v1\nkind: Namespace\n",
        b"apiVersion: v1\nkind: ConfigMap\n",
    ]
    assert [m.kind for m in require_type_meta_in_every_chunk(text)] == ["Namespace", "ConfigMap"]


def test_text_after_a_separator_and_a_kind_given_twice_are_errors() -> None:
    with pytest.raises(KubeYAMLError, match="invalid Yaml document separator: apiVersion: v1"):
        read_documents("--- apiVersion: v1\nkind: Namespace\n")
    twice = "apiVersion: a.io/v1\nkind: X\n---\napiVersion: a.io/v1\nkind: X\n"
    with pytest.raises(KubeYAMLError, match='kind "X" is specified twice'):
        kubeadm_split_config_documents(twice)


def test_kubeadm_requires_a_group_and_a_repeated_separator_opens_the_next_document() -> None:
    with pytest.raises(KubeYAMLError, match="mandatory"):
        kubeadm_split_config_documents("apiVersion: v1\nkind: Namespace\n")
    # The second "---" is read while the next document is still empty: YAMLReader keeps it.
    text = "apiVersion: a.io/v1\nkind: X\n---\n---\napiVersion: a.io/v1\nkind: Y\n"
    assert read_documents(text) == [b"apiVersion: a.io/v1\nkind: X\n", b"---\napiVersion: a.io/v1\nkind: Y\n"]
    assert [m.kind for m in kubeadm_split_config_documents(text)] == ["X", "Y"]
