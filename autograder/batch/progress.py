"""The run's progress bar (tqdm): done/total, rate, ETA, and the failures so far."""

from __future__ import annotations

import sys

from tqdm import tqdm


class ClassProgress:
    def __init__(self, total: int, description: str, enabled: bool = True):
        self.failures = 0
        self._bar = tqdm(total=total, desc=description, unit="nb", file=sys.stderr, disable=not enabled,
                         dynamic_ncols=True, smoothing=0.1)
        self._bar.set_postfix(failures=0)

    def finished(self, failed: bool) -> None:
        if failed:
            self.failures += 1
            self._bar.set_postfix(failures=self.failures, refresh=False)
        self._bar.update(1)

    def write(self, line: str) -> None:
        """A message printed above the bar, without breaking it."""
        self._bar.write(line, file=sys.stderr)

    def close(self) -> None:
        self._bar.close()
