"""The HTML report of one graded submission (instructor wing): ``html`` renders it, ``plots`` draws its pictures."""

from autograder.report.html import layer_diff, render_report, report_context, write_report

__all__ = ["layer_diff", "render_report", "report_context", "write_report"]
