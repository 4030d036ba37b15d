"""Markdown as Slack's mrkdwn, and long text cut where a reader would cut it.

Slack's mrkdwn differs from Markdown in a few marks: `*bold*` (Markdown's `**bold**`),
`_italic_`, `~strike~`, `<url|text>` links, no headings (shown bold here) and no tables
(kept as a code block so columns line up). Code spans and fenced blocks are left alone.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_CODE_SPAN = re.compile(r"`[^`\n]+`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_STRIKE = re.compile(r"~~(.+?)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
_TABLE = re.compile(r"(?:^\|.*\|[ \t]*\n?){2,}", re.M)
_SPECIAL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def to_mrkdwn(markdown: str) -> str:
    """`markdown` in Slack's mrkdwn; `&`, `<` and `>` escaped as the Web API requires."""
    kept: list[str] = []

    def keep(text: str) -> str:
        kept.append(text)
        return f"\x00{len(kept) - 1}\x00"

    text = _FENCE.sub(lambda m: keep(m.group(0).translate(_SPECIAL)), markdown)
    text = _TABLE.sub(lambda m: keep("```\n" + m.group(0).rstrip("\n").translate(_SPECIAL)
                                     + "\n```\n"), text)
    text = _CODE_SPAN.sub(lambda m: keep(m.group(0).translate(_SPECIAL)), text)
    text = _LINK.sub(lambda m: keep(f"<{m.group(2)}|{m.group(1).translate(_SPECIAL)}>"), text)
    text = text.translate(_SPECIAL)
    text = _HEADING.sub(lambda m: f"*{m.group(1)}*", text)
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _cut(text: str, limit: int) -> int:
    """Where to cut `text` to keep at most `limit` characters: the last paragraph break
    in the second half of the window, else the last line break there, else the last
    space, else exactly at `limit`."""
    window = text[:limit]
    for mark in ("\n\n", "\n", " "):
        cut = window.rfind(mark)
        if cut >= limit // 2:
            return cut
    return limit


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters (at least 16), cut at a paragraph,
    else a line, else a space; a fenced code block cut in two is closed and reopened."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut(rest, limit)
        if rest[:cut].count("```") % 2:  # inside a code block: leave room to close it
            cut = _cut(rest, limit - 4)
        piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip("\n ")
        if piece.count("```") % 2:
            piece, rest = piece + "\n```", "```\n" + rest
        pieces.append(piece)
    if rest or not pieces:
        pieces.append(rest)
    return pieces
