"""Spark and JVM settings for a short local WordCount (``--local`` and the benchmark).

Measured with Java Flight Recorder and ``time`` on ``spark-submit`` of a one-row job, 2 cores:
the JVM's start-up is mostly class loading and JIT compilation, 21.3 s of CPU with the defaults.
C1 only (``-XX:TieredStopAtLevel=1``: no C2 compiler threads for code that runs seconds) takes it
to 11.2 s; the serial collector (one core's worth of heap, no G1 worker threads) to 10.4 s.

Class-data sharing: the first local run with a given Java and Spark saves the classes its JVM
loaded (about 13,000, 150 MB) to an archive in the user's cache folder
(``-XX:ArchiveClassesAtExit``); later runs map it (``-XX:SharedArchiveFile``) instead of reading,
parsing and verifying those classes from Spark's jars again. Measured on 40 MB, 2 cores, quiet
machine: 12.4 s to 8.4-9.0 s for the whole process; a one-row job 9.4 s to 6.3 s. The archive's
name is a digest of the Java runtime and of Spark's jars, so an upgrade of either makes a new one;
a JVM that cannot use an archive says so in the run's log and runs without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

SHORT_JOB_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
LONG_JOB_JAVA_OPTIONS = "-XX:+UseSerialGC"
# From this much input per core, C2's faster per-row code pays for its compiler threads. Measured,
# 2 cores, class archive in use, 3 alternating runs each: 40 MB 8.0 s with C1 only, 9.4 s with C2;
# 107 MB 12.1 s with C1 only, 11.0 s with C2; the two lines cross near 77 MB.
C2_FROM_BYTES_PER_CORE = 40_000_000
# spark-submit first starts a small JVM (org.apache.spark.launcher.Main) that only prints the command
# of the real one; spark-class adds $SPARK_LAUNCHER_OPTS to it. Its class path is Spark's whole jars
# folder, searched jar by jar in name order: naming the launcher's own jar first (boot class path,
# appended) finds Main at once. Measured, 2 cores: 0.29 s to 0.08 s a run, the same command printed.
LAUNCHER_OPTS_ENV = "SPARK_LAUNCHER_OPTS"
LAUNCHER_JAR_GLOB = "spark-launcher_*.jar"
CLASS_ARCHIVE_ENV = "SPARKLAB_CLASS_CACHE"  # "off" turns the archive off
ARCHIVE_GLOB = "spark-classes-*.jsa"
# The JVM's own messages about the archive go to a file, never into the driver's output.
_QUIET_CDS = "-Xlog:cds=off -Xlog:cds+dynamic=off"


def short_job_conf(cores: int, java_options: str = "", input_bytes: int | None = None) -> dict[str, str]:
    """``--conf`` settings for a local job on ``cores`` cores (the JVM options apply at launch).

    The one shuffle carries counts already reduced on the map side, so one partition per core
    suits any input size measured (40 MB to 200 MB). ``java_options`` adds to the JVM's options
    (the class archive's, from :meth:`ClassArchive.java_options`). ``input_bytes``, when known,
    lets a large input keep the C2 compiler (:data:`C2_FROM_BYTES_PER_CORE`).
    """
    cores = max(1, cores)
    large = input_bytes is not None and input_bytes >= C2_FROM_BYTES_PER_CORE * cores
    jit = LONG_JOB_JAVA_OPTIONS if large else SHORT_JOB_JAVA_OPTIONS
    return {
        "spark.driver.extraJavaOptions": " ".join(filter(None, [jit, java_options])),
        "spark.sql.shuffle.partitions": str(cores),
    }


def known_input_bytes(inputs: list[str], generate_bytes: int = 0) -> int | None:
    """Bytes of the input files plus a generated corpus; None when an input is no local file (a URL).

    The inputs are those :func:`sparklab.job.local.checks.local_inputs` returns: folders already expanded.
    """
    sizes = [Path(spec).stat().st_size if Path(spec).is_file() else None for spec in inputs]
    return None if None in sizes else generate_bytes + sum(size or 0 for size in sizes)


def java_path(environ: dict[str, str] | None = None, tool: str = "java") -> str | None:
    """The ``java`` that pyspark starts (or another ``tool`` of that JDK, such as ``javac``):
    ``$JAVA_HOME/bin/<tool>``, else ``<tool>`` from PATH."""
    env = os.environ if environ is None else environ
    home = env.get("JAVA_HOME")
    return str(Path(home) / "bin" / tool) if home else shutil.which(tool, path=env.get("PATH"))


def _stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return f"{path}:absent"
    return f"{path}:{info.st_size}:{info.st_mtime_ns}"


@dataclass(frozen=True)
class ClassArchive:
    """The class-data-sharing archive for one Java runtime and one Spark installation."""

    path: Path

    @property
    def ready(self) -> bool:
        """An archive this user's run wrote: the user's file, closed to others, its recorded sha256."""
        return (self.path.is_file() and self.path.stat().st_size > 0 and cache_problem(self.path) is None
                and digest_matches(self.path))

    def partial(self) -> Path:
        """Where this process's JVM writes a new archive (renamed by :meth:`finish`)."""
        return self.path.with_name(f"{self.path.stem}.{os.getpid()}.partial")

    def java_options(self, log_file: Path, ready: bool | None = None) -> str:
        """Map the archive when it exists, else write it when the JVM exits; JVM notes to ``log_file``.

        ``ready``: :attr:`ready` when the caller has just read it (it hashes the whole archive).
        """
        if self.ready if ready is None else ready:
            action = f"-XX:SharedArchiveFile={self.path}"
        else:
            action = f"-XX:ArchiveClassesAtExit={self.partial()}"
        return f"{action} {_QUIET_CDS} -Xlog:cds=info,cds+dynamic=info:file={log_file}"

    def finish(self) -> bool:
        """After the JVM has exited: publish the archive it wrote; drop stale ones. True if published."""
        partial = self.partial()
        published = partial.is_file() and partial.stat().st_size > 0
        if published:
            record_digest(partial, self.path)
            os.replace(partial, self.path)
        partial.unlink(missing_ok=True)
        self.sweep()
        return published

    def sweep(self) -> None:
        """Remove archives of other Java or Spark versions and partial files of dead processes."""
        for other in self.path.parent.glob(ARCHIVE_GLOB):
            if other != self.path:
                other.unlink(missing_ok=True)
                digest_file(other).unlink(missing_ok=True)
        sweep_partials(self.path.parent, f"{self.path.stem}.*.partial")


def sweep_partials(folder: Path, pattern: str) -> None:
    """Remove ``<name>.<pid>.partial`` files in ``folder`` whose writing process is gone."""
    import psutil

    for partial in folder.glob(pattern):
        pid = partial.suffixes[-2].lstrip(".") if len(partial.suffixes) >= 2 else ""
        if not pid.isdigit() or (int(pid) != os.getpid() and not psutil.pid_exists(int(pid))):
            partial.unlink(missing_ok=True)


def cache_problem(path: Path) -> str | None:
    """Why ``path`` in the cache cannot be trusted (another owner, writable by others), or None.

    The JVM maps or loads what the cache holds, so a file or folder there counts only when this
    user owns it and no other user can write it.
    """
    try:
        info = path.stat()
    except OSError as err:
        return f"{path}: {err.strerror}"
    if info.st_uid != os.geteuid():
        return f"{path}: owned by another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"{path}: writable by other users"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def digest_file(path: Path) -> Path:
    """The sidecar ``<name>.sha256`` that records the sha256 of ``path`` as sparklab built it."""
    return path.with_name(path.name + ".sha256")


def record_digest(built: Path, final: Path) -> None:
    """Record the sha256 of ``built`` (published next as ``final``) in ``final``'s sidecar, atomically."""
    sidecar = digest_file(final)
    partial = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(_sha256(built) + "\n")
    os.replace(partial, sidecar)


def digest_matches(path: Path) -> bool:
    """Whether ``path`` still has the sha256 recorded when sparklab built it (a trusted sidecar)."""
    sidecar = digest_file(path)
    if not sidecar.is_file() or cache_problem(sidecar) is not None:
        return False
    return sidecar.read_text(encoding="ascii", errors="replace").strip() == _sha256(path)


def option_safe(path: Path) -> bool:
    """Whether ``path`` survives inside a JVM option: Spark splits on white space, ``-Xlog`` on ``:``."""
    return not any(ch.isspace() or ch in ":\"'" for ch in str(path))


def spark_folder() -> Path | None:
    """pyspark's folder (Spark's jars are in its ``jars/``), found without importing it; None if absent.

    pyspark is installed by the first ``--local`` run (:mod:`sparklab.job.local.spark`), so a runner
    that only drives clusters has none.
    """
    spec = importlib.util.find_spec("pyspark")
    return Path(spec.origin).resolve().parent if spec is not None and spec.origin else None


def launcher_options(environ: dict[str, str] | None = None) -> str:
    """JVM options for spark-submit's launcher JVM (:data:`LAUNCHER_OPTS_ENV`): C1 only, the serial
    collector, and the launcher's own jar first. Empty when pyspark is absent, when ``SPARK_HOME``
    names another Spark (its launcher must come from its own jars), or when the jar's path cannot be
    written into the option (:func:`option_safe`)."""
    env = os.environ if environ is None else environ
    spark_home = spark_folder()
    if spark_home is None:
        return ""
    named = env.get("SPARK_HOME")
    if named and Path(named).resolve() != spark_home:
        return ""
    jars = sorted((spark_home / "jars").glob(LAUNCHER_JAR_GLOB))
    if len(jars) != 1 or not option_safe(jars[0]):
        return ""
    return f"{SHORT_JOB_JAVA_OPTIONS} -Xbootclasspath/a:{jars[0]}"


def class_archive(environ: dict[str, str] | None = None) -> ClassArchive | None:
    """The archive for the Java and the pyspark this process would start, or None when off.

    Off when ``SPARKLAB_CLASS_CACHE=off``, when no Java or no pyspark is found, or when the cache
    folder's path cannot be written into a JVM option (:func:`option_safe`).
    """
    env = os.environ if environ is None else environ
    if env.get(CLASS_ARCHIVE_ENV, "").strip().lower() in ("off", "0", "false", "no"):
        return None
    java = java_path(env)
    if not java:
        return None
    spark_home = spark_folder()
    if spark_home is None:
        return None
    runtime = Path(java).resolve()
    parts = [_stamp(runtime), _stamp(runtime.parents[1] / "lib" / "server" / "libjvm.so"), str(spark_home)]
    parts += [_stamp(jar) for jar in sorted((spark_home / "jars").glob("*.jar"))]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    cache = cache_folder(env)
    return ClassArchive(cache / f"spark-classes-{digest}.jsa") if cache is not None else None


def cache_path(environ: dict[str, str] | None = None) -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/sparklab`` (not created)."""
    env = os.environ if environ is None else environ
    return Path(env.get("XDG_CACHE_HOME") or Path(env.get("HOME") or Path.home()) / ".cache") / "sparklab"


def cache_folder(environ: dict[str, str] | None = None) -> Path | None:
    """``${XDG_CACHE_HOME:-~/.cache}/sparklab``; None when it cannot be made, named or trusted.

    The JVM maps and loads what it finds there (the class archive, the word splitter's jar), so the
    folder counts only when this user owns it and no other user can write it (:func:`cache_problem`;
    a folder sparklab makes gets mode 0700, an existing one is never changed), and its path must
    survive inside a JVM option (:func:`option_safe`).
    """
    cache = cache_path(environ)
    if not option_safe(cache):
        return None
    try:
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        cache.mkdir(mode=0o700)
        cache.chmod(0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    return cache if cache.is_dir() and cache_problem(cache) is None else None
