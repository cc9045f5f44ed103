"""Session-wide checks shared by every test folder."""

from __future__ import annotations

import sys

import pytest

# The collection's own unit tests import it as ``ansible_collections.sparklab.cluster``; they are run by
# `ansible-test units` (scripts/ansible-test.sh), which puts the collection on its path.
collect_ignore = ["unit/plugins"]

# The modules that take longest, longest first (seconds summed over their tests, from the JUnit of a
# `make test` run on the 2-core machine: about 1180, 920 and 830 s before the cuts of
# docs/performance.md "Test time"). scripts/test.sh gives each module whole to one worker
# (`--dist loadfile`) in collection order (`--no-loadscope-reorder`; xdist's own order, most tests
# first, put these few-but-long modules toward the end, where the run could end on one of them
# alone): these start first and the short modules fill the other worker beside them.
LONG_MODULES = (
    "tests/emulator/test_provision_faults.py",
    "tests/emulator/test_cluster_safety.py",
    "tests/cluster/test_cluster_playbooks.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist the workers collect, and a pytest.exit in a worker only crashes it: xdist
    # starts another, which tries the download again, and the run goes on. The controller settles
    # the reference data first instead (one download, into the cache the workers then read) and
    # stops the whole run with its one line, before any worker starts.
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        import reference_data

        if reference_data.ERROR:
            pytest.exit(reference_data.ERROR, returncode=2)


@pytest.hookimpl(trylast=True)  # after pytest's own ordering by fixture scope, which it keeps
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: the long modules first, in LONG_MODULES' order; every other module after them in
    # collection order; the tests of each module stay together and in their own order (module
    # fixtures carry state from one test to the next). Every worker sorts the same way, as xdist needs.
    rank = {path: n for n, path in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(LONG_MODULES)))


def pytest_collection_finish(session: pytest.Session) -> None:
    # The upstream reference data (tests/helpers/reference_data.py) could be neither found nor
    # fetched: stop with its one-line message and fix instead of failing test by test.
    reference = sys.modules.get("reference_data")
    if reference is not None and reference.ERROR:
        pytest.exit(reference.ERROR, returncode=2)
