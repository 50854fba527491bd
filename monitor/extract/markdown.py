"""The chosen HTML blocks as Markdown: headings, paragraphs, `- ` list items, table rows."""

from __future__ import annotations

from collections.abc import Iterator

from selectolax.lexbor import LexborNode

from monitor.extract.dropped import Dropped, _describe, _note

_INLINE_TAGS = {"-text", "-comment", "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data",
                "del", "dfn", "em", "font", "i", "img", "ins", "kbd", "label", "mark", "q", "s",
                "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u",
                "var", "wbr", "nobr", "br"}
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "summary", "dt")
_HEADING_SELECTOR = "h1, h2, h3, h4, h5, h6"
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# A row whose cells hold headings or tables is page layout (old sites put the whole policy
# in one cell): written as blocks, not flattened to one line of " | ".
_LAYOUT_CELL = "h1, h2, h3, h4, h5, h6, table"
_BREAK = "\x00"  # marks a <br> in inline text; NUL never survives HTML parsing
_LINE_JOINED = {"li", "row"}  # consecutive list items and table rows sit on adjacent lines


def _markdown(nodes: list[LexborNode], *, inner: bool = False, core: LexborNode | None = None,
              log: list[Dropped] | None = None) -> str:
    """Markdown of `nodes`, repeated copies once. Of the children only, for every node when
    `inner` (a `select`), for `core` otherwise (the main content is a container, whatever its
    tag; the blocks around it are written as themselves: a heading, a list item)."""
    writer = _Writer(_repeated_copies(nodes, log) if not inner else set())
    for node in nodes:
        if inner or (core is not None and node.mem_id == core.mem_id):
            writer.walk(node)
        else:
            writer.visit(node)
        writer.flush()
    return writer.text()


class _Writer:
    """Walks DOM subtrees and writes Markdown blocks: inline text flows into the current
    block; each block element ends the current block and starts a new one. The walk keeps
    its own stack: nesting depth costs memory, never Python's recursion limit."""

    def __init__(self, skip: set[int]) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.inline: list[str] = []
        self.prefix = ""
        self.skip = skip

    def visit(self, node: LexborNode) -> None:
        self._run(iter((node,)))

    def walk(self, node: LexborNode) -> None:
        self._run(node.iter(include_text=True))

    def _run(self, nodes: Iterator[LexborNode]) -> None:
        # A stack of (children still to write, what ends their parent's block).
        stack: list[tuple[Iterator[LexborNode], str]] = [(nodes, "")]
        inline, skip = self.inline, self.skip
        while stack:
            children, end = stack[-1]
            node = next(children, None)
            if node is None:
                stack.pop()
                if end:
                    self.flush("li" if end == "li" else "p")
                    if end == "li":
                        self.prefix = ""
                continue
            tag = node.tag
            if tag == "-text":
                inline.append(node.text_content or "")
            elif tag == "br":
                inline.append(_BREAK)
            elif tag in _INLINE_TAGS:
                if tag != "-comment":
                    stack.append((node.iter(include_text=True), ""))
            elif node.mem_id in skip:
                continue
            else:
                self.flush()
                if tag in _HEADINGS:
                    self.emit("h", "#" * _HEADINGS[tag] + " " + _flat_text(node))
                elif tag == "tr" and not node.css_first(_LAYOUT_CELL):
                    cells = [_flat_text(cell) for cell in node.iter() if cell.tag in ("td", "th")]
                    self.emit("row", " | ".join(cell for cell in cells if cell))
                elif tag == "pre":  # line breaks are meaningful here
                    inline.append((node.text() or "").replace("\n", _BREAK))
                    self.flush()
                elif tag == "li":
                    self.prefix = "- "
                    stack.append((node.iter(include_text=True), "li"))
                else:
                    stack.append((node.iter(include_text=True), "p"))

    def flush(self, kind: str = "p") -> None:
        if not self.inline:
            return
        lines = (" ".join(line.split()) for line in "".join(self.inline).split(_BREAK))
        self.inline.clear()
        self.emit(kind, "\n".join(line for line in lines if line))

    def emit(self, kind: str, text: str) -> None:
        if not text.strip("# -|"):
            return
        if self.prefix:  # the first block of a list item carries its marker
            text, kind, self.prefix = self.prefix + text, "li", ""
        self.blocks.append((kind, text))

    def text(self) -> str:
        parts: list[str] = []
        for index, (kind, text) in enumerate(self.blocks):
            if index:
                joined = kind in _LINE_JOINED and self.blocks[index - 1][0] == kind
                parts.append("\n" if joined else "\n\n")
            parts.append(text)
        return "".join(parts)


def _flat_text(node: LexborNode) -> str:
    """Text of a heading or table cell on one line; block children are separated by spaces."""
    parts: list[str] = []
    stack: list[LexborNode | str] = list(reversed(list(node.iter(include_text=True))))
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        tag = item.tag
        if tag == "-text":
            parts.append(item.text_content or "")
        elif tag != "-comment":
            block = tag not in _INLINE_TAGS or tag == "br"
            if block:
                stack.append(" ")
            stack.extend(reversed(list(item.iter(include_text=True))))
            if block:
                stack.append(" ")
    return " ".join("".join(parts).split())


# ---------------------------------------------------------------------------------- copies

_COPY_MIN_CHARS = 200  # a repeated section (with a heading), not a repeated list
_COPY_WORK = 20  # characters hashed per character of the content, at most


def _repeated_copies(nodes: list[LexborNode], log: list[Dropped] | None) -> set[int]:
    """Sections repeated whole (tab panels, mobile and desktop copies of the same text): the
    mem_ids of every copy after the first. Only titled blocks of several blocks count, so a
    sentence or a list a policy repeats in two sections stays in both. The candidates are the
    ancestors of headings, each weighed once, walked up from the headings in page order."""
    seen: dict[str, LexborNode] = {}
    weighed: set[int] = set()
    copies: set[int] = set()
    tops = [node for node in nodes if node.tag != "-text"]
    budget = _COPY_WORK * sum(len(node.text(strip=True)) for node in tops)
    for top in tops:
        for heading in top.css(_HEADING_SELECTOR):
            node = heading.parent
            while node is not None and node.mem_id not in weighed and budget > 0:
                weighed.add(node.mem_id)
                text = node.text(strip=True)  # equal copies have equal text nodes: a fine key
                budget -= len(text)
                if len(text) >= _COPY_MIN_CHARS and _blocks(node) >= 2:
                    first = seen.setdefault(text, node)
                    # Equal texts one inside the other are a wrapper and its content.
                    if first is not node and not _is_ancestor(first, node) \
                            and not _is_ancestor(node, first):
                        copies.add(node.mem_id)
                        if log is not None:
                            _note(log, node, f"repeated copy of {_describe(first)}")
                if node.mem_id == top.mem_id:
                    break
                node = node.parent
    return copies


def _blocks(node: LexborNode) -> int:
    return sum(1 for child in node.iter() if child.tag not in _INLINE_TAGS)


def _is_ancestor(ancestor: LexborNode, node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == ancestor.mem_id:
            return True
        parent = parent.parent
    return False
