"""Keep a graded cell's stderr empty, so that its score depends only on its checks.

nbgrader 0.9 (``nbgrader.utils.determine_grade``) gives a grade cell 0 points when its outputs
hold an error *or any text on the stderr stream*, and ``nbgrader validate`` applies the same rule.
Three things write to stderr while a test cell runs the checks, none of them a failed check:

* TensorFlow's C++ logging (``E0000 … NodeDef mentions attribute use_unbounded_threadpool``, the
  oneDNN banner, absl's "All log messages before absl::InitializeLog()"), written to file
  descriptor 2 directly, past ``sys.stderr``;
* Python warnings, above all Keras' ``UserWarning``s from the student's own code (the lecture's
  ``input_dim=`` style warns);
* the student's own writes to ``sys.stderr`` or to fd 2.

``captured_stderr()`` catches all three for the duration of the checks: fd 2 is pointed at a
temporary file, ``sys.stderr`` and the logging handlers that write to it at a buffer, and warnings
are recorded. What was caught comes back as a ``CapturedStderr``; the caller shows the useful part
on stdout (``notes``) and keeps the framework's log lines out of sight (``framework_lines``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass, field

# Lines that TensorFlow, XLA, absl or oneDNN log on their own: never the student's doing.
_FRAMEWORK_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+\s+\S+:\d+\]"            # absl/glog C++ log line
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "                       # TensorFlow's older C++ format
    r"|(?:WARNING|INFO|ERROR):(?:tensorflow|absl|keras)\b"                 # Python-side framework loggers
    r"|oneDNN custom operations are on"
    r"|To enable the following instructions:.*rebuild TensorFlow"
    r"|This TensorFlow binary is optimized to use available CPU instructions)"
)
# How much of the student's own stderr a note quotes.
MAX_NOTE_LINES = 12
MAX_NOTE_CHARS = 2000


@dataclass(frozen=True)
class CaughtWarning:
    category: str
    message: str
    from_keras: bool


@dataclass
class CapturedStderr:
    """What reached stderr while the checks ran, sorted by who wrote it."""

    framework_lines: list[str] = field(default_factory=list)
    other_lines: list[str] = field(default_factory=list)
    warnings: list[CaughtWarning] = field(default_factory=list)

    def add_text(self, text: str) -> None:
        for line in text.splitlines():
            if not line.strip():
                continue
            (self.framework_lines if is_framework_line(line) else self.other_lines).append(line.rstrip())

    def add_warning(self, caught: warnings.WarningMessage) -> None:
        first_line = str(caught.message).strip().splitlines()[0] if str(caught.message).strip() else ""
        filename = str(getattr(caught, "filename", "") or "")
        item = CaughtWarning(caught.category.__name__, first_line, from_keras=f"{os.sep}keras{os.sep}" in filename)
        if item not in self.warnings:  # one note per distinct warning, however many probes raised it
            self.warnings.append(item)

    def quoted_stderr(self) -> str:
        """The student's own stderr, shortened to at most MAX_NOTE_LINES lines and MAX_NOTE_CHARS characters."""
        shown = self.other_lines[:MAX_NOTE_LINES]
        text = "\n".join(shown)[:MAX_NOTE_CHARS]
        left = len(self.other_lines) - len(shown)
        return text + (f"\n… ({left} more line(s))" if left > 0 else "")


def is_framework_line(line: str) -> bool:
    """Whether a stderr line is TensorFlow's, absl's or oneDNN's own logging, not the student's."""
    return bool(_FRAMEWORK_LINE.match(line.strip()))


@contextlib.contextmanager
def captured_stderr(record_warnings: bool = True):
    """Catch fd 2, ``sys.stderr``, stderr logging handlers and warnings; yield the ``CapturedStderr``.

    The result is filled in when the block ends (also when it raises). With ``record_warnings``
    False, warnings take their usual way (pytest's summary, for instance).
    """
    captured = CapturedStderr()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    python_buffer = io.StringIO()
    original_stderr = sys.stderr
    handlers = _stderr_handlers(original_stderr)
    with tempfile.TemporaryFile(mode="w+b") as fd_buffer:
        saved_fd = _redirect_fd2(fd_buffer.fileno())
        try:
            # The filters stay as they are: what Python would not have shown (numpy's DeprecationWarnings
            # inside Keras) is not recorded either.
            recording = warnings.catch_warnings(record=True) if record_warnings else contextlib.nullcontext([])
            with recording as caught, contextlib.redirect_stderr(python_buffer), _framework_loggers_quiet():
                for handler in handlers:
                    handler.setStream(python_buffer)
                try:
                    yield captured
                finally:
                    for handler in handlers:
                        handler.setStream(original_stderr)
                    for item in caught:
                        captured.add_warning(item)
        finally:
            _restore_fd2(saved_fd)
            fd_buffer.seek(0)
            captured.add_text(fd_buffer.read().decode("utf-8", "replace"))
            captured.add_text(python_buffer.getvalue())


@contextlib.contextmanager
def _framework_loggers_quiet():
    """TensorFlow's Python logger at ERROR: its retracing warnings (printed to stdout) are about the grader's own training."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        logger.setLevel(level)


def _stderr_handlers(stream) -> list[logging.StreamHandler]:
    """Logging handlers that write to ``stream`` or the process's stderr (they keep their own reference)."""
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    found = []
    for logger in loggers:
        for handler in logger.handlers:
            if (type(handler) is logging.StreamHandler and handler.stream in (stream, sys.__stderr__)
                    and handler not in found):
                found.append(handler)
    return found


def _redirect_fd2(target_fd: int) -> int | None:
    """Point fd 2 at ``target_fd``; return a copy of the old fd 2 (None where there is no fd 2)."""
    try:
        saved = os.dup(2)
    except OSError:
        return None
    os.dup2(target_fd, 2)
    return saved


def _restore_fd2(saved: int | None) -> None:
    if saved is None:
        return
    os.dup2(saved, 2)
    os.close(saved)
