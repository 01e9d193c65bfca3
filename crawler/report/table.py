"""Plain-text tables for the terminal: left-aligned columns, two spaces apart."""
from __future__ import annotations


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in [headers, *rows])
