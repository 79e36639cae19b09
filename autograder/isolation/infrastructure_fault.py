"""The grader's faults, told from the student's: a jailed process killed from outside the grader.

A jailed process (the submission's, or the one for its models) that dies of a signal the grader did not send, and
not of one of its own limits, says nothing about the submission: an operator's ``kill``, the host's out-of-memory
killer, a machine going down. ``JailedProcess.killed_from_outside`` tells; the grader then raises
``InfrastructureFault`` instead of recording failed checks, and whoever asked for the grading says "not graded"
(``grade``: exit code ``EXIT_RUN_AGAIN``; ``grade-all``: retried once, then "not graded" with the reason).
"""

from __future__ import annotations

# sysexits.h's EX_TEMPFAIL: a temporary failure, the same command may succeed when run again.
EXIT_RUN_AGAIN = 75


class InfrastructureFault(RuntimeError):
    """A grading that could not be finished for a reason of the machine's, never the submission's: not a grade."""
