"""The launcher: runs a user's PySpark application as ``__main__`` and reports how it ended.

``python launcher.py [--output-url-file FILE] [--status-file FILE] APP.py [APP ARGS...]``

Standard library only: on a cluster this file travels in the job's ConfigMap (beside the
application; roles/spark_wordcount puts it there) and is the driver's main file; locally it is the
driver process of ``submit --local`` and ``wordcount --local``. It

* makes ``$SPARKLAB_OUTPUT`` (default ``./output``) and runs the application with :mod:`runpy`
  as ``__main__``, ``sys.argv`` being the application and its arguments;
* catches how it ended: a normal end or ``sys.exit(0)`` is exit status 0; ``sys.exit(N)``, or an
  exception (its traceback printed, as Python would), is the failure, the traceback's last line
  being the error;
* stops the SparkContext the application left open, then, with ``--output-url-file`` (a JSON
  file ``{"url": ...}``: on a cluster the job's Secret, so the presigned URL is in no argument,
  process list or manifest), packs ``$SPARKLAB_OUTPUT`` into a gzip tar and PUTs it to that URL,
  unless it holds more than ``OUTPUT_LIMIT_BYTES`` (then nothing is uploaded and the result says so);
* prints one ``SPARKLAB_RESULT {json}`` line (the parser is ``read_driver_log`` of the contract)
  with the exit status, the error and the output's size (``collected``), added to the result
  line the application printed itself if it did (WordCount does), plus a ``SPARKLAB_ERROR`` line
  on a failure, and exits with the application's status.

With ``--status-file`` (local runs), a thread writes the Spark UI address there once the
application has started its SparkContext, for the live view.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import runpy
import subprocess
import sys
import tarfile
import threading
import time
import traceback
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULT_PREFIX = "SPARKLAB_RESULT"  # the same prefixes as wordcount_app.py and the contract
ERROR_PREFIX = "SPARKLAB_ERROR"
OUTPUT_LIMIT_BYTES = 1024**3  # 1 GiB
OUTPUT_ARCHIVE = "output.tar.gz"
JVM_EXIT_SECONDS = 300  # a JVM writing a new class archive at exit takes 10-60 s


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _write_status(path: Path, **data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def _watch_spark(path: Path, done: threading.Event) -> None:
    """Write the Spark UI address to ``path`` once the application's SparkContext exists."""
    _write_status(path, state="starting")
    while not done.wait(0.5):
        context = getattr(sys.modules.get("pyspark"), "SparkContext", None)
        active = getattr(context, "_active_spark_context", None)
        if active is not None:
            try:
                _write_status(path, state="running", spark_ui=active.uiWebUrl or "")
            except Exception:  # the context is stopping
                continue
            return


def run_app(app: Path, args: Sequence[str]) -> tuple[int, str]:
    """Run ``app`` as ``__main__``; its exit status and error line ("" when it succeeded)."""
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(app), *args]
    sys.path.insert(0, str(app.parent))
    try:
        runpy.run_path(str(app), run_name="__main__")
    except SystemExit as end:
        code = end.code
        if code is None or code == 0:
            return 0, ""
        if isinstance(code, int):
            return code, f"the application exited with status {code}"
        print(code, file=sys.stderr, flush=True)  # sys.exit("message"), as Python prints it
        return 1, str(code)
    except BaseException as err:  # noqa: BLE001 - the application's own failure, reported
        traceback.print_exc()
        sys.stderr.flush()
        return 1, traceback.format_exception_only(type(err), err)[-1].strip()
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0, ""


class ResultTee:
    """``sys.stdout`` as it was, remembering the last ``SPARKLAB_RESULT`` line the application printed
    (WordCount prints one): the launcher's own result line adds to it instead of hiding it."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.app_result, self._line = stream, {}, ""

    def write(self, text: str) -> int:
        self._line += text
        *done, self._line = self._line.split("\n")
        for line in done:
            if line.strip().startswith(RESULT_PREFIX + " "):
                try:
                    found = json.loads(line.strip()[len(RESULT_PREFIX) + 1:])
                except ValueError:
                    continue
                self.app_result = found if isinstance(found, dict) else {}
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def stop_spark(wait: float = JVM_EXIT_SECONDS) -> None:
    """Stop the SparkContext the application left running (its work is done), then wait for the
    JVM to exit (closing its stdin ends pyspark's gateway; a JVM writing a class archive takes a while)."""
    context = getattr(sys.modules.get("pyspark"), "SparkContext", None)
    jvm = getattr(getattr(context, "_gateway", None), "proc", None)
    active = getattr(context, "_active_spark_context", None)
    if active is not None:
        try:
            active.stop()
        except Exception as err:  # noqa: BLE001 - nothing left to save
            print(f"sparklab: stopping Spark: {err}", file=sys.stderr, flush=True)
    if jvm is None:
        return
    with contextlib.suppress(OSError, ValueError):
        jvm.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        jvm.wait(timeout=wait)


def output_size(folder: Path) -> tuple[int, int]:
    """Files and bytes under ``folder`` (links are not followed)."""
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                files += 1
                size += path.stat().st_size
    return files, size


def pack(folder: Path) -> bytes:
    """A gzip tar of the regular files and folders under ``folder``, names relative to it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for root, dirs, names in os.walk(folder):
            for name in sorted(dirs + names):
                path = Path(root) / name
                if path.is_symlink() or not (path.is_file() or path.is_dir()):
                    continue
                tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return buffer.getvalue()


def upload(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": "application/gzip"})
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 - a presigned https URL
        answer.read()


def collect_output(folder: Path, url: str, limit: int = OUTPUT_LIMIT_BYTES) -> dict[str, Any]:
    """What the application wrote, and (with ``url``) its upload; never raises."""
    files, size = output_size(folder)
    found: dict[str, Any] = {"files": files, "bytes": size, "uploaded": False, "note": ""}
    if not url or files == 0:
        return found
    if size > limit:
        found["note"] = (f"output not uploaded: {size} bytes under $SPARKLAB_OUTPUT, over the "
                         f"{limit} byte limit (write less, or write to your own bucket)")
        return found
    try:
        upload(url, pack(folder))
        found["uploaded"] = True
    except Exception as err:  # noqa: BLE001 - the run still reports
        found["note"] = f"output not uploaded: {type(err).__name__}: {err}"[:500]
    return found


def read_output_url(path: str) -> str:
    """The presigned PUT URL in ``path`` (``{"url": ...}``); "" without a file or a URL."""
    if not path:
        return ""
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(f"sparklab: no output URL: {path}: {type(err).__name__}", file=sys.stderr, flush=True)
        return ""
    return str(found.get("url") or "") if isinstance(found, dict) else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="launcher.py")
    parser.add_argument("--output-url-file", default="")
    parser.add_argument("--status-file", default="")
    parser.add_argument("app")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    app = Path(options.app).resolve()
    output = Path(os.environ.setdefault("SPARKLAB_OUTPUT", str(Path.cwd() / "output")))
    output.mkdir(parents=True, exist_ok=True)
    done = threading.Event()
    if options.status_file:
        threading.Thread(target=_watch_spark, args=(Path(options.status_file), done), daemon=True).start()
    started = time.time()
    tee = ResultTee(sys.stdout)
    sys.stdout = tee
    try:
        status, error = run_app(app, options.args)
    finally:
        sys.stdout = tee.stream
    done.set()
    stop_spark()
    ended = time.time()
    # The application's own result (WordCount's) keeps its keys; the launcher's are added.
    result = {"started_at": _utc(started), "finished_at": _utc(ended),
              "elapsed_seconds": round(ended - started, 3), **tee.app_result,
              "app": app.name, "exit_status": status, "error": error,
              "collected": collect_output(output, read_output_url(options.output_url_file))}
    if error:
        print(f"{ERROR_PREFIX} {json.dumps({'error': error[:2000]})}", flush=True)
    print(f"{RESULT_PREFIX} {json.dumps(result, ensure_ascii=True, sort_keys=True)}", flush=True)
    if options.status_file:
        _write_status(Path(options.status_file), state="completed" if status == 0 else "failed")
    return status if 0 <= status < 256 else 1


if __name__ == "__main__":
    sys.exit(main())
