"""Paths and names that runner.py and the roles share are defined once, in ``plugins/module_utils``:
SPARKLAB_HOME (with ``~`` expanded), the run folders and the SparkApplication name prefix in
``cluster_names.py``, the result-line prefixes of the WordCount driver in ``driver_log.py``.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from local_play import run_local_play

from sparklab.core.contract import contract, module_utils
from sparklab.core.state import ClusterState, sparklab_home
from sparklab.job import runs as jobs

REPO = Path(__file__).resolve().parents[2]
cc = contract()
names = module_utils("cluster_names")
driver_log = module_utils("driver_log")
# The WordCount application runs alone in the Spark driver pod, so it cannot import the contract:
# its two copies (the module and the file the role ships) must carry the same prefixes.
APP_COPIES = (REPO / "sparklab" / "job" / "wordcount_app.py",
              REPO / "roles" / "spark_wordcount" / "files" / "wordcount_app.py",
              REPO / "sparklab" / "job" / "launcher.py")  # shipped alone into the driver pod too
SHARED_LITERALS = ("SPARKLAB_HOME", "~/.sparklab", ".sparklab", "runs", "wordcount-", "SPARKLAB_RESULT",
                   "SPARKLAB_ERROR")


def test_sparklab_home_expands_the_tilde_for_state_jobs_and_the_contract(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SPARKLAB_HOME", "~/lab-state")
    expected = tmp_path / "lab-state"
    assert sparklab_home() == expected
    assert ClusterState.for_cluster("demo").root == expected / "demo"
    assert jobs.run_dir("demo", "20261127-093000-3fa2") == expected / "demo" / "runs" / "20261127-093000-3fa2"
    resolved, _ = cc.validate({"cluster_name": "demo"})
    assert resolved["cluster_home"] == str(expected)
    assert resolved["cluster_runs_dir"] == str(expected / "demo" / "runs")
    monkeypatch.delenv("SPARKLAB_HOME")
    assert sparklab_home() == tmp_path / ".sparklab"


def test_every_run_folder_follows_the_one_naming_scheme(tmp_path: Path) -> None:
    state = ClusterState(name="demo", home=tmp_path)
    ansible_run = state.new_run("provision", now=1795000000.0)
    job_id = jobs.new_run_id(1795000000.0)
    assert ansible_run.parent == state.runs == jobs.run_dir("demo", job_id, tmp_path).parent
    assert ansible_run.name.startswith("20261118-110640-") and ansible_run.name.endswith("-provision")
    folder = re.compile(names.RUN_FOLDER_PATTERN)
    assert folder.match(ansible_run.name).group("verb") == "provision"
    assert folder.match(job_id).group("verb") is None and jobs.RUN_ID_PATTERN.match(job_id)
    assert jobs.app_name(job_id) == f"{names.JOB_APP_NAME_PREFIX}{job_id}"


def test_front_end_parses_the_result_line_with_the_shared_prefix() -> None:
    result = {"top": [["a", 2]], "lines": 1, "words": 2, "distinct_words": 1, "bytes": 4,
              "elapsed_seconds": 1.0, "started_at": "s", "finished_at": "f"}
    log = f"noise\n{driver_log.JOB_RESULT_PREFIX} {json.dumps(result)}\n"
    assert jobs.parse_driver_log(log).words == 2
    with pytest.raises(jobs.ResultNotFoundError, match="the job failed: boom"):
        jobs.parse_driver_log(f'{driver_log.JOB_ERROR_PREFIX} {{"error": "boom"}}\n')


@pytest.mark.parametrize("path", APP_COPIES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_wordcount_application_prints_the_shared_prefixes(path: Path) -> None:
    constants = {node.targets[0].id: node.value.value for node in ast.parse(path.read_text()).body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                 and isinstance(node.value, ast.Constant)}
    assert constants["RESULT_PREFIX"] == driver_log.JOB_RESULT_PREFIX
    assert constants["ERROR_PREFIX"] == driver_log.JOB_ERROR_PREFIX


def test_no_front_end_module_spells_a_shared_name_itself() -> None:
    """Only the contract spells these strings; the front end reads them from it."""
    found = []
    for path in sorted((REPO / "sparklab").rglob("*.py")):
        if path in APP_COPIES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in SHARED_LITERALS:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value!r}")
    assert found == []


def rendered_by_a_play(tmp_path: Path, expression: str, *args: str, hosts: str = "localhost",
                       first_task: str = "", **env: str) -> Any:
    """Run a real play that renders ``expression`` (Jinja) on ``hosts`` and return its JSON value.

    The environment has no AWS or sparklab variables but ``env``; ``HOME`` is ``tmp_path``."""
    play = tmp_path / "render.yml"
    play.write_text(f"- hosts: {hosts}\n  gather_facts: false\n  tasks:\n{first_task}"
                    "    - ansible.builtin.copy:\n        dest: " + str(tmp_path / "rendered.json") + "\n"
                    f"        mode: '0600'\n        content: \"{{{{ {expression} | to_json }}}}\"\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SPARKLAB_"))}
    clean.update(HOME=str(tmp_path), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
                 ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), **env)
    run = run_local_play(play, clean, *args, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((tmp_path / "rendered.json").read_text())


def test_the_playbooks_get_the_shared_names_as_facts(tmp_path: Path) -> None:
    """The real cluster_config action (every playbook runs it first) hands the roles the names."""
    facts = rendered_by_a_play(
        tmp_path, "{'home': cluster_home, 'state': cluster_state_dir, 'runs': cluster_runs_dir,"
        " 'app': cluster_job_app_name_prefix, 'result': cluster_job_result_prefix,"
        " 'run_id': cluster_job_run_id_pattern}", "-e", "cluster_name=demo",
        first_task="    - sparklab.cluster.cluster_config:\n        detect_admin_cidr: false\n",
        SPARKLAB_HOME="~/lab-state")
    state = tmp_path / "lab-state" / "demo"
    assert facts == {"home": str(tmp_path / "lab-state"), "state": str(state), "runs": str(state / "runs"),
                     "app": names.JOB_APP_NAME_PREFIX, "result": driver_log.JOB_RESULT_PREFIX,
                     "run_id": names.RUN_ID_PATTERN}


def test_the_inventory_connects_with_the_key_and_known_hosts_of_the_one_state_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The connection settings of ``inventory/group_vars/cluster.yml``, rendered by a real play for a
    host of the ``cluster`` group, point into the state folder runner.py uses (``~`` expanded)."""
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.ini").write_text("[control_plane]\nnode-1\n[cluster:children]\ncontrol_plane\n")
    (inventory / "group_vars").symlink_to(REPO / "inventory" / "group_vars")
    found = rendered_by_a_play(tmp_path, "{'key': ansible_ssh_private_key_file,"
                               " 'args': ansible_ssh_common_args}", "-i", str(inventory), hosts="cluster",
                               SPARKLAB_HOME="~/lab-state", SPARKLAB_CLUSTER_NAME="demo")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SPARKLAB_HOME", "~/lab-state")
    state = ClusterState.for_cluster("demo").root
    assert state == tmp_path / "lab-state" / "demo"
    assert found["key"] == str(state / "id_ed25519")
    assert f"-o UserKnownHostsFile={state / 'known_hosts'} " in found["args"]


def test_a_second_region_of_a_name_gets_the_same_folder_from_runner_the_facts_and_the_inventory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One folder per name and region: with ``demo/`` recorded for eu-west-1, us-east-1 is
    ``demo@us-east-1/`` for runner.py, for the cluster_config facts and for the inventory's key and
    known_hosts (region from the configuration, else AWS_REGION as the aws_ec2 inventory reads it)."""
    first = tmp_path / "lab-state" / "demo"
    first.mkdir(parents=True, mode=0o700)
    (first / "region").write_text("eu-west-1\n")
    second = tmp_path / "lab-state" / "demo@us-east-1"
    for region, folder in (("eu-west-1", first), ("us-east-1", second)):
        facts = rendered_by_a_play(
            tmp_path, "cluster_state_dir", "-e", "cluster_name=demo", "-e", f"cluster_aws_region={region}",
            first_task="    - sparklab.cluster.cluster_config:\n        detect_admin_cidr: false\n",
            SPARKLAB_HOME="~/lab-state")
        assert facts == str(folder), region
        inventory = tmp_path / f"inventory-{region}"
        inventory.mkdir()
        (inventory / "hosts.ini").write_text("[control_plane]\nnode-1\n[cluster:children]\ncontrol_plane\n")
        (inventory / "group_vars").symlink_to(REPO / "inventory" / "group_vars")
        found = rendered_by_a_play(tmp_path, "ansible_ssh_private_key_file", "-i", str(inventory),
                                   hosts="cluster", SPARKLAB_HOME="~/lab-state", SPARKLAB_CLUSTER_NAME="demo",
                                   AWS_REGION=region)
        assert found == str(folder / "id_ed25519"), region
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("SPARKLAB_HOME", "~/lab-state")
        assert ClusterState.for_cluster("demo", region).root == folder


ANSIBLE_CONTENT = ("inventory", "playbooks", "roles", "molecule")
# What a playbook, role or inventory file would spell if it resolved a shared name itself.
ANSIBLE_SPELLINGS = ("SPARKLAB_HOME", "/.sparklab", "SPARKLAB_RESULT", "SPARKLAB_ERROR", "wordcount-",
                     "%Y%m%d", "[0-9]{8}")


def test_no_playbook_role_or_inventory_file_spells_a_shared_name_itself() -> None:
    """Only ``plugins/module_utils`` reads SPARKLAB_HOME and spells the job's
    prefixes; YAML and templates take the ``cluster_*`` facts or the collection's filters
    (``cluster_state_dir``, ``spark_wordcount_app_name``, ``spark_wordcount_result``,
    ``spark_wordcount_run_id``). Comments may name them."""
    found = []
    for top in ANSIBLE_CONTENT:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix not in (".yml", ".yaml", ".j2", ".cfg", ".ini") or not path.is_file():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0] if path.suffix != ".j2" else line
                if any(spelling in code for spelling in ANSIBLE_SPELLINGS):
                    found.append(f"{path.relative_to(REPO)}:{number} {line.strip()}")
    assert found == []


RESULT = {"top": [["spark", 3], ["a", 1]], "lines": 2, "words": 4, "distinct_words": 2, "bytes": 20,
          "elapsed_seconds": 1.5, "started_at": "2026-11-27T09:30:00Z", "finished_at": "2026-11-27T09:30:02Z"}
DRIVER_LOGS = {
    "result among noise": f"INFO start\n{driver_log.JOB_RESULT_PREFIX} {json.dumps(RESULT)}\nINFO stop\n",
    "the last result wins": (f"{driver_log.JOB_RESULT_PREFIX} {json.dumps(dict(RESULT, words=1))}\n"
                             f"{driver_log.JOB_RESULT_PREFIX} {json.dumps(RESULT)}\n"),
    "indented result line": f"   {driver_log.JOB_RESULT_PREFIX} {json.dumps(RESULT)}  \n",
    "error line only": f'INFO\n{driver_log.JOB_ERROR_PREFIX} {{"error": "OSError: boom"}}\n',
    "unreadable result": f"{driver_log.JOB_RESULT_PREFIX} {{not json\n",
    "prefix without a space": f"{driver_log.JOB_RESULT_PREFIX}{json.dumps(RESULT)}\n",
    "empty log": "",
}


def test_the_role_and_runner_py_read_a_driver_log_alike(tmp_path: Path) -> None:
    """The spark_wordcount role's filter, run by a real play on each log, finds the result exactly
    where runner.py's ``parse_driver_log`` does, and nothing where it finds nothing."""
    logs = tmp_path / "logs.json"
    logs.write_text(json.dumps({"sparklab_test_logs": {name: text.splitlines()
                                                       for name, text in DRIVER_LOGS.items()}}))
    parsed = rendered_by_a_play(tmp_path, "dict(sparklab_test_logs.keys() | zip(sparklab_test_logs.values()"
                                " | map('sparklab.cluster.spark_wordcount_result')))", "-e", f"@{logs}")
    seen = {}
    for name, text in DRIVER_LOGS.items():
        try:
            seen[name] = jobs.parse_driver_log(text)
        except jobs.ResultNotFoundError:
            seen[name] = None
        role = jobs.Result.from_dict(parsed[name]) if parsed[name] else None
        assert role == seen[name], name
    assert {name for name, result in seen.items() if result is not None} == {
        "result among noise", "the last result wins", "indented result line"}
    assert seen["the last result wins"].words == 4


def test_the_role_takes_its_run_id_from_the_one_rule(tmp_path: Path) -> None:
    """The role's run id filter, in a real play: a new id matches RUN_ID_PATTERN, a given one is kept."""
    ids = rendered_by_a_play(tmp_path, "['' | sparklab.cluster.spark_wordcount_run_id,"
                             " '20260101-120000-ab12' | sparklab.cluster.spark_wordcount_run_id]")
    assert re.match(names.RUN_ID_PATTERN, ids[0]), ids
    assert ids[1] == "20260101-120000-ab12"


def test_the_role_refuses_a_run_id_of_another_shape(tmp_path: Path) -> None:
    play = tmp_path / "bad.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug:\n"
                    "        msg: \"{{ '../x' | sparklab.cluster.spark_wordcount_run_id }}\"\n")
    env = dict(os.environ, HOME=str(tmp_path), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    run = run_local_play(play, env, timeout=180)
    assert run.returncode != 0
    assert "'../x' is no run id" in run.stdout + run.stderr


def test_each_name_of_the_collection_module_utils_is_defined_in_one_file() -> None:
    """``plugins/module_utils`` is split by concern; no constant, function or class is defined in two
    of its files (a second definition would drift from the first), and the shared strings are spelled
    in the file that owns them only."""
    defined: dict[str, list[str]] = {}
    spelled: dict[str, set[str]] = {}
    for path in sorted((REPO / "plugins" / "module_utils").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                targets = [node.name]
            else:
                continue
            for name in targets:
                if not name.startswith("_"):
                    defined.setdefault(name, []).append(path.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in SHARED_LITERALS:
                spelled.setdefault(node.value, set()).add(path.name)
    assert len(defined) > 80  # the files are really read
    assert {name: files for name, files in defined.items() if len(files) > 1} == {}
    assert spelled == {"SPARKLAB_HOME": {"cluster_names.py"}, "~/.sparklab": {"cluster_names.py"},
                       "runs": {"cluster_names.py"}, "wordcount-": {"cluster_names.py"},
                       "SPARKLAB_RESULT": {"driver_log.py"}, "SPARKLAB_ERROR": {"driver_log.py"}}
