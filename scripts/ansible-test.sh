#!/usr/bin/env bash
# ansible-test on the collection as Galaxy users get it: `ansible-test sanity` (every test that applies
# to a collection) and `ansible-test units` (tests/unit/plugins), run by scripts/test.sh.
#
#   bash scripts/ansible-test.sh sanity|units [extra ansible-test options]
#
# ansible-test needs the collection at .../ansible_collections/sparklab/cluster: the built artifact
# (ansible-galaxy collection build, so build_ignore applies) is unpacked there, with tests/sanity and
# tests/unit/plugins (which the artifact leaves out) beside it, and the collections it depends on
# linked in from the virtualenv's ansible package (amazon.aws's doc fragments and module_utils).
# It runs with the virtualenv's Python (--local --python 3.12). Its sanity tests install their own
# pinned tools (pylint, yamllint, voluptuous, antsibull-docs-parser, pycodestyle, ...) from PyPI
# into virtualenvs of its own under $SPARKLAB_ANSIBLE_TEST_HOME (kept between runs), whose pip comes
# from scripts/ansible_test_get_pip.py, not from ansible-test's download site: see docs/testing.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command=${1:?usage: ansible-test.sh sanity|units [options]}
shift
PYTHON_VERSION=3.12
TEST_HOME=${SPARKLAB_ANSIBLE_TEST_HOME:-$ROOT/.cache/ansible-test-home}
STAGE=$(mktemp -d /tmp/sparklab-ansible-test.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT

collection=$STAGE/ansible_collections/sparklab/cluster
mkdir -p "$collection"
ansible-galaxy collection build --force --output-path "$STAGE/build" "$ROOT" >/dev/null
tar -xzf "$STAGE"/build/sparklab-cluster-*.tar.gz -C "$collection"
mkdir -p "$collection/tests/unit"
cp -r "$ROOT/tests/sanity" "$collection/tests/sanity"
cp -r "$ROOT/tests/unit/plugins" "$collection/tests/unit/plugins"
find "$collection/tests" -name __pycache__ -prune -exec rm -rf {} +
site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections
for namespace in amazon kubernetes community ansible; do
  ln -s "$site/$namespace" "$STAGE/ansible_collections/$namespace"
done

# ansible-test runs ~/.ansible/test/cache/get_pip_<pip version>.py in each new virtualenv.
pip_version=$(python - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages


class Python:
    version = "3.12"


print(get_venv_packages(Python())["pip"])
PY
)
mkdir -p "$TEST_HOME/.ansible/test/cache"
cp "$ROOT/scripts/ansible_test_get_pip.py" "$TEST_HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$collection"
HOME=$TEST_HOME ansible-test "$command" --python "$PYTHON_VERSION" --local --color no "$@"
