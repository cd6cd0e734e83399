"""Reading an uploaded spreadsheet into rows of text: CSV (UTF-8 with or without BOM, GB18030 as
Chinese Excel saves it, UTF-16 "Unicode text") or XLSX. Pure functions, no database, no HTTP.

Row numbers are the ones the user sees in Excel (the header is usually row 1), so a report can say
"第 17 行" and the user finds it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
HEADER_SCAN_ROWS = 10  # a title row or two above the header is common in Chinese templates


class TableError(Exception):
    """The file as a whole cannot be read; ``message`` is for the user (Chinese)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Table:
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as shown in Excel, cells)


def cell_text(value: object) -> str:
    """One cell as trimmed text; numbers the way a person typed them (13800000000, not 1.38e10).
    An XLSX formula is its formula text (``=A2&"栋"``), so the import can report it."""
    if value is None:
        return ""
    if hasattr(value, "text") and not isinstance(value, str):  # openpyxl's ArrayFormula
        value = value.text or "="
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Chinese Windows saves "CSV" in the ANSI code page (GBK); GB18030 is its superset.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise TableError("bad_encoding", "文件编码无法识别，请另存为 UTF-8 或 GB18030（GBK）编码的 CSV 文件") from None


def _csv_rows(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = decode_csv(data)
    except UnicodeDecodeError:
        raise TableError("bad_encoding", "文件编码无法识别，请另存为 UTF-8 或 GB18030（GBK）编码的 CSV 文件") from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise TableError("bad_file", f"CSV 文件格式有误：{exc}") from None
    return [(n, [cell_text(c) for c in record]) for n, record in enumerate(records, start=1)]


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a declared dependency
        raise TableError("unsupported_format", "服务器未安装 XLSX 支持，请上传 CSV 文件") from None
    try:
        # Formulas as written, not their cached values: a formula cell is refused in the report (its
        # cached value may be stale, or absent in a file no spreadsheet has recalculated, which read
        # as an empty cell without a word).
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise TableError("bad_file", "XLSX 文件已损坏或不是有效的 Excel 文件") from None
    try:
        sheet = book.worksheets[0]
        return [
            (n, [cell_text(v) for v in values])
            for n, values in enumerate(sheet.iter_rows(min_row=1, min_col=1, values_only=True), start=1)
        ]
    finally:
        book.close()


def read_table(data: bytes, header_names: set[str], *, max_rows: int) -> Table:
    """The table in ``data``: the header is the first of the top rows naming at least two of
    ``header_names`` (normalised), else the first non-empty row. Empty rows are dropped."""
    if not data.strip():
        raise TableError("empty_file", "文件是空的")
    if data.startswith(XLS_MAGIC):
        raise TableError("unsupported_format", "不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV")
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise TableError("empty_file", "文件中没有任何数据")
    header_at = 0
    for i, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        if sum(1 for c in cells if normalise_header(c) in header_names) >= 2:
            header_at = i
            break
    header_row, header = rows[header_at]
    body = rows[header_at + 1 :]
    if len(body) > max_rows:
        raise TableError(
            "too_many_rows", f"文件共 {len(body)} 行数据，超过单次导入上限 {max_rows} 行，请拆分后分批导入"
        )
    return Table(header_row=header_row, header=header, rows=body)


def normalise_header(text: str) -> str:
    """Header cell as a lookup key: no spaces, no required-field stars, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).replace("*", "").lower()
