"""runner.py on a machine without its virtualenv: help at once, the right Python found by running
it, one line when there is none, the virtualenv built with it, and reused silently afterwards.

PATH is faked per test: a failing pyenv-style shim, an old Python, a working 3.12+ behind a
wrapper. Every requirements file is empty (or absent) so no test downloads anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from runner_sandbox import REPO

# Pythons without sparklab's dependencies: the 3.12+ this venv was made from, and an old one.
BASE_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
OLD_PYTHON = Path("/usr/bin/python3.11")


def clone(tmp_path: Path, lock: str | None = "") -> Path:
    """runner.py and the package, as a fresh clone without a virtualenv."""
    root = tmp_path / "clone"
    root.mkdir()
    shutil.copy(REPO / "runner.py", root)
    shutil.copytree(REPO / "sparklab", root / "sparklab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "plugins" / "module_utils", root / "plugins" / "module_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "galaxy.yml", root)
    for role in ("helm", "spark_wordcount"):
        (root / "roles" / role / "defaults").mkdir(parents=True)
        shutil.copy(REPO / "roles" / role / "defaults" / "main.yml", root / "roles" / role / "defaults")
    if lock is not None:
        (root / "requirements.lock").write_text(lock)
    return root


def fake_bin(tmp_path: Path, **programs: str) -> Path:
    """A folder of executables: ``name=target`` links to a Python, ``name="shim"`` fails like pyenv."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, target in programs.items():
        path = folder / name.replace("_", ".")
        if target == "shim":
            marker = tmp_path / f"ran-{path.name}"
            path.write_text(f"#!/bin/sh\n: > {marker}\necho 'pyenv: {path.name}: command not found' >&2\n"
                            "exit 127\n")
        else:
            path.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        path.chmod(0o755)
    return folder


def run(python: Path, root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-I", str(root / "runner.py"), *args], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300, check=False)


def sandbox_env(tmp_path: Path, path: Path | str, venv: Path) -> dict[str, str]:
    (tmp_path / "home").mkdir(exist_ok=True)
    return {"PATH": str(path), "HOME": str(tmp_path / "home"), "SPARKLAB_VENV": str(venv)}


def test_help_answers_at_once_without_creating_a_virtualenv(tmp_path: Path) -> None:
    root = clone(tmp_path)
    venv = tmp_path / "no-venv-yet"
    env = sandbox_env(tmp_path, "/usr/bin:/bin", venv)
    for python in (OLD_PYTHON, BASE_PYTHON):
        top = run(python, root, env, "--help")
        assert top.returncode == 0 and top.stderr == "", top.stderr
        assert "usage: runner.py" in top.stdout and "wordcount" in top.stdout
        verb = run(python, root, env, "down", "--help")
        assert verb.returncode == 0 and "--yes" in verb.stdout, verb.stdout + verb.stderr
        # Per-verb help lists the configuration flags, from the one schema.
        for flag in ("--name", "--worker-count", "--aws-region", "--ttl-hours"):
            assert f"\n  {flag} " in verb.stdout, flag
        version = run(python, root, env, "--version")
        assert version.returncode == 0 and version.stdout.startswith("sparklab "), version.stderr
        assert "Kubernetes " in version.stdout and "Helm v4." in version.stdout
        bad = run(python, root, env, "plna")
        assert bad.returncode == 2 and "invalid choice: 'plna'" in bad.stderr
    assert not venv.exists()


def test_no_python_312_says_what_to_install_in_one_line_and_installs_nothing(tmp_path: Path) -> None:
    root = clone(tmp_path, lock="six==1.17.0 --hash=sha256:" + "0" * 64 + "\n")
    venv = tmp_path / "venv"
    folder = fake_bin(tmp_path, python3=str(OLD_PYTHON), python3_12="shim", python3_13="shim")
    result = run(OLD_PYTHON, root, sandbox_env(tmp_path, folder, venv), "plan", "--name", "demo")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("sparklab: sparklab needs Python 3.12 or newer and found only Python 3.11")
    assert "pyenv install 3.12" in lines[0] and "SPARKLAB_PYTHON" in lines[0]
    assert (tmp_path / "ran-python3.12").exists() and (tmp_path / "ran-python3.13").exists()
    assert not venv.exists() and result.stdout == ""


def test_a_working_python_312_on_path_builds_the_virtualenv(tmp_path: Path) -> None:
    """The shim named python3.13 fails; python3.12 (a wrapper around a 3.12+) runs and is used."""
    root = clone(tmp_path)
    venv = tmp_path / "venv"
    folder = fake_bin(tmp_path, python3=str(OLD_PYTHON), python3_13="shim", python3_12=str(BASE_PYTHON))
    result = run(OLD_PYTHON, root, sandbox_env(tmp_path, folder, venv), "plan", "--name", "demo")
    err = result.stderr
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}"
    assert f"first run: building {venv} with Python {wanted} ({folder / 'python3.12'})" in err, err
    assert f"re-running inside {venv}" in err
    # The empty lock leaves the packages out; the re-executed runner.py stops instead of looping.
    assert "still missing after setting up" in err and result.returncode == 1
    assert f"version = {wanted}" in (venv / "pyvenv.cfg").read_text()
    assert (tmp_path / "ran-python3.13").exists()


def test_an_existing_virtualenv_is_used_without_a_word(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path, "/usr/bin:/bin", REPO / ".venv")
    env["SPARKLAB_HOME"] = str(tmp_path / "state")
    result = run(OLD_PYTHON, REPO, env, "kubeconfig", "--name", "demo")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: no kubeconfig at {tmp_path / 'state' / 'demo' / 'kubeconfig'} yet "
        "(fix: python3 runner.py up --name demo)"]


def test_a_virtualenv_of_an_old_python_is_refused_in_one_line(tmp_path: Path) -> None:
    root = clone(tmp_path)
    venv = tmp_path / "old-venv"
    subprocess.run([str(OLD_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
    result = run(OLD_PYTHON, root, sandbox_env(tmp_path, "/usr/bin:/bin", venv), "status", "--name", "demo")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"sparklab: the virtualenv {venv} was built with Python 3.11; sparklab needs 3.12 or newer "
        f"(fix: rm -rf {venv} and run runner.py again)"]
    assert os.listdir(venv / "bin")  # left as it was


def probe_wheel(folder: Path) -> tuple[Path, str]:
    """A tiny real wheel (module ``sparklab_probe``) and its sha256, so that pip installs offline."""
    import base64
    import hashlib
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "sparklab_probe-1.0-py3-none-any.whl"
    info = "sparklab_probe-1.0.dist-info"
    files = {"sparklab_probe.py": b"VALUE = 1\n",
             f"{info}/METADATA": b"Metadata-Version: 2.1\nName: sparklab-probe\nVersion: 1.0\n",
             f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n"}
    record = []
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel, hashlib.sha256(wheel.read_bytes()).hexdigest()


def offline_pip(wheel: Path) -> dict[str, str]:
    """pip finds the probe wheel in its folder and asks no index; the machine's pip config is ignored."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheel.parent), "PIP_CONFIG_FILE": os.devnull}


def java_free_path(tmp_path: Path) -> Path:
    """A PATH folder with the Pythons but no java: what a machine without Java offers."""
    return fake_bin(tmp_path, python3=str(OLD_PYTHON), python3_12=str(BASE_PYTHON))


def test_first_local_run_without_java_says_what_to_install_before_building_anything(tmp_path: Path) -> None:
    root = clone(tmp_path, lock="six==1.17.0 --hash=sha256:" + "0" * 64 + "\n")
    shutil.copy(REPO / "requirements-local.lock", root)
    venv = tmp_path / "venv"
    result = run(OLD_PYTHON, root, sandbox_env(tmp_path, java_free_path(tmp_path), venv),
                 "wordcount", "--local", "--generate", "1MB")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: --local needs Java to run Spark: no `java` on PATH"), lines
    assert "openjdk-17-jdk-headless" in lines[0]
    assert not venv.exists() and result.stdout == ""


def test_first_local_run_installs_runtime_and_local_spark_in_one_pip_call(tmp_path: Path) -> None:
    """The first command is `wordcount --local`: one line says what and how big, one pip call installs
    both lock files (here: an empty runtime lock and a local lock holding a probe wheel)."""
    root = clone(tmp_path)
    wheel, digest = probe_wheel(tmp_path / "wheels")
    (root / "requirements-local.lock").write_text(f"sparklab-probe==1.0 --hash=sha256:{digest}\n")
    venv = tmp_path / "venv"
    env = {**sandbox_env(tmp_path, f"{java_free_path(tmp_path)}:/usr/bin:/bin", venv), **offline_pip(wheel)}
    result = run(OLD_PYTHON, root, env, "wordcount", "--local", "--generate", "1MB")
    err = result.stderr
    assert (f"first --local run: installing local Spark (sparklab-probe 1.0, about 430 MB download) "
            f"into {venv}, once") in err
    assert "sparklab: installed 1 packages in" in err, err
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import sparklab_probe"], check=False)
    assert done.returncode == 0
    # No pyspark in the probe lock: the re-executed runner finds the runtime modules missing and stops.
    assert "still missing after setting up" in err and result.returncode == 1


def test_first_cluster_command_never_installs_local_spark(tmp_path: Path) -> None:
    root = clone(tmp_path)
    wheel, digest = probe_wheel(tmp_path / "wheels")
    (root / "requirements-local.lock").write_text(f"sparklab-probe==1.0 --hash=sha256:{digest}\n")
    venv = tmp_path / "venv"
    env = {**sandbox_env(tmp_path, f"{java_free_path(tmp_path)}:/usr/bin:/bin", venv), **offline_pip(wheel)}
    result = run(OLD_PYTHON, root, env, "plan", "--name", "demo")
    assert "local Spark" not in result.stderr and "first run: building" in result.stderr
    assert not list(venv.glob("lib/python3*/site-packages/sparklab_probe*"))


LOCAL_INSTALL = """
import sys
from pathlib import Path
from sparklab.job.local import spark as local_spark
from sparklab.core.errors import BadInput
local_spark.MODULES = ("sparklab_probe",)
try:
    print("installed" if local_spark.ensure_installed(Path(sys.argv[1])) else "present")
    print("again:", "installed" if local_spark.ensure_installed(Path(sys.argv[1])) else "present")
except BadInput as err:
    print("bad input:", err)
"""


def test_a_later_first_local_run_installs_local_spark_into_the_runners_virtualenv(tmp_path: Path) -> None:
    root = clone(tmp_path)
    wheel, digest = probe_wheel(tmp_path / "wheels")
    (root / "requirements-local.lock").write_text(f"sparklab-probe==1.0 --hash=sha256:{digest}\n")
    venv = tmp_path / "venv"
    subprocess.run([str(BASE_PYTHON), "-m", "venv", str(venv)], check=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root), **offline_pip(wheel)}
    done = subprocess.run([str(venv / "bin" / "python"), "-c", LOCAL_INSTALL, str(root)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.splitlines() == ["installed", "again: present"], done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == ("sparklab: first --local run: installing local Spark (sparklab-probe 1.0, "
                        f"about 430 MB download) into {venv}, once")
    assert lines[-1].startswith("sparklab: installed 1 packages in ")
    # A Python that is no virtualenv is never installed into: one line with the fix.
    outside = subprocess.run([str(BASE_PYTHON), "-c", LOCAL_INSTALL, str(root)], env=env, capture_output=True,
                             text=True, timeout=60, check=False)
    assert outside.stdout.startswith("bad input: --local needs sparklab_probe, missing from "), outside.stdout
    assert "installs only into its own virtualenv (fix: " in outside.stdout and outside.stderr == ""
