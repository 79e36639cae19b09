"""Keep TensorFlow's own C++ log lines out of what people read, for the whole process.

TensorFlow 2.21 writes ``WARNING: All log messages before absl::InitializeLog() …``, the oneDNN
banner and, on its first tf.data pipelines, ``E0000 … NodeDef mentions attribute
use_unbounded_threadpool …`` to file descriptor 2, whatever ``TF_CPP_MIN_LOG_LEVEL`` says
(measured: levels 0, 2 and 3 all print them). Students and TAs read them as errors.

``drop_framework_log_lines()`` puts a pipe in front of fd 2: a thread forwards every line to the
real stderr except TensorFlow's, absl's and oneDNN's own (``cell_stderr.is_framework_line``),
which go to a debug log instead. Everything else, tracebacks included, passes through unchanged.
"""

from __future__ import annotations

import atexit
import os
import select
import sys
import tempfile
import threading
from pathlib import Path

from autograder.messages.cell_stderr import is_framework_line

DEBUG_LOG = Path(tempfile.gettempdir()) / "autograder-tensorflow.log"
_installed: dict[str, object] = {}


def drop_framework_log_lines(debug_log: Path | None = DEBUG_LOG) -> Path | None:
    """From now on, send TensorFlow's own log lines on fd 2 to ``debug_log`` (None: drop them).

    Returns the debug log's path. Idempotent; a no-op where fd 2 cannot be redirected.
    """
    if _installed:
        return _installed.get("debug_log")  # type: ignore[return-value]
    try:
        sys.stderr.flush()
        real_stderr = os.dup(2)
        read_end, write_end = os.pipe()
    except (OSError, ValueError):
        return None
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(target=_forward, args=(read_end, real_stderr, debug_log), daemon=True,
                                 name="autograder-framework-log")
    forwarder.start()
    _installed.update(debug_log=debug_log, real_stderr=real_stderr, thread=forwarder)
    atexit.register(_uninstall)
    return debug_log


def _forward(read_end: int, real_stderr: int, debug_log: Path | None) -> None:
    pending = b""
    while True:
        # A partial line (a progress bar redrawn with \r, a prompt) is forwarded after a short wait.
        ready, _, _ = select.select([read_end], [], [], 0.2)
        if not ready:
            if pending:
                _emit(pending, real_stderr, debug_log)
                pending = b""
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            _emit(line + b"\n", real_stderr, debug_log)
    if pending:
        _emit(pending, real_stderr, debug_log)
    os.close(read_end)


def _emit(data: bytes, real_stderr: int, debug_log: Path | None) -> None:
    if is_framework_line(data.decode("utf-8", "replace")):
        if debug_log is not None:
            try:
                with open(debug_log, "ab") as log:
                    log.write(data)
            except OSError:
                pass
        return
    try:
        os.write(real_stderr, data)
    except OSError:
        pass


def _uninstall() -> None:
    """Put the real stderr back and let the forwarder drain what is left (called at exit)."""
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    real_stderr = _installed.get("real_stderr")
    if isinstance(real_stderr, int):
        os.dup2(real_stderr, 2)  # closes the pipe's last write end here; children may still hold theirs
    thread = _installed.get("thread")
    if isinstance(thread, threading.Thread):
        thread.join(timeout=1.0)
