"""What the instructor reads at the end of ``grade-all``: per group the mean score and how many lost it,
the slowest submissions, and every submission that was not graded, with the reason."""

from __future__ import annotations

from autograder.batch.class_run import ClassRunReport


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


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
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
