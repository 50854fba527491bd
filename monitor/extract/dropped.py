"""What extraction left out of a page, and why: the log `monitor extract --json` shows."""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborNode


@dataclass(frozen=True)
class Dropped:
    """A block of the page left out of the text, and why (for `monitor extract --json`)."""

    element: str  # tag#id.class, as a reader finds it in the page's source
    reason: str
    words: int
    text: str  # its first words


def _note(log: list[Dropped], node: LexborNode, reason: str) -> None:
    text = " ".join((node.text(separator=" ") if node.tag != "-text"
                     else node.text_content or "").split())
    if text:
        log.append(Dropped(_describe(node), reason, len(text.split()), _first_words(text)))


def _describe(node: LexborNode) -> str:
    if node.tag == "-text":
        return "text"
    attrs = node.attributes
    out = node.tag or "?"
    if attrs.get("id"):
        out += "#" + (attrs.get("id") or "")
    classes = (attrs.get("class") or "").split()
    return out + "".join("." + name for name in classes[:3])


def _first_words(text: str, count: int = 12) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" ..." if len(words) > count else "")
