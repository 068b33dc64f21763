"""CSV a teacher opens in a spreadsheet: UTF-8 with a byte order mark (Excel then reads accents), and cells
that a spreadsheet would run as a formula neutralised (a leading `=`, `+`, `-`, `@`, tab or carriage return
gets a `'` in front: CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """One cell as text; numbers stay numbers (a negative number is not a formula), None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows_to_csv(header: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write(BOM)
    writer.writerow([cell(h) for h in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([cell(v) for v in row])
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
