"""Every spreadsheet the server hands out (CSV) is written here, with cells that Excel, WPS and
LibreOffice open as text, never as a formula.

Names in these files are typed by staff and owners (route, checkpoint, steward, finding notes); a
name such as ``=HYPERLINK("http://…")`` or ``=cmd|' /C calc'!A0`` would run in the office PC's
spreadsheet. A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading apostrophe (OWASP's advice), which the spreadsheet shows as plain text.

Negative numbers stay numbers: an int or float value is never touched, and neither is a text cell
that is nothing but a decimal number (``-3``, ``+86``, ``-0.5``), since no spreadsheet evaluates
those as more than the number they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def is_formula_text(text: str) -> bool:
    """Whether a spreadsheet would take this text for a formula (a plain signed number it would not)."""
    return text.startswith(FORMULA_LEAD) and not _PLAIN_NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """The cell as written: None as empty, formula-leading text neutralised, anything else as is."""
    if value is None:
        return ""
    if isinstance(value, str) and is_formula_text(value):
        return "'" + value
    return value


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A CSV document (header first); the one writer for every export."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return out.getvalue()
