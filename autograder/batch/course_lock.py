"""One writer of a course's ledger at a time (``grade-all``, ``verify``): an ``flock`` on ``grades/<assignment>.lock``.

Two teaching assistants starting ``grade-all`` on the same course would both grade every student and append
both gradings to the ledger. The second run is refused (it does not wait: a class takes an hour, and the
first run's summary is what the second would have printed anyway), with the first run's pid, host and start
time, which the lock file holds for that purpose.

The kernel releases an ``flock`` when its process ends, however it ends, so a run killed with SIGKILL leaves
no lock behind: its lock file still names it, and the next run takes the lock over and says so. The file's
content only informs; the lock is the ``flock``. The file is never removed (removing it would let a third
run lock a new file while the second still holds the old one). On NFS, Linux emulates ``flock`` with the
server's byte-range locks, which should make runs on two machines that share the course folder exclude each
other too; only runs on one machine are tested.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path


class CourseBusy(RuntimeError):
    """Another run holds the course's lock; the sentence names it and what to do."""


def lock_path(ledger: Path) -> Path:
    """The lock file beside the ledger: ``grades/<assignment>.lock``."""
    return Path(ledger).with_suffix(".lock")


class CourseLock:
    """Held from ``take`` to ``release`` (or the process' end); ``took_over`` describes a dead run it replaced."""

    def __init__(self, path: Path, fd: int, took_over: str):
        self.path, self._fd, self.took_over = path, fd, took_over

    @classmethod
    def take(cls, ledger: Path) -> "CourseLock":
        """Lock the course's ledger for this process; raises ``CourseBusy`` when another run holds it and
        ``OSError`` when the lock file cannot be created (the same folder as the ledger)."""
        path = lock_path(ledger)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise CourseBusy(f"another run is grading this assignment of the course: {_describe(holder)} "
                             f"(its lock: {path}); two runs would grade the same students twice. Wait for it "
                             f"to finish (its summary lists the class), or stop it and run this command again: "
                             f"it resumes where that one stopped") from None
        except BaseException:
            os.close(fd)
            raise
        previous = _holder(fd)
        took_over = (f"took over the lock of a run that ended without releasing it ({_describe(previous)}); "
                     f"what it finished is in the ledger") if previous else ""
        _write_holder(fd)
        return cls(path, fd, took_over)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # an empty lock file: released cleanly, nothing to take over
        except OSError:
            pass
        os.close(self._fd)  # closing the only descriptor releases the flock
        self._fd = None

    def __enter__(self) -> "CourseLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(fd: int) -> dict:
    """What the lock file says of the run that holds (or held) it; {} when empty or unreadable."""
    try:
        raw = os.pread(fd, 4096, 0)
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {"unreadable": True}
    return holder if isinstance(holder, dict) else {"unreadable": True}


def _describe(holder: dict) -> str:
    if not holder or holder.get("unreadable"):
        return "a run whose lock file does not say which (written by an older kit, or damaged)"
    return (f"pid {holder.get('pid')} on host {holder.get('host')}, started {holder.get('started')} "
            f"by `{holder.get('command')}`")


def _write_holder(fd: int) -> None:
    holder = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": " ".join(["python -m autograder", *sys.argv[1:]])[:300]}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
    os.fsync(fd)
