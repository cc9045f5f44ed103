"""Unknown flags: reported as unknown flags, with "did you mean" only when a real one is close."""

from __future__ import annotations

import pytest
from runner_sandbox import Sandbox


@pytest.mark.parametrize(
    ("args", "line"),
    [
        # A flag without a value that is no configuration key: an unknown flag, far from every flag.
        (["--dry-run"], "error: --dry-run: unknown flag (fix: see python3 runner.py <verb> --help for the "
                        "flags of a verb)"),
        # The same before another flag: that flag is not taken as its value.
        (["--dry-run", "--name", "demo"], "error: --dry-run: unknown flag (fix: see python3 runner.py <verb> "
                                          "--help for the flags of a verb)"),
        # Close to --worker-count: suggested.
        (["--name", "demo", "--worker-cont"], "error: --worker-cont: unknown flag (fix: did you mean "
                                              "--worker-count?)"),
        # A real key without its value stays "missing value".
        (["--name", "demo", "--worker-count"], "error: --worker-count: missing value (fix: --worker-count "
                                               "<value>)"),
        # With a value: an unknown key; a close one is suggested, a far one is not.
        (["--name", "demo", "--wroker-count", "3"], "error: cluster_wroker_count: unknown configuration key "
                                                    "(from --wroker-count) (fix: did you mean "
                                                    "cluster_worker_count?)"),
        (["--name", "demo", "--zzzz", "3"], "error: cluster_zzzz: unknown configuration key (from --zzzz) "
                                            "(fix: remove it; see cluster.example.yml for every key)"),
    ],
)
def test_unknown_flags_in_one_line_with_close_suggestions_only(offline: Sandbox, args: list[str],
                                                               line: str) -> None:
    result = offline.run("plan", *args, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""  # rejected before anything started


@pytest.mark.parametrize(
    ("verb", "args", "line"),
    [
        # Close to list's own --all-regions, and closer to it than to any configuration key.
        ("list", ["--all-region"], "error: --all-region: unknown flag (fix: did you mean --all-regions?)"),
        # The misspelt flag does not swallow the next option as its value.
        ("list", ["--all-regons", "-o", "json"], "error: --all-regons: unknown flag (fix: did you mean "
                                                 "--all-regions?)"),
        ("down", ["--yess"], "error: --yess: unknown flag (fix: did you mean --yes?)"),
    ],
)
def test_a_misspelt_flag_of_the_verb_itself_is_suggested(offline: Sandbox, verb: str, args: list[str],
                                                         line: str) -> None:
    result = offline.run(verb, *args, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""
