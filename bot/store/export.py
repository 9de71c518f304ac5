"""CSV and JSON exports of the touchpoint tables for analysis, streamed so a large table fits.

Exports carry only what the store holds: pseudonymised sender keys and masked text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from bot.store.models import Touchpoint, Turn

TABLES: dict[str, Table] = {"touchpoints": Touchpoint.__table__, "turns": Turn.__table__}
FORMATS = ("csv", "json")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a quote disarms it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    value = _plain(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _rows(engine: Engine, table: Table) -> Iterator[dict[str, Any]]:
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(select(table).order_by(table.c.id))
        for row in result.mappings():
            yield dict(row)


def export_table(engine: Engine, table_name: str, fmt: str, out: TextIO) -> int:
    """Write every row of the table to `out`; the number of rows written."""
    if table_name not in TABLES:
        raise ValueError(f"unknown table {table_name!r}: choose one of {', '.join(TABLES)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    table = TABLES[table_name]
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(table.c.keys())
        for row in _rows(engine, table):
            writer.writerow(_csv_cell(value) for value in row.values())
            count += 1
        return count
    out.write("[")
    for row in _rows(engine, table):
        out.write(",\n" if count else "\n")
        out.write(json.dumps({key: _plain(value) for key, value in row.items()}, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
