"""Remove markdown markers from extracted text (Llama 3 found them harmful for web-trained models).

Images become their alt text (math is often an image whose alt text holds the formula), links
become their anchor text; heading hashes and emphasis markers go. Code stays as it is.
"""

from __future__ import annotations

import re

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\([^)]*\)")
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def images_to_alt_text(text: str) -> str:
    return _IMAGE.sub(lambda m: m.group(1), text)


def drop_images(text: str) -> str:
    return _IMAGE.sub("", text)


def strip_markdown(text: str) -> str:
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _HEADING.sub("", text)
    return _EMPHASIS.sub(lambda m: m.group(2), text)
