"""The commands the README shows and the lines it says they print, read from the Markdown itself.

Rules (so that a rewritten or split README is still read, and a copy never drifts):
- Documents: ``README.md`` and every ``docs/*.md``.
- Commands: every line of a ```` ```console ```` block that starts with ``python3 runner.py`` or
  ``cp cluster.example.yml`` (a leading ``$ `` of a sample-output block is dropped, a trailing
  ``# comment`` too), each once, in document order, the ``## Quick start`` section first (the
  order a newcomer follows; the README's opening block repeats two of its commands).
- Verbs: the Markdown table whose header starts with ``| verb |``; the first word of its first
  column names the verb, its third column says what the verb prints.
- Printed lines: the code spans of that third column that hold a space (single words such as
  ``provision`` or ``sparklab:creator`` name things, they are not lines). Each span's condition
  is the prose between it and the previous printed span: after ``or`` it is an alternative to the
  previous one; after ``before`` it is what the verb prints before ``up`` (and an alternative to
  the previous one, which needs a cluster); after ``e.g.``,
  ``anything else`` or ``does not answer`` it is a failure's example. The rest is printed always.
- The emulator refusal: the code span starting ``error: <verb>:`` that says ``points at an
  emulator``, with its verb replaced by the refusing one.
- In a printed line ``<...>`` stands for the user's values, ``...`` for any text, and numbers and
  runs of spaces for any number and any run of spaces (counts, prices and column widths vary).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

COMMAND = re.compile(r"^(?:\$ )?((?:python3 runner\.py|cp cluster\.example\.yml)\b[^#]*?)\s*(?:#.*)?$")
FENCE = re.compile(r"^```console[^\n]*\n(.*?)^```", re.M | re.S)
SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
CELL = re.compile(r"(?<!\\)\|(?=(?:[^`]*`[^`]*`)*[^`]*$)")  # a | outside code spans


def documents(repo: Path) -> list[Path]:
    return [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]


def quick_start_first(text: str) -> str:
    """The document with its ``## Quick start`` section moved to the front (a newcomer's order)."""
    match = re.search(r"^## Quick start\n.*?(?=^## |\Z)", text, re.M | re.S)
    return text if match is None else match.group(0) + text[:match.start()] + text[match.end():]


def commands(repo: Path) -> list[str]:
    found: list[str] = []
    for doc in documents(repo):
        for block in FENCE.findall(quick_start_first(doc.read_text(encoding="utf-8"))):
            for line in block.splitlines():
                match = COMMAND.match(line.strip())
                if match:
                    command = " ".join(match.group(1).split())
                    if command not in found:
                        found.append(command)
    return found


def spans(text: str) -> list[tuple[str, int, int]]:
    """Code spans with their start and end offsets; one space inside double backticks is dropped."""
    out = []
    for match in SPAN.finditer(text):
        content = match.group(2)
        if len(match.group(1)) > 1 and content.startswith(" ") and content.endswith(" "):
            content = content[1:-1]
        elif len(match.group(1)) > 1 and content.startswith(" "):
            content = content[1:]
        out.append((content, match.start(), match.end()))
    return out


@dataclass
class Printed:
    """What a verb's row says it prints: lines always printed (each a group of alternatives)."""

    always: list[list[str]] = field(default_factory=list)
    before_up: list[str] = field(default_factory=list)


def verbs_table(repo: Path) -> dict[str, Printed]:
    for doc in documents(repo):
        lines = doc.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if re.match(r"^\|\s*verb\s*\|", line):
                rows = {}
                for row in lines[index + 2:]:
                    if not row.startswith("|"):
                        break
                    cells = [cell.strip() for cell in CELL.split(row)[1:-1]]
                    verb = spans(cells[0])[0][0].split()[0]
                    rows[verb] = printed(cells[2])
                return rows
    raise AssertionError("no table with a `| verb |` header in README.md or docs/*.md")


def printed(cell: str) -> Printed:
    result = Printed()
    previous_end = 0
    for content, start, end in spans(cell):
        if " " not in content:
            continue
        prose = cell[previous_end:start].lower()
        previous_end = end
        if re.search(r"\be\.g\.|anything else|does not answer", prose):
            continue
        if re.search(r"\bbefore\b", prose):
            result.before_up.append(content)
            if result.always:
                result.always[-1].append(content)
        elif re.search(r"\bor\b", prose) and result.always:
            result.always[-1].append(content)
        else:
            result.always.append([content])
    return result


def emulator_refusal(repo: Path, verb: str) -> str:
    for doc in documents(repo):
        for content, _, _ in spans(doc.read_text(encoding="utf-8").replace("\n", " ")):
            if content.startswith("error: ") and "points at an emulator" in content:
                return re.sub(r"^error: [\w-]+:", f"error: {verb}:", content)
    raise AssertionError("no emulator refusal (`error: <verb>: ... points at an emulator ...`) in the docs")


def pattern(fragment: str) -> re.Pattern[str]:
    parts = []
    for token in re.split(r"(<[^>]+>|\.\.\.|\d+(?:\.\d+)?| {2,})", fragment):
        if not token:
            continue
        if token.startswith("<") and token.endswith(">"):
            parts.append(".+?")
        elif token == "...":
            parts.append(".*?")
        elif re.fullmatch(r"\d+(?:\.\d+)?", token):
            parts.append(r"\d+(?:\.\d+)?")
        elif token.isspace():
            parts.append(" +")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def missing_lines(output: str, groups: list[list[str]]) -> list[str]:
    """The README lines (or groups of alternatives) of which nothing appears in ``output``."""
    return [" | ".join(group) for group in groups
            if not any(pattern(fragment).search(output) for fragment in group)]
