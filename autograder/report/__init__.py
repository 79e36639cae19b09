"""The HTML report of one graded submission (instructor wing): ``report_data`` attaches what it needs
to the result, ``html`` renders the result, ``plots`` draws its pictures."""

from autograder.report.report_data import attach_report_data
from autograder.report.html import layer_diff, render_report, report_context, write_report

__all__ = ["attach_report_data", "layer_diff", "render_report", "report_context", "write_report"]
