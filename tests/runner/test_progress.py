"""What runner.py shows while a playbook runs: milestones, "task N of M", plain lines, failures.

The real runs are `runner.py plan`: the real playbooks/provision.yml against the moto emulator
that `plan` starts itself, with no credentials. Plain mode is read from captured stdout; the live
view from a tmux pane (a real pseudo-terminal, so rich draws its live line).
"""

from __future__ import annotations

import io
import re
import shlex
import sys
from pathlib import Path

import pytest
from runner_sandbox import RUNNER, Sandbox
from terminal import SIZE_VARIABLES, Terminal

from sparklab.cluster.display import PlainProgress

CLOCK = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
TASK_LINE = re.compile(r"^\[\s*[\d:]+s?\] provision \| task (\d+) of (\d+) \| (.+): "
                       r"(ok|changed|skipped|done) \(\d+\.\d+s\)$", re.M)
ROLE_LINE = re.compile(rf"^{CLOCK} \[ok\] provision: role (\w+) done in \d+\.\d+s \((\d+) tasks?\)$", re.M)
# In playbooks/provision.yml's order: every check before the first change (the security group's
# admin-CIDR checks, then the key pair), then the network, the group itself, the bucket, the nodes.
PROVISION_ROLES = ["aws_identity", "aws_security_group", "aws_keypair", "aws_network", "aws_security_group",
                   "aws_bucket", "aws_instances"]


def _events(progress: PlainProgress, *events: tuple[str, dict]) -> None:
    for kind, data in events:
        progress.event({"event": kind, "event_data": data})


def test_plain_progress_counts_planned_tasks_hides_validation_and_closes_roles_and_phase() -> None:
    out = io.StringIO()
    progress = PlainProgress(out)
    progress.start_phase("nodes", 2, 4)
    plan = '{"plays":[{"play":"p1","gather":true,"tasks":["t1","t2"]}]}'
    progress.event({"event": "verbose", "stdout": f"SPARKLAB_TASK_PLAN {plan}"})
    _events(progress,
            ("playbook_on_task_start", {"task": "Gathering Facts", "task_action": "gather_facts",
                                        "play_uuid": "p1"}),
            ("runner_on_ok", {"host": "cp-1", "res": {}}),
            ("playbook_on_task_start", {"task": "Validating arguments against arg spec 'main' - x",
                                        "task_action": "ansible.builtin.validate_argument_spec",
                                        "role": "containerd", "task_uuid": "v1"}),
            ("runner_on_ok", {"host": "cp-1", "res": {}}),
            ("playbook_on_task_start", {"task": "install | Install containerd", "role": "containerd",
                                        "task_uuid": "t1"}))
    for host in ("cp-1", "worker-1", "worker-2"):
        progress.event({"event": "runner_on_start", "event_data": {"host": host}})
    _events(progress,
            ("runner_on_ok", {"host": "cp-1", "res": {"changed": True}}),
            ("runner_on_ok", {"host": "worker-1", "res": {}}),
            ("runner_on_failed", {"host": "worker-2", "res": {"msg": "boom"}}),
            ("playbook_on_task_start", {"task": "Print the result", "task_uuid": "t2"}),
            ("runner_on_ok", {"host": "cp-1", "res": {}}))
    progress.end_phase("failed")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("] phase 2/4: nodes")
    assert re.search(r"\] nodes \| task 1 of 3 \| Gathering Facts: ok \(\d+\.\ds\)$", lines[1]), lines
    assert "FAILED nodes | install | Install containerd | worker-2: boom" in lines[2]
    assert re.search(r"\] nodes \| task 2 of 3 \| install \| Install containerd: "
                     r"3/3 hosts: 1 changed, 1 failed, 1 ok \(", lines[3]), lines
    assert re.fullmatch(rf"{CLOCK} \[!!\] nodes: role containerd failed after \d+\.\ds \(1 task\)", lines[4])
    assert re.search(r"\] nodes \| task 3 of 3 \| Print the result: ok", lines[5])
    assert re.fullmatch(rf"{CLOCK} \[!!\] phase 2/4 nodes failed after \d+\.\ds "
                        r"\(3 tasks, 1 changed, 1 failed\)", lines[6])
    assert len(lines) == 7 and "Validating" not in out.getvalue()
    assert progress.failures == ["nodes | install | Install containerd | worker-2: boom"]
    verbose = io.StringIO()
    streaming = PlainProgress(verbose, verbose=True)
    streaming.event({"event": "verbose", "stdout": "PLAY [Prepare the nodes] ****"})
    assert verbose.getvalue() == "PLAY [Prepare the nodes] ****\n"


@pytest.mark.slow
@pytest.mark.xdist_group("runner-plan")
def test_plain_plan_prints_each_planned_task_once_in_order_with_role_and_phase_milestones(
        offline: Sandbox) -> None:
    result = offline.run("plan", "--name", "rt-progress", "--plain")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    tasks = TASK_LINE.findall(out)
    numbers = [int(n) for n, _, _, _ in tasks]
    totals = {int(m) for _, m, _, _ in tasks}
    # The count announced by the task_plan callback is exactly the number of tasks that ran.
    assert len(totals) == 1 and numbers == list(range(1, totals.pop() + 1)), out
    assert "Validating arguments" not in out and "SPARKLAB_TASK_PLAN" not in out
    by_name = {name: status for _, _, name, status in tasks}
    assert by_name["vpc | Create the VPC"] == "changed"
    assert by_name["ssh | Wait until every node answers SSH"] == "skipped"  # `when` skips it in plan
    assert by_name["Re-read the inventory now that the nodes exist"] == "done"
    roles = ROLE_LINE.findall(out)
    assert [name for name, _ in roles] == PROVISION_ROLES, out
    assert sum(int(n) for _, n in roles) == len(tasks) - 3  # the config check and the two play-level tasks
    closing = re.findall(rf"^{CLOCK} \[ok\] phase 1/1 provision done in [\dm.]+s "
                         r"\((\d+) tasks, (\d+) changed\)$", out, re.M)
    assert closing and int(closing[0][0]) == len(tasks), out
    assert int(closing[0][1]) == sum(1 for t in tasks if t[3] == "changed")
    lines = out.splitlines()
    assert lines.index(next(ln for ln in lines if "[ok] phase 1/1" in ln)) > lines.index(
        next(ln for ln in lines if "role aws_instances done" in ln))


@pytest.mark.slow
@pytest.mark.xdist_group("runner-plan")
def test_failed_phase_names_the_exit_code_the_process_returns(offline: Sandbox) -> None:
    # t3.bogus passes the configuration check (it looks like a type, and is not arm64) but the
    # placement step finds AWS (the emulator) does not offer it: the playbook fails.
    result = offline.run("plan", "--name", "rt-progress-fail", "--worker-instance-type", "t3.bogus")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "phase provision failed (ansible-playbook exit code 2); runner.py exits 1" in result.stdout
    assert re.search(rf"^{CLOCK} \[!!\] phase 1/1 provision failed after ", result.stdout, re.M)
    assert re.search(rf"^{CLOCK} \[!!\] provision: role aws_identity failed after ", result.stdout, re.M)


@pytest.mark.slow
@pytest.mark.xdist_group("runner-plan")
def test_terminal_shows_task_n_of_m_live_and_keeps_milestones_above_it(offline: Sandbox,
                                                                      tmp_path: Path) -> None:
    env = [f"{k}={v}" for k, v in offline.env.items() if k not in SIZE_VARIABLES]
    command = shlex.join(["env", "-i", *env, sys.executable, str(RUNNER), "plan", "--name",
                          "rt-progress-tty"])
    with Terminal(f"sparklab-progress-{tmp_path.name}", command, width=160, height=60,
                  cwd=offline.root) as term:
        live = term.wait(lambda s: re.search(r"task\s+task \d+ of \d+: ", s) is not None
                         and "role aws_identity done" in s, timeout=300)
        assert re.search(rf"^{CLOCK} \[ok\] provision: role aws_identity done in ", live, re.M), live
        assert re.search(r"^phase\s+provision \(1/1\)$", live, re.M), live
        assert re.search(r"^elapsed\s+\d+", live, re.M), live
        code, end = term.wait_exit(timeout=300)
    assert code == 0, end
    milestones = ROLE_LINE.findall(end)
    assert [role for role, _ in milestones] == PROVISION_ROLES, end
    assert re.search(rf"^{CLOCK} \[ok\] phase 1/1 provision done in ", end, re.M)
    # The live line is gone at the end and no task line was printed: milestones only.
    assert not re.search(r"^task\s+task \d+ of", end, re.M) and " | task " not in end, end
    assert "`up` would create these" in end


def test_a_sparklab_progress_fact_is_shown_once_as_a_milestone() -> None:
    """The line nodes.yml sets when the background image pull starts (and addons.yml when an image
    was not pulled ahead): shown once per text, white space folded, never for a failed task."""
    out = io.StringIO()
    progress = PlainProgress(out)
    progress.start_phase("nodes", 2, 4)
    note = "pulling 8 images on each\n worker and 2 on the control plane in the background"
    fact = {"ansible_facts": {"sparklab_progress": note}}
    _events(progress,
            ("playbook_on_task_start", {"task": "Say that the images are pulling", "task_uuid": "t1"}),
            ("runner_on_ok", {"host": "cp-1", "res": fact}),
            ("runner_on_ok", {"host": "worker-1", "res": fact}),
            ("playbook_on_task_start", {"task": "Other", "task_uuid": "t2"}),
            ("runner_on_failed", {"host": "cp-1", "res": {"msg": "x", "ansible_facts": {
                "sparklab_progress": "never shown"}}}))
    notes = re.findall(rf"^{CLOCK} \[\.\.\] (.+)$", out.getvalue(), re.M)
    assert notes == ["pulling 8 images on each worker and 2 on the control plane in the background"]
