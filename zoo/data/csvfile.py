"""How a CSV file is written: its encoding, delimiter and decimal mark, read off its first lines, and "?"
for a missing value.

Spreadsheets save CSV files in their locale's way: a German or French Excel writes semicolons between
fields, commas as decimal marks and Windows-1252 text (`größe;farbe\\n12,5;grün`), and many tools put a
byte-order mark before UTF-8. pandas reads all of them, once told how; `csv_format` tells it, so a user's
file reads as it opens in their spreadsheet, and `zoo predict` reads new rows the same way.

Examples:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w", encoding="cp1252").write("größe;farbe\\n12,5;grün\\n3,25;rot\\n")
    >>> csv_format(path)
    {'encoding': 'cp1252', 'sep': ';', 'decimal': ',', 'na_values': ['?']}
    >>> csv_header(path)
    ['größe', 'farbe']
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

DELIMITERS = (",", ";", "\t", "|")  # a comma wins a tie: the format's own
# Written for a missing value besides pandas' own ("", "NA", "n/a", "null", ...): "?" is the UCI repository's
# mark, where a numeric column with a few "?" would otherwise be read as text, a category per number.
MISSING = ["?"]
_HEAD_BYTES = 1 << 16  # enough lines to tell, read fast from any file size
_COMMA_DECIMAL = re.compile(r"^-?\d+,\d+$")
_POINT_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def _text(head: bytes) -> tuple[str, str]:
    """(encoding, text) of a file's first bytes: UTF-8 (a byte-order mark dropped), else Windows-1252, else
    Latin-1 (which reads any byte)."""
    whole = head[: head.rfind(b"\n") + 1] or head  # a multi-byte character cut at the end is not an error
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return encoding, whole.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def csv_format(path: str | Path) -> dict[str, Any]:
    """pandas.read_csv's `encoding`, `sep`, `decimal` and extra `na_values` for the CSV file at `path`, and
    `index_col` where the file holds row labels.

    The delimiter is the one of DELIMITERS the header line holds most of; with another delimiter than a
    comma, the decimal mark is a comma where the first lines hold more numbers written "12,5" than "12.5".
    A first column with no name is the row labels that pandas' `to_csv` and R's `write.csv` write by default
    (0, 1, 2, ... or "1", "2", ...): read as the index, so it is neither a feature nor a column to predict from.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "saved.csv")
        >>> _ = open(path, "w").write(",size,kind\\n0,1.5,a\\n1,2.5,b\\n")
        >>> csv_format(path)["index_col"]
        0
    """
    with open(path, "rb") as handle:
        encoding, text = _text(handle.read(_HEAD_BYTES))
    lines = text.splitlines()
    header = lines[0] if lines else ""
    sep = max(DELIMITERS, key=lambda d: (header.count(d), d == ","))
    decimal = "."
    if sep != ",":
        fields = [field.strip().strip('"') for row in csv.reader(lines[1:], delimiter=sep) for field in row]
        commas = sum(bool(_COMMA_DECIMAL.match(field)) for field in fields)
        points = sum(bool(_POINT_DECIMAL.match(field)) for field in fields)
        decimal = "," if commas > points else "."
    labels = next(csv.reader([header], delimiter=sep), [""])[0].strip() == "" and sep in header
    return {
        "encoding": encoding,
        "sep": sep,
        "decimal": decimal,
        "na_values": MISSING,
        **({"index_col": 0} if labels else {}),
    }


def csv_header(path: str | Path, found: dict[str, Any] | None = None) -> list[str] | None:
    """The CSV file's column names as written (pandas renames a repeated one "a.1"), or None if it is empty.
    `found` is the file's `csv_format`, where the caller has it already."""
    found = found or csv_format(path)
    with open(path, newline="", encoding=found["encoding"], errors="replace") as handle:
        return next(csv.reader(handle, delimiter=found["sep"]), None)
