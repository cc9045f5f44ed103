#!/usr/bin/env bash
# The single test command (`make test`): installs and starts what the tests need, runs every
# check, prints `N passed, N failed` and exits non-zero if anything failed.
#
# Steps: system packages (apt) -> docker engine -> molecule base images (in the background) and
# virtualenv -> the molecule scenarios start in the background -> yamllint, ansible-lint (with every
# playbook's syntax check), collection build, ansible-test sanity and units, ruff, pytest -> the
# molecule scenarios' results.
# Only what this script started (dockerd, by PID) is stopped at the end.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=${SPARKLAB_VENV:-$ROOT/.venv}
# Bytecode of the checkout's own Python (runner.py, sparklab, the collection's plugins, the tests)
# is written and reused: a machine that sets PYTHONDONTWRITEBYTECODE otherwise compiles them again in
# every one of the thousands of processes the tests start. .gitignore, the collection build and
# .dockerignore leave __pycache__ out.
unset PYTHONDONTWRITEBYTECODE
# No test asks EC2's instance metadata service for credentials: without this, every Ansible run that
# parses inventory/sparklab.aws_ec2.yml with no credentials in its environment (the lint's syntax
# checks, for one) had botocore try 169.254.169.254, an address outside what the tests may reach.
export AWS_EC2_METADATA_DISABLED=true
WORK=$(mktemp -d /tmp/sparklab-test.XXXXXX)
DOCKERD_PIDFILE=$WORK/dockerd.pid
STEPS_PASSED=0
STEPS_FAILED=0
FAILED_NAMES=()
PYTEST_PASSED=0
PYTEST_FAILED=0
PYTEST_SKIPPED=0
START=$(date +%s)
IMAGE_PIDS=()

log() { printf '\n==> [%4ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }

cleanup() {
  local build
  for build in "${IMAGE_PIDS[@]}"; do kill "$build" 2>/dev/null || true; done  # a run that stopped early
  if [[ -n $MOLECULE_PID ]] && kill -0 "$MOLECULE_PID" 2>/dev/null; then
    pkill -TERM -P "$MOLECULE_PID" 2>/dev/null; kill "$MOLECULE_PID" 2>/dev/null || true
  fi
  if [[ -s $DOCKERD_PIDFILE ]]; then
    local pid
    pid=$(cat "$DOCKERD_PIDFILE")
    log "Stopping the docker engine this run started (PID $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# check NAME COMMAND...: run one check, count it, keep going on failure.
check() {
  local name=$1; shift
  log "$name"
  local t0=$(date +%s)
  if "$@"; then
    STEPS_PASSED=$((STEPS_PASSED + 1)); echo "--- ok: $name ($(( $(date +%s) - t0 ))s)"
  else
    STEPS_FAILED=$((STEPS_FAILED + 1)); FAILED_NAMES+=("$name"); echo "--- FAILED: $name ($(( $(date +%s) - t0 ))s)"
  fi
}

# setup NAME COMMAND...: a prerequisite; without it the run cannot go on.
setup() {
  local name=$1; shift
  log "$name"
  if ! "$@"; then
    echo "--- FAILED: $name"
    echo "0 passed, 1 failed"
    exit 1
  fi
}

install_system_packages() {
  local missing=()
  command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # A JDK: Spark's Java, and javac for the WordCount's word splitter (sparklab/job/jvm/Words.java).
  command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
  command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)  # the live view's terminal tests
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)  # scripts/pin-images' test registry
  if [[ ${#missing[@]} -eq 0 ]]; then echo "all present"; return 0; fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# find_python: print the path of a Python 3.12+ interpreter that really runs (pyenv shims on PATH
# may exist for versions that are not selected, so each candidate is executed, not just located).
find_python() {
  local c
  local pyenv=${PYENV_ROOT:-$HOME/.pyenv}
  for c in python3.12 python3.13 python3 "$pyenv"/versions/3.12*/bin/python3.12 "$pyenv"/versions/3.13*/bin/python3.13; do
    if "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'; return 0
    fi
  done
  return 1
}

make_venv() {
  local stamp=$VENV/.sparklab-requirements.sha256
  local want
  want=$(sha256sum requirements-dev.lock | cut -d' ' -f1)
  if [[ -x $VENV/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "virtualenv up to date: $VENV"; return 0
  fi
  if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    echo "removing $VENV: its Python is older than 3.12 (Ansible 14 needs 3.12+)"; rm -rf "$VENV"
  fi
  if [[ ! -x $VENV/bin/python ]]; then
    local py
    py=$(find_python) || { echo "no Python 3.12 or newer found (install python3.12 or python3.13)"; return 1; }
    echo "creating $VENV with $py"
    "$py" -m venv "$VENV" || return 1
  fi
  # pip's own exit status decides (PIPESTATUS), not the filter that hides this machine's
  # warnings about absent local package indexes; no stamp is written after a failed install.
  # The users' versions (requirements.lock's pins, unchanged) plus the test tools, every file
  # checked against its hash: nothing floats (`make lock` moves the pins on purpose).
  # --no-compile: pip would byte-compile every module of every package (the `ansible` package alone
  # has some 100 collections: about 30 s of CPU), where the tests import a small part of them; with
  # PYTHONDONTWRITEBYTECODE unset above, Python writes the bytecode of what is imported, once.
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-compile --require-hashes -r requirements-dev.lock 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  local pip_rc=${PIPESTATUS[0]}
  if [[ $pip_rc -ne 0 ]]; then echo "pip install failed (exit $pip_rc)"; return 1; fi
  "$VENV/bin/python" -c 'import ansible_runner, moto, molecule, pyspark, kubernetes_validate, psutil' || return 1
  echo "$want" > "$stamp"
}

# install_test_caches: two caches for the thousands of short Python processes the tests start, each
# loaded by a .pth line of the test virtualenv and active only when its variable, set only here,
# names a folder of this run (docs/performance.md, "Caches for the tests' short processes"):
# - tests/helpers/zip_code_cache.py: Ansible's module payloads are imported from zips, which Python
#   never keeps bytecode for, so every task compiled ansible.module_utils and amazon.aws's
#   module_utils again (about 0.1 s of CPU a task); the code compiled from a source is kept;
# - tests/helpers/botocore_data_cache.py: every AWS task parsed botocore's EC2 model (3 MB of JSON,
#   about 0.1 s); the parsed data is kept.
install_test_caches() {
  local site hook
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
  for hook in zip_code_cache botocore_data_cache; do
    cp "tests/helpers/$hook.py" "$site/_sparklab_$hook.py" || return 1
    echo "import _sparklab_$hook" >"$site/_sparklab_$hook.pth" || return 1
  done
  mkdir -p "$WORK/zip-code-cache" "$WORK/botocore-data-cache" || return 1
  export ZIPIMPORT_CODE_CACHE=$WORK/zip-code-cache BOTOCORE_DATA_CACHE=$WORK/botocore-data-cache
  echo "compiled module payloads and botocore's parsed data kept under $WORK for this run"
}

collection_build_and_install() {
  ansible-galaxy collection build --force --output-path "$WORK/build" . >/dev/null || return 1
  ansible-galaxy collection install --force --offline --no-deps -p "$WORK/collections" "$WORK"/build/sparklab-cluster-*.tar.gz >/dev/null || return 1
  # The installed collection must expose the site playbook by FQCN.
  ANSIBLE_COLLECTIONS_PATH="$WORK/collections" ansible-playbook --syntax-check -e cluster_name=syntax \
    sparklab.cluster.site >/dev/null
}

run_pytest() {
  local xml=$WORK/pytest.xml
  # loadfile: every test of a module on one worker, in order (module fixtures such as the cluster
  # harness carry state from one test to the next; xdist 3.8 with pytest 9.2 ignored xdist_group).
  # --no-loadscope-reorder: modules are handed out in collection order, where tests/conftest.py puts
  # the longest (LONG_MODULES) first; xdist's default order (most tests first) started them last.
  # --durations: the slowest tests, printed on every run so the test time is watched where it grows.
  pytest -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder -rfE --durations=25 \
    --junitxml="$xml" tests
  local rc=$?
  # The slowest modules (seconds summed over their tests): the candidates for LONG_MODULES.
  [[ -f $xml ]] && python3 - "$xml" <<'PY'
import collections, sys, xml.etree.ElementTree as ET
total = collections.Counter()
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    total[case.get("classname", "?")] += float(case.get("time", 0))
print("slowest modules (s summed over their tests):")
for name, seconds in total.most_common(10):
    print(f"{seconds:8.1f}  {name}")
PY
  if [[ -f $xml ]]; then
    read -r PYTEST_PASSED PYTEST_FAILED PYTEST_SKIPPED < <(python3 - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
s = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - s, f, s)
PY
    )
  fi
  # Any non-zero exit (5 = no tests collected, errors outside tests) without a failed test in the
  # report still counts as one failure: the suite must run cleanly.
  if [[ $rc -ne 0 && $PYTEST_FAILED -eq 0 ]]; then
    PYTEST_FAILED=1; FAILED_NAMES+=("pytest (exit $rc)")
  elif [[ $PYTEST_FAILED -ne 0 ]]; then
    FAILED_NAMES+=("pytest ($PYTEST_FAILED failed)")
  fi
}

# molecule_start: the molecule scenarios, one after the other, in the background from the moment
# the base images exist. A scenario keeps about one core busy, and so do the lints and ansible-test
# that run meanwhile (they used to run one after the other, molecule last, after pytest). Each
# scenario writes its own log and exit status; molecule_result reports them after pytest.
MOLECULE_SCENARIOS=()
MOLECULE_PID=
molecule_start() {
  local dir scenario
  for dir in molecule/*/; do
    scenario=$(basename "$dir")
    if [[ -f $dir/molecule.yml ]]; then
      MOLECULE_SCENARIOS+=("$scenario")
    elif [[ $scenario != _shared ]]; then  # _shared: the playbooks and stand-ins they share
      echo "--- FAILED: $dir has no molecule.yml"; STEPS_FAILED=$((STEPS_FAILED + 1))
      FAILED_NAMES+=("molecule scenario $scenario without molecule.yml")
    fi
  done
  (
    for scenario in "${MOLECULE_SCENARIOS[@]}"; do
      t0=$(date +%s)
      molecule test -s "$scenario" >"$WORK/molecule-$scenario.log" 2>&1
      echo "$? $(( $(date +%s) - t0 ))" >"$WORK/molecule-$scenario.rc"
    done
  ) &
  MOLECULE_PID=$!
  echo "running in the background, one after the other: ${MOLECULE_SCENARIOS[*]}"
}

# molecule_result SCENARIO: its log and how it ended (after the background run has finished).
molecule_result() {
  local scenario=$1 rc seconds
  cat "$WORK/molecule-$scenario.log" 2>/dev/null
  read -r rc seconds 2>/dev/null <"$WORK/molecule-$scenario.rc" || { echo "molecule test -s $scenario did not run"; return 1; }
  echo "(ran in the background for ${seconds}s)"
  return "$rc"
}

# build_images_start: the molecule base images (debootstrap, then docker import; a minute or two
# each when cold) build in the background while the virtualenv installs: neither needs the other.
BASE_SUITES=(bookworm trixie)
build_images_start() {
  local suite
  for suite in "${BASE_SUITES[@]}"; do
    bash scripts/build-base-image.sh "$suite" >"$WORK/image-$suite.out" 2>"$WORK/image-$suite.log" &
    IMAGE_PIDS+=("$!")
  done
  echo "building in the background: ${BASE_SUITES[*]}"
}

# build_images_wait: each build's own log, then its image name (the last line it printed).
build_images_wait() {
  local rc=0 i suite
  for i in "${!BASE_SUITES[@]}"; do
    suite=${BASE_SUITES[$i]}
    wait "${IMAGE_PIDS[$i]}" || { echo "build-base-image.sh $suite failed"; rc=1; }
    sed 's/^/  /' "$WORK/image-$suite.log" | tail -n 20
  done
  [[ $rc -eq 0 ]] || return 1
  MOLECULE_IMAGE_BOOKWORM=$(tail -n 1 "$WORK/image-bookworm.out")
  MOLECULE_IMAGE_TRIXIE=$(tail -n 1 "$WORK/image-trixie.out")
  [[ -n $MOLECULE_IMAGE_BOOKWORM && -n $MOLECULE_IMAGE_TRIXIE ]]
}

setup "System packages" install_system_packages
setup "Docker engine" bash scripts/ensure-docker.sh "$DOCKERD_PIDFILE"
setup "Molecule base images (Debian 12 bookworm, Debian 13 trixie), started" build_images_start
setup "Virtualenv" make_venv
setup "Caches for the tests' short Python processes" install_test_caches
export PATH="$VENV/bin:$PATH"
setup "Molecule base images, finished" build_images_wait
export MOLECULE_IMAGE_BOOKWORM MOLECULE_IMAGE_TRIXIE
echo "images: $MOLECULE_IMAGE_BOOKWORM $MOLECULE_IMAGE_TRIXIE"
# The scenarios live in molecule/ at the root of the collection: say so, or molecule 26 warns that
# they should move to extensions/molecule. molecule/_shared holds the playbooks they share.
export MOLECULE_GLOB='molecule/*/molecule.yml'
setup "Molecule scenarios, started" molecule_start

check "yamllint" yamllint --strict .
# ansible-lint runs `ansible-playbook --syntax-check` on every playbook it finds (site.yml and
# playbooks/*.yml among them; its syntax-check rule cannot be skipped), so no loop of its own here.
check "ansible-lint (profile production, every playbook's --syntax-check)" ansible-lint --offline
check "Collection build and install" collection_build_and_install
# The built collection as Galaxy users get it: every sanity test that applies, then the plugins'
# unit tests (tests/unit/plugins); see scripts/ansible-test.sh and docs/testing.md.
check "ansible-test sanity" bash scripts/ansible-test.sh sanity
check "ansible-test units" bash scripts/ansible-test.sh units
check "ruff" ruff check .
log "pytest"
run_pytest
log "Molecule scenarios, waiting for the background run"
wait "$MOLECULE_PID"
for scenario in "${MOLECULE_SCENARIOS[@]}"; do
  check "molecule test -s $scenario" molecule_result "$scenario"
done

log "Summary (each pytest test counts once, and so does every other check)"
echo "pytest: $PYTEST_PASSED passed, $PYTEST_FAILED failed, $PYTEST_SKIPPED skipped"
echo "other checks: $STEPS_PASSED passed, $STEPS_FAILED failed"
for n in "${FAILED_NAMES[@]}"; do echo "  failed: $n"; done
TOTAL_PASSED=$((PYTEST_PASSED + STEPS_PASSED))
TOTAL_FAILED=$((PYTEST_FAILED + STEPS_FAILED))
echo "elapsed: $(( $(date +%s) - START ))s"
# Clean up first, so that the closing line below is the last line of the run.
cleanup
trap - EXIT
# Skipped tests are shown, never counted as passed (the real-AWS end-to-end test is skipped here).
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed, $PYTEST_SKIPPED skipped"
[[ $TOTAL_FAILED -eq 0 ]]
