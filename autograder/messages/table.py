"""A fixed-width text table inside a message: its headers are messages, rendered in the reader's language
when the table is, so its column widths fit the language it is read in.

A table is data like any message (``to_data``/``text_from_data``): ``{"table": {"headers": [...], "rows":
[[...]], "marker_row": n}}``, its cells kept as the text they show, so that a grade's record (and a check
result sent by the model process) keeps the table whole.
"""

from __future__ import annotations

from autograder.messages.i18n import Message, render


class Table(Message):
    """A fixed-width text table whose headers are rendered in the reader's language; ``marker_row`` is flagged
    with '>>'."""

    __slots__ = ("headers", "rows", "marker_row")

    def __init__(self, headers: tuple, rows: list[tuple], marker_row: int | None = None):
        super().__init__("")
        # Cells as the text they show: what a table read back from data holds too.
        self.headers, self.rows, self.marker_row = tuple(headers), [tuple(str(c) for c in r) for r in rows], marker_row

    def render(self, translator) -> str:
        """The table's lines, headers translated."""
        return _layout(tuple(render(h, translator) for h in self.headers), self.rows, self.marker_row)

    def to_data(self) -> dict:
        from autograder.messages.i18n import text_to_data

        return {"table": {"headers": [text_to_data(h) for h in self.headers], "rows": [list(r) for r in self.rows],
                          "marker_row": self.marker_row}}

    def __eq__(self, other) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return (self.headers, self.rows, self.marker_row) == (other.headers, other.rows, other.marker_row)

    def __hash__(self) -> int:
        return hash((self.headers, len(self.rows)))

    def __repr__(self) -> str:
        return f"Table({len(self.rows)} rows)"


def _layout(headers: tuple[str, ...], rows: list[tuple], marker_row: int | None) -> str:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        flag = ">> " if marker_row is not None and n - 1 == marker_row else "   "
        lines.append(flag + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("   " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)
