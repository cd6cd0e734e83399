"""A minimal auto-escaping template helper (no new dependency).

Every value put into a template is HTML-escaped (quotes included) unless it is :class:`Safe`, which
only this module and the renderers' own constant fragments produce. Templates are ``str.format``
strings with named fields; CSS and scripts go in as Safe values, never into a template body, so
their braces need no doubling.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable
from typing import Any


class Safe(str):
    """Text that is already HTML (escaped or produced from constants)."""

    __slots__ = ()


EMPTY = Safe("")


def esc(value: Any) -> Safe:
    if isinstance(value, Safe):
        return value
    return Safe(html.escape("" if value is None else str(value), quote=True))


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Safe):
            return str(value)
        return html.escape(format(value, format_spec), quote=True)


_FORMATTER = _Formatter()


def render(template: str, /, **values: Any) -> Safe:
    """Fill ``template`` (``{name}`` fields), escaping every value that is not Safe."""
    return Safe(_FORMATTER.vformat(template, (), values))


def join(parts: Iterable[Any], sep: str = "") -> Safe:
    return Safe(sep.join(esc(p) for p in parts))


_TEL = re.compile(r"[^0-9+]")


def tel_href(phone: str) -> str:
    """A ``tel:`` URL holding digits (and +) only, whatever the stored phone looks like."""
    return "tel:" + _TEL.sub("", phone or "")


_SPACE = re.compile(r">\s+<")


def compact(markup: str) -> Safe:
    """Drop the indentation between tags of a constant template (fewer bytes on the wire)."""
    return Safe(_SPACE.sub("><", markup.strip()))
