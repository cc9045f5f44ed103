"""The WordCount's word splitter in the JVM: a jar built from ``sparklab/job/jvm/Words.java``.

Spark's ``regexp_extract_all`` with the word rule's character classes was the largest per-row cost
of the job (1.4 s of the 2.6 s a warm JVM spends on 40 MB of text). ``Words`` applies the same
rule with a loop over code points and ``Character.getType``, the table ``java.util.regex``
consults for those classes, so the words are the same for every code point. Measured, fresh JVMs,
40 MB, 2 cores, C1 only: the job 5.5 s with the expression, 4.8 s with the splitter. It also
lowercases, as Spark's ``lower`` does, in the same pass (ASCII by a table, other code points by
ICU's own mappings read from tables): on text in other scripts, ``lower`` had decoded every row
from UTF-8, mapped it with ICU and encoded it again before the splitter decoded it once more.

The jar is built from the source with the local JDK's ``javac`` (``--release 17``, the Java of
the ``apache/spark`` image) into the user's cache folder, once per source; a machine without a
JDK runs the regular expression (the same counts, slower). The application uses the splitter
when its class is on Spark's class path (``spark.jars``) and falls back to the expression when not.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from sparklab.job.tuning import (
    cache_folder,
    cache_path,
    cache_problem,
    digest_file,
    digest_matches,
    java_path,
    option_safe,
    record_digest,
    spark_folder,
    sweep_partials,
)

SOURCE = Path(__file__).resolve().parent / "jvm" / "Words.java"
JAVA_RELEASE = "17"
JAR_GLOB = "sparklab-words-*.jar"
BUILD_SECONDS = 180
_MANIFEST = "Manifest-Version: 1.0\r\nCreated-By: sparklab\r\n\r\n"


class BuildError(RuntimeError):
    """javac is missing or refused the source; the message says which, in one line."""


def jar_name() -> str:
    """The jar's file name: a digest of the source and of the target release."""
    digest = hashlib.sha256(SOURCE.read_bytes() + JAVA_RELEASE.encode()).hexdigest()[:16]
    return f"sparklab-words-{digest}.jar"


def build(dest: Path, javac: str, spark_jars: Path) -> Path:
    """Compile the source against Spark's jars into the jar ``dest`` (written whole, then renamed)."""
    with tempfile.TemporaryDirectory(prefix="sparklab-words-") as work:
        classes = Path(work) / "classes"
        command = [javac, "--release", JAVA_RELEASE, "-nowarn", "-encoding", "UTF-8",
                   "-cp", str(spark_jars / "*"), "-d", str(classes), str(SOURCE)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise BuildError(f"{javac} did not run: {type(err).__name__}") from None
        if done.returncode != 0:
            first = next((line for line in done.stderr.splitlines() if line.strip()), "no message")
            raise BuildError(f"javac refused {SOURCE.name}: {first}")
        partial = dest.with_name(f"{dest.stem}.{os.getpid()}.partial")
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as jar:
                jar.writestr("META-INF/MANIFEST.MF", _MANIFEST)
                for path in sorted(classes.rglob("*.class")):
                    jar.write(path, path.relative_to(classes).as_posix())
            record_digest(partial, dest)  # checked before every use (digest_matches)
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
    return dest


def _stderr(line: str) -> None:
    print(f"sparklab: {line}", file=sys.stderr, flush=True)


def words_jar(environ: dict[str, str] | None = None, say: Callable[[str], None] = _stderr) -> Path:
    """The splitter's jar in the cache folder, built first when missing; older builds removed.

    A jar is used only when the cache folder and the jar are the user's and closed to others and
    the jar has the sha256 recorded when it was built; another jar under that name is built again
    (said in one line). Raises :class:`BuildError` when there is no JDK, no usable cache folder, or
    javac fails.
    """
    env = os.environ if environ is None else environ
    cache = cache_folder(env)
    if cache is None or "," in str(cache):  # spark.jars is a comma-separated list
        path = cache_path(env)
        problem = cache_problem(path) if path.is_dir() and option_safe(path) else None
        if problem:
            raise BuildError(f"{problem}: the word splitter is not built or used there (fix: chmod 700 "
                             "it if it is yours, else set XDG_CACHE_HOME to a folder of your own)")
        raise BuildError("no cache folder to build the word splitter in: set XDG_CACHE_HOME to a plain path")
    jar = cache / jar_name()
    if jar.is_file():
        sidecar = digest_file(jar)
        problem = cache_problem(jar) or (cache_problem(sidecar) if sidecar.exists() else None)
        if problem:
            raise BuildError(f"{problem}: the word splitter is not used "
                             "(fix: remove it; sparklab builds it again)")
        if digest_matches(jar):
            return jar
        say(f"{jar}: not the jar sparklab built (its recorded sha256 differs); building it again")
    javac = java_path(env, "javac")  # the JDK of the Java pyspark starts
    if javac is None or not Path(javac).is_file():
        raise BuildError("no javac (a JDK): the word splitter runs as a regular expression")
    spark = spark_folder()  # its jars hold the UDF interface that Words implements
    if spark is None:
        raise BuildError("no local Spark to build the word splitter against (the first `wordcount --local` "
                         "installs it): the word splitter runs as a regular expression")
    build(jar, javac, spark / "jars")
    for other in cache.glob(JAR_GLOB):
        if other != jar:
            other.unlink(missing_ok=True)
            digest_file(other).unlink(missing_ok=True)
    sweep_partials(cache, "sparklab-words-*.partial")  # of builds that were killed
    return jar
