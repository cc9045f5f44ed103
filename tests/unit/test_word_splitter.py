"""The word splitter's jar: built from sparklab/job/jvm/Words.java by this machine's real javac."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from sparklab.job import splitter as word_splitter


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "XDG_CACHE_HOME": str(tmp_path / "cache"), **extra}


def test_jar_is_built_once_into_the_cache_and_holds_the_class_for_java_17(tmp_path):
    env = env_for(tmp_path)
    jar = word_splitter.words_jar(env)
    assert jar.parent == tmp_path / "cache" / "sparklab" and jar.name == word_splitter.jar_name()
    with zipfile.ZipFile(jar) as archive:
        names = archive.namelist()
        code = archive.read("sparklab/wordcount/Words.class")
    assert "META-INF/MANIFEST.MF" in names and names[-1] == "sparklab/wordcount/Words.class"
    assert code[:4] == b"\xca\xfe\xba\xbe"
    assert int.from_bytes(code[6:8], "big") == 61  # class file version 61: Java 17, the image's
    built = jar.stat().st_mtime_ns
    assert word_splitter.words_jar(env) == jar and jar.stat().st_mtime_ns == built  # not built again
    assert oct((tmp_path / "cache" / "sparklab").stat().st_mode & 0o777) == "0o700"


def test_a_new_source_makes_a_new_jar_and_the_old_one_and_dead_partials_go(tmp_path, monkeypatch):
    env = env_for(tmp_path)
    old = word_splitter.words_jar(env)
    dead = old.parent / "sparklab-words-0123.999999999.partial"  # no such process
    dead.write_bytes(b"half")
    source = tmp_path / "Words.java"
    source.write_text(word_splitter.SOURCE.read_text() + "\n// changed\n")
    monkeypatch.setattr(word_splitter, "SOURCE", source)
    new = word_splitter.words_jar(env)
    assert new != old and new.is_file()
    assert sorted(p.name for p in new.parent.iterdir()) == [new.name, new.name + ".sha256"]


def test_no_jdk_or_a_refused_source_is_one_line_and_leaves_no_jar(tmp_path, monkeypatch):
    java_home = tmp_path / "jre"
    (java_home / "bin").mkdir(parents=True)
    with pytest.raises(word_splitter.BuildError, match="no javac"):
        word_splitter.words_jar(env_for(tmp_path, JAVA_HOME=str(java_home)))
    with pytest.raises(word_splitter.BuildError, match="no javac"):
        word_splitter.words_jar({"PATH": str(tmp_path / "empty"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    broken = tmp_path / "Words.java"
    broken.write_text("package sparklab.wordcount; public final class Words { int x = ; }\n")
    monkeypatch.setattr(word_splitter, "SOURCE", broken)
    refused = r"javac refused Words.java: .*Words.java:1: error"
    with pytest.raises(word_splitter.BuildError, match=refused) as err:
        word_splitter.words_jar(env_for(tmp_path))
    assert "\n" not in str(err.value)
    assert list((tmp_path / "cache" / "sparklab").iterdir()) == []


def test_jar_classes_load_and_split_in_a_plain_jvm(tmp_path):
    """The class runs outside Spark too: a tiny Java program calls it on mixed scripts."""
    jar = word_splitter.words_jar(env_for(tmp_path))
    import pyspark

    jars = Path(pyspark.__file__).resolve().parent / "jars"
    probe = tmp_path / "Probe.java"
    probe.write_text(
        "public class Probe { public static void main(String[] a) {"
        " System.out.println(String.join(\"|\", new sparklab.wordcount.Words().call(a[0]))); } }\n",
        encoding="utf-8",
    )
    cp = f"{jar}{os.pathsep}{jars}/*"
    subprocess.run(["javac", "-cp", cp, "-d", str(tmp_path), str(probe)], check=True, timeout=120)
    text = "it's l'été, 𝟘x\u0301 — x_y 42"
    out = subprocess.run(["java", "-cp", f"{tmp_path}{os.pathsep}{cp}", "Probe", text],
                         capture_output=True, text=True, check=True, timeout=120, encoding="utf-8",
                         env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert out.stdout.strip() == "it|s|l|été|𝟘x\u0301|x|y|42"


def _holds_the_class(jar: Path) -> bool:
    with zipfile.ZipFile(jar) as archive:
        return archive.read("sparklab/wordcount/Words.class")[:4] == b"\xca\xfe\xba\xbe"


def test_a_planted_jar_under_the_predictable_name_is_rebuilt_not_used(tmp_path):
    folder = tmp_path / "cache" / "sparklab"
    folder.mkdir(parents=True, mode=0o700)
    planted = folder / word_splitter.jar_name()
    planted.write_bytes(b"PK\x03\x04 not the splitter")
    said: list[str] = []
    jar = word_splitter.words_jar(env_for(tmp_path), say=said.append)
    assert jar == planted and _holds_the_class(jar)
    assert said == [f"{planted}: not the jar sparklab built (its recorded sha256 differs); building it again"]
    said.clear()
    assert word_splitter.words_jar(env_for(tmp_path), say=said.append) == jar and said == []  # now trusted


def test_a_jar_changed_after_its_build_is_rebuilt(tmp_path):
    jar = word_splitter.words_jar(env_for(tmp_path))
    with jar.open("ab") as handle:
        handle.write(b"appended class")
    said: list[str] = []
    assert word_splitter.words_jar(env_for(tmp_path), say=said.append) == jar
    assert len(said) == 1 and "building it again" in said[0] and _holds_the_class(jar)
    assert not jar.read_bytes().endswith(b"appended class")


@pytest.mark.parametrize("problem", ["others-write-folder", "foreign-folder", "others-write-jar"])
def test_a_cache_others_can_write_is_refused_in_one_line(tmp_path, problem):
    folder = tmp_path / "cache" / "sparklab"
    folder.mkdir(parents=True, mode=0o700)
    if problem == "others-write-folder":
        folder.chmod(0o777)
    elif problem == "foreign-folder":
        os.chown(folder, 54321, 54321)  # the tests run as root; any other user would do
    else:
        jar = word_splitter.words_jar(env_for(tmp_path))
        jar.chmod(0o666)
    with pytest.raises(word_splitter.BuildError) as info:
        word_splitter.words_jar(env_for(tmp_path))
    message = str(info.value)
    assert "\n" not in message and ("owned by" in message or "writable by other users" in message), message
    if problem != "others-write-jar":
        assert not (folder / word_splitter.jar_name()).exists()


def test_without_local_spark_the_splitter_is_not_built_and_says_why_in_one_line(tmp_path, monkeypatch):
    """A runner that only drives clusters has no pyspark (the first --local run installs it)."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    with pytest.raises(word_splitter.BuildError, match="no local Spark to build the word splitter") as err:
        word_splitter.words_jar(env_for(tmp_path))
    assert "\n" not in str(err.value) and "wordcount --local" in str(err.value)
    assert not list((tmp_path / "cache" / "sparklab").glob("*.jar"))


PROBE = Path(__file__).resolve().parent / "java" / "WordsProbe.java"


@pytest.fixture(scope="module")
def probe_classpath(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The splitter's jar (built by javac from the source), Spark's jars and the compiled probe."""
    import pyspark

    work = tmp_path_factory.mktemp("probe")
    jar = word_splitter.words_jar(env_for(work))
    cp = os.pathsep.join([str(jar), f"{Path(pyspark.__file__).resolve().parent / 'jars'}/*"])
    subprocess.run(["javac", "-encoding", "UTF-8", "-cp", cp, "-d", str(work), str(PROBE)], check=True,
                   timeout=120)
    return os.pathsep.join([str(work), cp])


def probe(classpath: str, *args: str, stdin: str = "") -> str:
    done = subprocess.run(["java", "-cp", classpath, "WordsProbe", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", check=True, timeout=600)
    return done.stdout


# Each text and its words, by hand: the paths of Words.java that skip Spark's lower().
FAST_PATH_CASES = [
    ("Don't STOP_me 42x", "don|t|stop|me|42x"),  # ASCII: the table
    ("ΟΔΟΣ ΣΟΦΟΣ.", "οδος|σοφος"),  # final sigma: the row goes to ICU whole
    ("ΑΣ'Α", "ασ|α"),  # not final: a cased letter follows after a case-ignorable apostrophe
    ("İstanbul Iğdır", "i\u0307stanbul|iğdır"),  # dotted capital I: two code points in the root locale
    ("STRASSE Straße ẞ", "strasse|straße|ß"),  # sharp s: lowercase keeps it; the capital maps to it
    ("ǅemal ǈubljana ǋ", "ǆemal|ǉubljana|ǌ"),  # titlecase digraphs (Lt)
    ("E\u0301TE\u0301 Ç\u0327", "e\u0301te\u0301|ç\u0327"),  # combining marks stay in the word
    ("𐐀𐐁 𝐀𝐁 x🙂y 𝟘", "𐐨𐐩|𝐀𝐁|x|y|𝟘"),  # surrogate pairs: Deseret lowercases; math letters; emoji split
    ("ПРИВЕТ, Мир! ΆΈΉ", "привет|мир|άέή"),  # Cyrillic, Greek with tonos
    ("東京タワー 한국어 नमस्ते", "東京タワー|한국어|नमस्ते"),  # no case: vowel signs are marks
]


def test_fast_paths_give_the_words_written_by_hand(probe_classpath):
    texts = "".join(text + "\n" for text, _ in FAST_PATH_CASES)
    got = probe(probe_classpath, "split", "en", stdin=texts).splitlines()
    assert got == [words for _, words in FAST_PATH_CASES]


def test_turkish_locale_lowercases_as_spark_does_ascii_rows_by_the_ascii_rule(probe_classpath):
    """Spark's lower(): an all-ASCII row by the ASCII rule, any other by ICU in the JVM's locale."""
    got = probe(probe_classpath, "split", "tr", stdin="TITLE\nTITLE İ é\n").splitlines()
    assert got == ["title", "tıtle|i|é"]


@pytest.mark.parametrize(("locale", "contexts"), [("en", 12), ("tr", 4), ("lt", 4)])
def test_words_equal_spark_lower_then_the_regex_for_every_code_point_in_context(probe_classpath, locale,
                                                                               contexts):
    """Every code point ICU knows, between cased, case-ignorable and special neighbours."""
    out = probe(probe_classpath, "compare", locale, str(contexts))
    last = out.splitlines()[-1]
    texts = int(last.split()[0].removeprefix("texts="))
    assert texts > 250_000 * contexts and last.endswith(" differ=0"), out[-2000:]
