"""The WordCount benchmark's corpora, each made once into a cache folder, the same bytes every time.

``natural``
    This machine's man pages (every language installed) and ``/usr/share/doc``, files in an order
    fixed by a hash of their path, repeated when the pool is smaller than the size asked: mostly
    ASCII English, the corpus the benchmark always had.
``real``
    Text from this machine that is mostly not English: the translated man pages
    (``/usr/share/man/<language>/``: Japanese, Korean, Russian, Ukrainian, Chinese, Czech, ...), the
    Debian copyright files of ``/usr/share/doc`` and vim's help files when vim is installed, in an
    order fixed by a hash of their path, cut at the size asked (repeated only when the pool is
    smaller).
``scripts``
    Generated text in many scripts: Latin with diacritics (precomposed and with combining marks),
    Cyrillic, Greek (capitals, so final sigma matters), Han, kana and Hangul without spaces,
    Devanagari with its vowel signs, plus the letters whose case mapping is special (Turkish dotted
    capital I, German sharp s, titlecase digraphs) and characters outside the Basic Multilingual
    Plane (mathematical digits, emoji). Words from a fixed vocabulary drawn by Zipf's law with a
    fixed seed; some capitalised, some in capitals, punctuation between them.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

TEXT_ROOTS = ("/usr/share/man", "/usr/share/doc")
VIM_DOCS = Path("/usr/share/vim")
ENGLISH_MAN_SECTIONS = {f"man{n}" for n in range(10)}
SCRIPTS_SEED = 29
SCRIPTS_VOCABULARY = 120_000

# Syllables per script; a word joins 1-4 of one script's syllables.
_LATIN = ("ka", "lé", "mü", "ño", "çà", "sø", "tå", "rî", "pô", "dę", "fő", "gł", "hš", "jž", "ký", "lă",
          "ße", "ðu", "þi", "œu", "ẞa", "ne", "so", "ta")
_COMBINING = ("e\u0301", "a\u0308", "o\u0302\u0301", "u\u031b\u0300", "n\u0303", "c\u0327", "i\u0307",
              "ê\u0323", "y\u0306")
_CYRILLIC = ("при", "вет", "мир", "жё", "щу", "ёл", "дом", "ка", "ль", "ія", "ґа", "їж", "ъе", "ыш")
_GREEK = ("λο", "γο", "ς", "σο", "φί", "α", "κό", "σμ", "ος", "ή", "ύ", "ϊ", "ΐ", "ων", "σ")
_HAN = tuple("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可")
_KANA = tuple("あいうえおかきくけこさしすせそたちつてとなにぬねのアイウエオカキクケコサシスセソーッャュョ")
_HANGUL = ("한", "국", "어", "입", "니", "다", "사", "람", "하", "는", "것", "이", "에", "서", "를")
_DEVANAGARI = ("न", "म", "स्", "ते", "कि", "ता", "ब", "हि", "न्दी", "ज्ञा", "ं", "ों")
_SPECIAL = ("İstanbul", "ıšık", "straße", "ǅemal", "ǈubljana", "ǋegoš", "ΣΟΦΟΣ", "ΌΣΟΣ", "ﬁle", "ŉ",
            "𝟘𝟙", "𝐀𝐁", "𐐀𐐁", "Ǆ", "Ωμέγα", "ΐ")
_SCRIPTS: tuple[tuple[tuple[str, ...], int], ...] = (  # syllables, weight
    (_LATIN, 30), (_COMBINING + _LATIN, 8), (_CYRILLIC, 20), (_GREEK, 12), (_HAN, 10), (_KANA, 6),
    (_HANGUL, 6), (_DEVANAGARI, 6),
)
_PUNCTUATION = (" ", " ", " ", " ", " ", ", ", ". ", "; ", " — ", "'", "-", " (", ") ", "、", "。", " « ",
                " » ", " 🙂 ", "_", " 42 ", " ½ ")


def _hash_order(files: list[Path]) -> list[Path]:
    return sorted(files, key=lambda f: hashlib.sha256(str(f).encode()).hexdigest())


def _walk(root: Path | str) -> list[Path]:
    files = [Path(d, f) for d, _, names in os.walk(root) for f in names]
    return [f for f in files if not f.is_symlink() and f.is_file()]


def natural_files() -> list[Path]:
    return _hash_order([f for root in TEXT_ROOTS for f in _walk(root)])


def real_files() -> list[Path]:
    man = Path(TEXT_ROOTS[0])
    languages = [d for d in sorted(man.iterdir()) if d.is_dir() and d.name not in ENGLISH_MAN_SECTIONS]
    translated = [f for lang in languages for f in _walk(lang)]
    copyright_files = [f for f in _walk(TEXT_ROOTS[1]) if f.name == "copyright"]
    vim = [f for f in _walk(VIM_DOCS) if f.parent.name == "doc" and f.suffix in (".txt", ".jax")] \
        if VIM_DOCS.is_dir() else []
    return _hash_order(translated + copyright_files + vim)


def readable_texts(files: list[Path]) -> Iterator[bytes]:
    """The UTF-8 text of each file (gzip unpacked), ending in a newline; binaries and the like left out."""
    for path in files:
        try:
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            data.decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile):
            continue
        if data and b"\0" not in data:
            yield data if data.endswith(b"\n") else data + b"\n"


def _pool_blocks(files: list[Path]) -> Callable[[], Iterator[bytes]]:
    def blocks() -> Iterator[bytes]:
        while True:
            produced = False
            for data in readable_texts(files):
                produced = True
                yield data
            if not produced:
                raise SystemExit(f"no readable text among {len(files)} files: cannot build the corpus")
    return blocks


def _vocabulary(rng: random.Random) -> list[str]:
    weights = [weight for _, weight in _SCRIPTS]
    words = list(_SPECIAL)
    while len(words) < SCRIPTS_VOCABULARY:
        syllables = rng.choices(_SCRIPTS, weights)[0][0]
        words.append("".join(rng.choices(syllables, k=rng.randint(1, 4))))
    return words


def scripts_blocks() -> Iterator[bytes]:
    """Lines of about 100 words, drawn by Zipf's law (s = 1) from the vocabulary, with a fixed seed."""
    rng = random.Random(SCRIPTS_SEED)
    vocabulary = _vocabulary(rng)
    cumulative = list(itertools.accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))
    while True:
        words = rng.choices(vocabulary, cum_weights=cumulative, k=4000)
        marks = rng.choices(_PUNCTUATION, k=4000)
        shapes = rng.choices((0, 1, 2), weights=(88, 10, 2), k=4000)  # as is, Capitalised, CAPITALS
        parts: list[str] = []
        for i, (word, mark, shape) in enumerate(zip(words, marks, shapes, strict=True)):
            if shape == 1:
                word = word[:1].upper() + word[1:]
            elif shape == 2:
                word = word.upper()
            parts.append(word)
            parts.append("\n" if i % 100 == 99 else mark)
        yield "".join(parts).encode("utf-8")


def write_corpus(path: Path, size: int, blocks: Iterator[bytes]) -> str:
    """Write ``size`` bytes (cut at the end of a line, at least ``size``) of ``blocks`` to ``path``."""
    written = 0
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        for data in blocks:
            out.write(data)
            written += len(data)
            if written >= size:
                break
    partial.rename(path)
    return f"{written / 1e6:.1f} MB"


KINDS = ("natural", "real", "scripts")


def corpus(kind: str, size: int, folder: Path, say: Callable[[str], None] = print) -> Path:
    """The corpus ``kind`` of ``size`` bytes in ``folder``, made first when it is not there."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{size}.txt"
    if path.exists():
        return path
    if kind == "scripts":
        made = write_corpus(path, size, scripts_blocks())
        say(f"corpus {path}: {made} generated in many scripts (seed {SCRIPTS_SEED})")
        return path
    files = natural_files() if kind == "natural" else real_files()
    made = write_corpus(path, size, _pool_blocks(files)())
    say(f"corpus {path}: {made} from {len(files)} files")
    return path
