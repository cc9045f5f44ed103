"""`runner.py down --other-owner` passes the teardown role's opt-in; without it the variable is unset."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from sparklab import cli
from sparklab.commands import down as down_command


@pytest.mark.parametrize(
    ("argv", "expected"), [(["down", "--yes", "--other-owner"], True), (["down", "--yes"], None)]
)
def test_other_owner_flag_reaches_the_teardown_playbook(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: bool | None
) -> None:
    args, _overrides = cli.parse(argv)
    seen: dict[str, Any] = {}

    class Ctx:
        def __init__(self) -> None:
            self.args = args

        def config(self) -> Any:
            return SimpleNamespace(name="lab", region="eu-west-1", extravars=lambda **extra: dict(extra))

        def ansible_vars(self) -> dict[str, Any]:
            return {}

        def say(self, text: str) -> None:
            return

        def command(self, *parts: str) -> str:
            return " ".join(parts)

    def fake_run(ctx: Any, cfg: Any, verb: str, creds: Any, run: Any, extravars: dict[str, Any]) -> Any:
        seen.update(extravars)
        return SimpleNamespace(canceled=False, ok=True)

    monkeypatch.setattr(down_command, "resolve_credentials", lambda: None)
    monkeypatch.setattr(down_command, "run_playbooks", fake_run)
    monkeypatch.setattr(down_command.lock, "hold", lambda cluster, verb, region="": None)
    monkeypatch.setattr(down_command, "describe_existing", lambda *a, **k: SimpleNamespace(count=0))
    monkeypatch.setattr(down_command, "user_target", lambda cfg: None)
    monkeypatch.setattr(
        down_command.ClusterState,
        "for_cluster",
        staticmethod(lambda name, region="": SimpleNamespace(audit=lambda text: None,
                                                          new_run=lambda verb: None)),
    )
    assert down_command.down(Ctx()) == 0
    assert seen.get("aws_teardown_allow_other_owner") is expected
