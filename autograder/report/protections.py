"""The protections in force while a submission ran, said in words: the one renderer of that record.

The text result (``report.text``), the Gradescope-style results (``report.gradescope_style``, ``gradescope.run``)
and the HTML report all say it with ``protections_text``.
"""

from __future__ import annotations

from autograder.messages.i18n import ENGLISH, Translator, _

# The jail's report (``isolation.jail``): which of its protections it could apply, one key each, and what
# the student reads for each, applied or not (the models' process reports the same keys).
_PROTECTIONS = (
    (lambda r: r.get("network") == "off", _("no network"), _("network isolation")),
    (lambda r: bool(r.get("hidden")), _("the course's private files hidden"),
     _("hiding the course's private files")),
    (lambda r: bool(r.get("cgroups")), _("memory and process limits by cgroup"), _("cgroup limits")),
    (lambda r: bool(r.get("capabilities_dropped")), _("no capabilities"), _("dropping capabilities")),
    (lambda r: bool(r.get("pid_namespace")), _("no other process in sight"), _("a process namespace of its own")),
    (lambda r: type(r.get("uid")) is int and r.get("uid") != 0, _("not run as root"), _("an unprivileged user")),
    # None: a result recorded before the jail reported it says nothing of it, rather than call it missing.
    (lambda r: r["user_namespaces"] == "refused" if "user_namespaces" in r else None,
     _("no user namespaces of its own"), _("refusing user namespaces of its own")),
)
_JAIL_KEYS = ("network", "hidden", "cgroups", "capabilities_dropped", "pid_namespace", "uid")


def _applied(report: dict, t: Translator) -> tuple[list[str], list[str]]:
    """The jail's protections that were in force for one process, and those that were not, as text."""
    in_force, missing = [], []
    for applied, present, absent in _PROTECTIONS:
        verdict = applied(report)
        if verdict is not None:
            (in_force if verdict else missing).append(t(present if verdict else absent))
    return in_force, missing


def _reported(report) -> bool:
    return isinstance(report, dict) and any(k in report for k in _JAIL_KEYS)


def protections_text(isolation: dict, t: Translator = ENGLISH) -> str:
    """The protections in force for a submission (``GradeResult.isolation``), in the translator's language.

    ``isolation["submission"]`` is the jail's report for the submission's process, ``isolation["models"]``
    the report for the grader's bounded process that loads and trains the submission's models. The one
    renderer of that record: the text result, results.json and the HTML report all say it with this.
    """
    submission = isolation.get("submission") if isinstance(isolation, dict) else None
    if not _reported(submission):
        return t(_("Protections: the submission's process did not report them."))
    in_force, missing = _applied(submission, t)
    lines = [t(_("Protections in force: {protections}."),
               protections=", ".join([t(_("memory, file-size, time and output limits")), *in_force]))]
    if missing:
        lines.append(t(_("Not available on this machine: {protections}."), protections=", ".join(missing)))
    models = isolation.get("models")
    if _reported(models):
        in_force, missing = _applied(models, t)
        megabytes = models.get("memory_limit_mb")
        memory = (t(_("a memory limit of {megabytes:,} MB"), megabytes=int(megabytes))
                  if isinstance(megabytes, (int, float)) and not isinstance(megabytes, bool) else t(_("memory limit")))
        lines.append(t(_("Your models were loaded and trained in a bounded process of the grader's own: "
                         "{protections}."), protections=", ".join([memory, *in_force])))
        if missing:
            lines.append(t(_("Not available to that process on this machine: {protections}."),
                           protections=", ".join(missing)))
    return "\n".join(lines)
