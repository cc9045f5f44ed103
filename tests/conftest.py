"""Session-wide checks shared by every test folder."""

from __future__ import annotations

import sys

import pytest

# The collection's own unit tests import it as ``ansible_collections.sparklab.cluster``; they are run by
# `ansible-test units` (scripts/ansible-test.sh), which puts the collection on its path.
collect_ignore = ["unit/plugins"]


def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist the workers collect, and a pytest.exit in a worker only crashes it: xdist
    # starts another, which tries the download again, and the run goes on. The controller settles
    # the reference data first instead (one download, into the cache the workers then read) and
    # stops the whole run with its one line, before any worker starts.
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        import reference_data

        if reference_data.ERROR:
            pytest.exit(reference_data.ERROR, returncode=2)


def pytest_collection_finish(session: pytest.Session) -> None:
    # The upstream reference data (tests/helpers/reference_data.py) could be neither found nor
    # fetched: stop with its one-line message and fix instead of failing test by test.
    reference = sys.modules.get("reference_data")
    if reference is not None and reference.ERROR:
        pytest.exit(reference.ERROR, returncode=2)
