"""The launcher (sparklab/job/launcher.py) as the driver runs it: a subprocess with an application,
no Spark needed. It reports the exit status and the traceback's last line in the result line the
runner and the role parse, keeps the application's own result, and uploads the output folder."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sparklab.core.contract import module_utils
from sparklab.job import launcher

LAUNCHER = Path(launcher.__file__)


def launch(tmp_path: Path, source: str, *args: str,
           output_url: str = "") -> tuple[subprocess.CompletedProcess, dict]:
    app = tmp_path / "app.py"
    app.write_text(source, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "SPARKLAB_OUTPUT": str(tmp_path / "out")}
    url_file = tmp_path / "output.json"  # on a cluster: the job's Secret, mounted into the driver
    url_file.write_text(json.dumps({"url": output_url}), encoding="utf-8")
    url = ["--output-url-file", str(url_file)] if output_url else []
    cmd = [sys.executable, str(LAUNCHER), *url, str(app), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False)
    found = module_utils("driver_log").read_driver_log((proc.stdout + proc.stderr).splitlines())
    return proc, found


def test_prefixes_are_the_contracts() -> None:
    assert launcher.RESULT_PREFIX == module_utils("driver_log").JOB_RESULT_PREFIX
    assert launcher.ERROR_PREFIX == module_utils("driver_log").JOB_ERROR_PREFIX


def test_the_application_runs_as_main_with_its_arguments(tmp_path: Path) -> None:
    source = "import sys\nif __name__ == '__main__':\n    print('args', sys.argv[1:])\n"
    proc, found = launch(tmp_path, source, "--top", "5")
    assert proc.returncode == 0
    assert "args ['--top', '5']" in proc.stdout
    assert found["result"]["exit_status"] == 0 and found["result"]["error"] == "" and found["error"] is None


def test_an_exception_is_exit_1_with_the_tracebacks_last_line(tmp_path: Path) -> None:
    proc, found = launch(tmp_path, "def f():\n    raise KeyError('region')\nf()\n")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert found["result"]["exit_status"] == 1 and found["error"] == "KeyError: 'region'"


@pytest.mark.parametrize(("code", "status", "error"), [
    ("0", 0, ""), ("None", 0, ""), ("3", 3, "the application exited with status 3"),
    ("'bad rows'", 1, "bad rows")])
def test_sys_exit_is_the_exit_status(tmp_path: Path, code: str, status: int, error: str) -> None:
    proc, found = launch(tmp_path, f"import sys\nsys.exit({code})\n")
    assert proc.returncode == status
    assert found["result"]["exit_status"] == status and found["result"]["error"] == error


def test_the_applications_own_result_line_is_kept_and_completed(tmp_path: Path) -> None:
    prefix = module_utils("driver_log").JOB_RESULT_PREFIX
    proc, found = launch(tmp_path, f"print('{prefix} ' + '{{\"words\": 6, \"top\": []}}')\n")
    assert proc.returncode == 0
    assert found["result"]["words"] == 6 and found["result"]["exit_status"] == 0


class PutHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_PUT(self) -> None:  # noqa: N802 - http.server naming
        self.server.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.end_headers()


@pytest.fixture
def put_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PutHandler)
    server.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_the_output_folder_is_packed_and_put_to_the_url(tmp_path: Path, put_server) -> None:
    source = ("import os\nout = os.environ['SPARKLAB_OUTPUT']\nos.makedirs(out + '/by_region')\n"
              "open(out + '/by_region/part-0.csv', 'w').write('region,total\\nnorth,3\\n')\n"
              "os.symlink('/etc/passwd', out + '/link')\n")
    url = f"http://127.0.0.1:{put_server.server_port}/output.tar.gz?X-Amz-Signature=x"
    proc, found = launch(tmp_path, source, output_url=url)
    assert proc.returncode == 0, proc.stderr
    assert found["result"]["collected"] == {"files": 1, "bytes": 21, "uploaded": True, "note": ""}
    (body,) = put_server.bodies
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["by_region", "by_region/part-0.csv"]  # the link is left out
        assert tar.extractfile("by_region/part-0.csv").read() == b"region,total\nnorth,3\n"


def test_an_output_over_the_limit_is_not_uploaded_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 2048)
    found = launcher.collect_output(tmp_path, "http://127.0.0.1:9/never", limit=1024)
    assert found["uploaded"] is False and found["bytes"] == 2048
    assert found["note"].startswith("output not uploaded: 2048 bytes under $SPARKLAB_OUTPUT, over the 1024")
    assert json.dumps(found)  # it goes into the result line
