"""The class's ledger, ``grades/<assignment>.jsonl``: one JSON line per finished submission, appended at once.

Only the coordinator writes it, and only by appending: each line is written whole, flushed and
fsynced before the next submission is recorded, so a killed run loses at most the submissions in
flight. Nothing is ever rewritten. Reading it back tolerates damage: a torn last line (the run was
killed while writing) or a line that is not a ledger entry is reported as a warning and skipped, and
stays in the file. Before appending after a torn line, a newline is written first, so the new line
stays whole.

A student's current grade is their last line: regrading appends, it never replaces.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

# The fields the coordinator needs to decide what to skip; the rest of a line (the full result) is
# dropped when reading for a resume, so that a class of 1,000 costs little memory.
SUMMARY_FIELDS = ("student", "assignment", "sha256", "key", "status", "score", "max_score", "groups", "reason",
                  "seconds", "attempts", "calibration", "worker", "isolated")


class LedgerError(OSError):
    """The ledger cannot be written (read-only folder, disk full): the run stops, nothing recorded is lost."""


def ledger_path(course_root: Path, assignment: str) -> Path:
    return Path(course_root) / "grades" / f"{assignment}.jsonl"


@dataclass
class LedgerContents:
    entries: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def latest_by_student(self) -> dict[str, dict]:
        """Each student's last line (their current grade, or why it is missing)."""
        latest: dict[str, dict] = {}
        for entry in self.entries:
            latest[entry["student"]] = entry
        return latest


def read_ledger(path: Path, assignment: str, keep_results: bool = False) -> LedgerContents:
    """Every valid line of the ledger at ``path`` (none when it does not exist yet), with warnings for the rest."""
    contents = LedgerContents()
    path = Path(path)
    if not path.exists():
        return contents
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            problem, entry = _parse(raw, assignment)
            if problem:
                contents.warnings.append(f"{path}, line {number}: {problem}; ignored (left in the file)")
                continue
            contents.entries.append(entry if keep_results else {k: entry.get(k) for k in SUMMARY_FIELDS})
    return contents


def _parse(raw: bytes, assignment: str) -> tuple[str, dict]:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        torn = "" if raw.endswith(b"\n") else " (a line cut short: a run was killed while writing it?)"
        return f"not a JSON line{torn}", {}
    if not isinstance(entry, dict) or not {"student", "sha256", "key", "status"} <= entry.keys():
        return "not a ledger entry (student, sha256, key, status missing)", {}
    if entry.get("assignment") != assignment:
        return f"an entry of assignment {entry.get('assignment')!r}, not {assignment!r}", {}
    return "", entry


class LedgerWriter:
    """Appends entries to the ledger, each one durable before ``append`` returns."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
            self._end_torn_line()
        except OSError as exc:
            raise LedgerError(f"cannot write the ledger {self.path}: {exc.strerror or exc}") from None

    def _end_torn_line(self) -> None:
        size = self.path.stat().st_size
        if size:
            with self.path.open("rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    self._write(b"\n")

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def append(self, *entries: dict) -> None:
        """Append ``entries`` (the submissions that finished together), durable when this returns: one fsync
        for them all, so that a busy class is not slowed down to the disk's fsync rate."""
        lines = b"".join(json.dumps(e, ensure_ascii=False).encode("utf-8") + b"\n" for e in entries)
        try:
            self._write(lines)
        except OSError as exc:
            raise LedgerError(f"cannot append to the ledger {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "LedgerWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
