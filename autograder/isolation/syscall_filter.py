"""The system calls a jailed process may not make, as the seccomp program that bubblewrap loads (``--seccomp FD``).

Where the grader runs as root, bubblewrap makes no user namespace (the uid outside must be the role's own, see
``jail._bwrap_options``), so ``--disable-userns`` does not apply, and the role's unprivileged uid could make a user
namespace of its own: root there, with every capability over the namespaces it makes next. That reaches far into
the kernel (mounts, netfilter, …), which nothing a notebook needs does. The filter refuses it, as Flatpak's does:

* a new user namespace, by ``unshare`` or ``clone`` with ``CLONE_NEWUSER`` (``EPERM``);
* ``clone3``, whose flags sit in memory a filter cannot read, answers ``ENOSYS``: the C library then falls back
  to ``clone``, whose flags the filter does read (glibc does so for every thread it starts);
* the kernel's keyrings, eBPF, userfaultfd and perf events, which no grading needs and which are where
  unprivileged exploits of the kernel usually start (``EPERM``);
* a 32-bit system call from the 64-bit process (``int 0x80``), which would bypass the rules above, kills it.

The program is compiled with libseccomp (``pyseccomp``); where libseccomp is missing, there is no filter and the
protections line says so.
"""

from __future__ import annotations

import errno
import tempfile
from functools import lru_cache

CLONE_NEWUSER = 0x10000000
# Calls that no grading makes and that unprivileged kernel exploits usually start from.
REFUSED_CALLS = ("keyctl", "add_key", "request_key", "bpf", "userfaultfd", "perf_event_open")


@lru_cache(maxsize=1)
def seccomp_program() -> bytes | None:
    """The compiled filter (classic BPF, for bubblewrap's ``--seccomp``), or None where libseccomp is missing."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError):  # no pyseccomp, or no libseccomp.so.2 for it to load
        return None
    refused = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    new_user_namespace = seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)
    rules.add_rule(refused, "unshare", new_user_namespace)
    rules.add_rule(refused, "clone", new_user_namespace)
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for call in REFUSED_CALLS:
        rules.add_rule(refused, call)
    with tempfile.TemporaryFile() as program:  # libseccomp writes to a file descriptor
        rules.export_bpf(program)
        program.seek(0)
        return program.read()
