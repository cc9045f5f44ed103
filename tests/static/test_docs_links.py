"""Every relative link and #anchor in the documentation resolves, as GitHub renders it.

Anchors follow GitHub's heading ids: the heading's rendered text (code spans, emphasis and link
markup reduced to their text), lowercased, every character that is not a letter, digit, space,
hyphen or underscore removed, spaces turned into hyphens; a repeated id gets ``-1``, ``-2``, ...
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _documents() -> list[Path]:
    docs = [REPO / "README.md", REPO / "CHANGELOG.md"]
    docs += sorted((REPO / "docs").rglob("*.md"))
    docs += sorted((REPO / "roles").glob("*/README.md"))
    return [d for d in docs if d.exists()]


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (links and headings there are not rendered)."""
    lines, fence = [], ""
    for line in text.splitlines():
        opened = FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            continue
        if opened:
            fence = opened.group(1)
            continue
        lines.append(line)
    return lines


def slug(heading: str) -> str:
    text = CODE_SPAN.sub(lambda m: m.group(2).strip(), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = re.sub(r"(\*+|(?<!\w)_+|_+(?!\w))", "", text)  # emphasis markers
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    ids = set()
    for line in _prose_lines(path.read_text()):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        ids.add(base if count == 0 else f"{base}-{count}")
    return ids


def links(path: Path) -> list[str]:
    found = []
    for line in _prose_lines(path.read_text()):
        found += LINK.findall(CODE_SPAN.sub("", line))
    return found


def _broken(doc: Path, repo: Path = REPO) -> list[str]:
    broken = []
    for target in links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (doc.parent / unquote(file_part)).resolve() if file_part else doc
        if not resolved.exists():
            broken.append(f"{target}: no file {resolved}")
            continue
        if repo not in resolved.parents and resolved != repo:
            broken.append(f"{target}: outside the repository")
            continue
        if anchor:
            if resolved.suffix != ".md":
                broken.append(f"{target}: an anchor into a file that is not Markdown")
            elif unquote(anchor) not in anchors(resolved):
                broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(repo)}")
    return broken


@pytest.mark.parametrize("doc", _documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(doc: Path) -> None:
    assert _broken(doc) == []


def test_the_readme_links_every_documentation_page() -> None:
    linked = {(REPO / t.partition("#")[0]).resolve() for t in links(REPO / "README.md")}
    pages = sorted((REPO / "docs").glob("*.md"))
    assert pages, "docs/ has no pages"
    assert [p.name for p in pages if p.resolve() not in linked] == []


def test_the_anchor_rule_matches_github_on_known_headings() -> None:
    assert slug("Running with ansible-playbook") == "running-with-ansible-playbook"
    assert slug("State on the user's machine") == "state-on-the-users-machine"
    assert slug("runner.py: output for scripts, progress, secrets, Ctrl-C") == (
        "runnerpy-output-for-scripts-progress-secrets-ctrl-c")
    assert slug("The `cluster_name` key") == "the-cluster_name-key"
    assert slug("What *only* a real host exercises") == "what-only-a-real-host-exercises"


def test_a_broken_anchor_and_a_missing_file_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Sizing\n\n## Sizing\n")
    doc = tmp_path / "README.md"
    doc.write_text("[ok](other.md#sizing-1) [bad](other.md#nope) [gone](missing.md)\n"
                   "```\n[in code](missing-too.md)\n```\n`[span](missing-three.md)`\n")
    assert _broken(doc, tmp_path.resolve()) == [
        "other.md#nope: no heading #nope in other.md",
        f"missing.md: no file {(tmp_path / 'missing.md').resolve()}",
    ]
