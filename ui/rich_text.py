"""Message text as shown: the Markdown White Noise sends, and links, without any HTML.

``parse`` turns a message into the text to draw plus styled ranges over it (bold, italic,
strike-through, code, links). The markers themselves are dropped. Nothing is interpreted as
HTML and nothing is fetched: an image (``![alt](url)``) becomes a link labelled with its alt
text, opened only when clicked. Links are http(s) and mailto only; anything else (say
``javascript:``) stays plain text. Pure: no Qt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Flag, auto


class Style(Flag):
    NONE = 0
    BOLD = auto()
    ITALIC = auto()
    STRIKE = auto()
    CODE = auto()
    LINK = auto()
    QUOTE = auto()


@dataclass(frozen=True, slots=True)
class Span:
    """``length`` characters of the shown text from ``start`` in ``style`` (a link's
    ``url`` is set)."""

    start: int
    length: int
    style: Style
    url: str = ""

    def covers(self, position: int) -> bool:
        return self.start <= position < self.start + self.length


@dataclass(frozen=True, slots=True)
class RichText:
    text: str
    spans: tuple[Span, ...] = ()

    @property
    def links(self) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.url)

    def link_at(self, position: int) -> str:
        """The URL of the link over the character at ``position``, or ""."""
        return next((s.url for s in self.links if s.covers(position)), "")


_SCHEMES = ("https://", "http://", "mailto:")
_INLINE = re.compile(
    r"(?P<code>`(?P<ctext>[^`\n]+)`)"
    r"|(?P<image>!\[(?P<alt>[^\]\n]*)\]\((?P<iurl>[^)\s]+)\))"
    r"|(?P<link>\[(?P<label>[^\]\n]+)\]\((?P<url>[^)\s]+)\))"
    r"|(?P<angle><(?P<aurl>(?:https?://|mailto:)[^>\s]+)>)"
    r"|(?P<bare>(?<![\w/])(?:https?://|www\.)[^\s<>]+)"
    r"|\*\*(?P<bold>[^\s*](?:.*?[^\s*])?)\*\*"
    r"|(?<!\w)__(?P<ubold>[^\s_](?:.*?[^\s_])?)__(?![\w.])"
    r"|~~(?P<strike>[^\s~](?:.*?[^\s~])?)~~"
    r"|(?<![\w*])\*(?P<italic>[^\s*](?:[^*\n]*?[^\s*])?)\*(?![\w*])"
    r"|(?<!\w)_(?P<uitalic>[^\s_](?:[^_\n]*?[^\s_])?)_(?![\w.])"
)
_HEADING = re.compile(r"^#{1,6}\s+")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_FENCE = "```"
_TRAILING = ".,;:!?'\""
_MAX_DEPTH = 4


def safe_url(url: str) -> str:
    """``url`` if it is a link we open (http, https, mailto), else ""."""
    lowered = url.lower()
    if lowered.startswith("www."):
        return "https://" + url
    return url if lowered.startswith(_SCHEMES) and len(url) > len("mailto:") else ""


def _trim_bare(url: str) -> str:
    """A bare URL ends before trailing punctuation and an unbalanced closing bracket."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.length = 0

    def add(self, text: str, style: Style = Style.NONE, url: str = "") -> None:
        if not text:
            return
        if style is not Style.NONE or url:
            self.spans.append(Span(self.length, len(text), style, url))
        self.parts.append(text)
        self.length += len(text)

    def inline(self, text: str, style: Style, depth: int = 0) -> None:
        """Inline Markdown of one line (or one styled run inside it)."""
        if depth > _MAX_DEPTH:
            self.add(text, style)
            return
        pos = 0
        for match in _INLINE.finditer(text):
            groups = match.groupdict()
            if groups["bare"] is not None:
                url = _trim_bare(groups["bare"])
                if not url or not safe_url(url):
                    continue
                self.add(text[pos : match.start()], style)
                self.add(url, style | Style.LINK, safe_url(url))
                pos = match.start() + len(url)
                continue
            self.add(text[pos : match.start()], style)
            pos = match.end()
            self._styled(groups, style, depth)
        self.add(text[pos:], style)

    def _styled(self, g: dict[str, str | None], style: Style, depth: int) -> None:
        if g["code"] is not None:
            self.add(g["ctext"] or "", style | Style.CODE)
        elif g["image"] is not None:  # never fetched: a link to it, labelled
            self._link(g["alt"] or "image", g["iurl"] or "", style, depth, image=True)
        elif g["link"] is not None:
            self._link(g["label"] or "", g["url"] or "", style, depth)
        elif g["angle"] is not None:
            url = g["aurl"] or ""
            self.add(url, style | Style.LINK, safe_url(url))
        elif g["bold"] is not None or g["ubold"] is not None:
            self.inline(g["bold"] or g["ubold"] or "", style | Style.BOLD, depth + 1)
        elif g["strike"] is not None:
            self.inline(g["strike"], style | Style.STRIKE, depth + 1)
        else:
            self.inline(g["italic"] or g["uitalic"] or "", style | Style.ITALIC, depth + 1)

    def _link(self, label: str, url: str, style: Style, depth: int, *, image: bool = False) -> None:
        target = safe_url(url)
        shown = f"🖼 {label}" if image else label
        if target:
            self.add(shown, style | Style.LINK, target)
        else:  # not a link we open: its words only
            self.inline(shown, style, depth + 1)


def parse(text: str) -> RichText:
    """The shown text and its styled ranges (see the module doc)."""
    out = _Builder()
    in_code = False
    first = True
    for line in text.split("\n"):
        if line.strip().startswith(_FENCE):  # a fence line itself is not shown
            in_code = not in_code
            continue
        if not first:
            out.add("\n")
        first = False
        if in_code:
            out.add(line, Style.CODE)
        else:
            _block_line(out, line)
    return RichText("".join(out.parts), tuple(out.spans))


def _block_line(out: _Builder, line: str) -> None:
    heading = _HEADING.match(line)
    if heading:
        out.inline(line[heading.end() :], Style.BOLD)
        return
    if line.startswith(">"):
        out.add("▍ ", Style.QUOTE)
        out.inline(line[1:].lstrip(), Style.QUOTE | Style.ITALIC)
        return
    bullet = _BULLET.match(line)
    if bullet:
        out.add(bullet.group(1) + "• ")
        out.inline(line[bullet.end() :], Style.NONE)
        return
    out.inline(line, Style.NONE)


def plain(text: str) -> str:
    """The words of a message without its Markdown markers (previews, quotes)."""
    return parse(text).text
