"""A word counter written without the application's code, to check the application's rule.

It walks the lowercased text one code point at a time and asks ``unicodedata.category`` whether
the code point is a letter (``L*``), a mark (``M*``) or a number (``N*``), as the "Word rule" of
docs/wordcount-and-report.md states it. It shares nothing with ``sparklab.job.wordcount_app`` (no
``WORD_CATEGORIES``, no regular expression), so a wrong rule in the application cannot be wrong
here in the same way.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

WORD_CLASSES = frozenset("LMN")  # from docs/wordcount-and-report.md's "Word rule", not the application


def words(text: str) -> list[str]:
    found: list[str] = []
    current: list[str] = []
    for char in text.lower():
        if unicodedata.category(char)[0] in WORD_CLASSES:
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def counts(lines: Iterable[str]) -> Counter[str]:
    total: Counter[str] = Counter()
    for line in lines:
        total.update(words(line))
    return total
