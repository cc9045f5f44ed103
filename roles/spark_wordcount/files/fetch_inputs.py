"""Fill $SPARKLAB_INPUT in a job's pod: ``python3 fetch_inputs.py INPUTS.json FOLDER``.

The init container of the driver and of every executor runs this (the spark_wordcount role passes
it with ``python3 -c``, so it needs no volume of its own). ``INPUTS.json`` is a list of
``{"name": "<path under FOLDER>", "url": "<presigned or https URL>"}`` from the job's Secret.
Each file is downloaded to FOLDER/name (parents made), tried three times. A name that is absolute
or holds ``..`` is refused. No URL is ever printed: a URL's query string is its credential. Exit
status 1 names the input that could not be fetched; the pod then never starts and the run fails
with that line in the init container's log.
"""

import json
import os
import shutil
import sys
import time
import urllib.request

ATTEMPTS = 3


def target(folder, name):
    parts = name.split("/")
    if not name or name.startswith("/") or ".." in parts or "" in parts:
        raise ValueError(f"input name {name!r} is not a relative path inside the input folder")
    return os.path.join(folder, *parts)


def fetch(url, path):
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(url, timeout=120) as answer, open(path + ".part", "wb") as out:
                shutil.copyfileobj(answer, out, 1 << 20)
            os.replace(path + ".part", path)
            return os.path.getsize(path)
        except OSError as err:
            reason = getattr(err, "code", None) or type(err).__name__
            if attempt == ATTEMPTS:
                raise OSError(f"HTTP {reason}" if isinstance(reason, int) else str(reason)) from None
            time.sleep(2 * attempt)
    return 0


def main(inputs_file, folder):
    with open(inputs_file, encoding="utf-8") as handle:
        inputs = json.load(handle)
    total = 0
    for item in inputs:
        name = str(item.get("name", ""))
        try:
            path = target(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            size = fetch(str(item["url"]), path)
        except (OSError, ValueError, KeyError) as err:
            print(f"sparklab: input {name} could not be fetched: {err}", file=sys.stderr, flush=True)
            return 1
        total += size
        print(f"sparklab: input {name}: {size} bytes", flush=True)
    print(f"sparklab: {len(inputs)} input file(s), {total} bytes in {folder}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
