"""What the instructor reads at the end of ``grade-all``: per group the mean score and how many lost it,
the slowest submissions, and every submission that was not graded, with the reason."""

from __future__ import annotations

from autograder.batch.class_run import ClassRunReport
from autograder.batch.ledger_schema import impossible_line, impossible_values


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


def refuse_impossible(entries: list[dict], warnings: list[str]) -> list[dict]:
    """``entries`` without the lines whose scores cannot be a grade (above the maximum, negative), each named in
    ``warnings``: the summary, the class report and the gradebook count none of them."""
    kept = []
    for entry in entries:
        problem = impossible_values(entry)
        if problem:
            warnings.append(impossible_line(entry, problem))
        else:
            kept.append(entry)
    return kept


def group_table(entries: list[dict]) -> list[str]:
    """One row per group over the graded ``entries``: mean score out of the group's points, and how many lost any."""
    if not entries:
        return []
    groups = list(entries[0]["groups"])
    width = max(len(g) for g in groups + ["total"])
    lines = [f"  {'group':<{width}}  {'mean score':>13}  {'lost it':>7}"]
    for name in groups:
        scores = [e["groups"][name]["score"] for e in entries if name in e["groups"]]
        points = entries[0]["groups"][name]["max_score"]
        lost = sum(s < points for s in scores)
        lines.append(f"  {name:<{width}}  {sum(scores) / len(scores):>6.2f}/{points:<6.2f}  {lost:>7}")
    total = sum(e["score"] for e in entries) / len(entries)
    lines.append(f"  {'total':<{width}}  {total:>6.2f}/{entries[0]['max_score']:<6.2f}  "
                 f"{sum(e['score'] < e['max_score'] for e in entries):>7}")
    return lines


def summary_text(report: ClassRunReport, class_entries: list[dict], slowest: int = 5) -> str:
    """The end-of-run text; ``class_entries`` are the class's current graded ledger lines (this run's and earlier)."""
    lines = [f"{report.assignment}: {report.total + len(report.refused)} submission(s); graded now {len(report.graded)}, "
             f"already in the ledger {report.skipped}, not graded {len(report.not_graded) + len(report.refused)} "
             f"({_minutes(report.seconds)})"]
    if class_entries:
        lines += ["", f"by group, over the {len(class_entries)} graded submission(s) in the ledger:"]
        lines += group_table(class_entries)
    timed = sorted((e for e in report.graded if e.get("seconds") is not None), key=lambda e: -e["seconds"])[:slowest]
    if timed:
        lines += ["", "slowest submissions this run:"]
        lines += [f"  {e['student']}: {e['seconds']:.1f} s" for e in timed]
    if report.not_graded or report.refused:
        lines += ["", "NOT GRADED (no score recorded; fix and run again):"]
        lines += [f"  {e['student']}: {e['reason']} (after {e['attempts']} attempts)" for e in report.not_graded]
        lines += [f"  {r.student}: {r.reason}" for r in report.refused]
    lines += output_lines(report)
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def _missing_by_reason(missing: dict[str, str]) -> list[str]:
    """The students without their file, one line per reason (a class shares few), each naming them all."""
    by_reason: dict[str, list[str]] = {}
    for student, reason in sorted(missing.items()):
        by_reason.setdefault(reason, []).append(student)
    return [f"  {', '.join(students)}: {reason}" for reason, students in by_reason.items()]


def output_lines(report: ClassRunReport) -> list[str]:
    """What --json-dir and --html-dir hold for the class: how many files of how many submissions, and for each
    student without one, why (those not graded are listed under NOT GRADED)."""
    lines = []
    unfinished = len(report.not_graded) + len(report.refused)
    none_for = f"; the {unfinished} not graded have none (listed above)" if unfinished else ""
    if report.json_dir is not None:
        from_ledger = len(set(report.json_written) & set(report.already_in_ledger))
        lines += ["", f"--json-dir {report.json_dir}: {len(report.json_written)} of {report.total} submission(s) have "
                      f"their <student>.json ({len(report.json_written) - from_ledger} graded now, {from_ledger} from "
                      f"the ledger's full result){none_for}"]
        if report.json_missing:
            lines += [f"  missing {len(report.json_missing)}:"] + _missing_by_reason(report.json_missing)
    if report.html_dir is not None:
        lines += ["", f"--html-dir {report.html_dir}: {len(report.html_written)} of {report.total} submission(s) have "
                      f"their <student>.html (drawn by the workers that graded them now){none_for}"]
        if report.html_missing:
            lines += [f"  missing {len(report.html_missing)}:"] + _missing_by_reason(report.html_missing)
    return lines
