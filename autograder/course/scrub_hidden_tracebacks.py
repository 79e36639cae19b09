"""nbgrader preprocessor: drop traceback lines that quote hidden-test code from feedback."""

import re

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor


class ScrubHiddenTestTracebacks(NbGraderPreprocessor):
    """Drop traceback lines that quote hidden-test code.

    IPython tracebacks quote the failing line plus neighbouring lines of the cell,
    so a failing test cell leaks its ### BEGIN/END HIDDEN TESTS region into the
    feedback even after ClearHiddenTests has cleaned the cell source. Must run
    before ClearHiddenTests (it reads the hidden region from the cell source).
    The delimiters are ClearHiddenTests' own, as configured (c.ClearHiddenTests.begin_test_delimeter
    and end_test_delimeter): a course that renames them is scrubbed by the same markers.
    """

    _ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
    _numbered = re.compile(r"^\s*(?:-*>)?\s*\d+\s?(.*)$")  # "----> 3 code" / "      2 code"

    def _delimiters(self) -> tuple[str, str]:
        # A ClearHiddenTests built from this preprocessor's config reads its traits exactly as nbgrader does.
        clearer = ClearHiddenTests(config=self.config)
        return clearer.begin_test_delimeter, clearer.end_test_delimeter

    def preprocess_cell(self, cell, resources, index):
        begin, end = self._delimiters()
        if cell.cell_type != "code" or begin not in cell.source:
            return cell, resources
        hidden, inside = set(), False
        for line in cell.source.splitlines():
            if begin in line:
                inside = True
            if inside and line.strip():
                hidden.add(line.strip())
            if end in line:
                inside = False

        def leaks(line):
            text = self._ansi.sub("", line).strip()
            m = self._numbered.match(text)
            code = (m.group(1) if m else text).strip()
            return code in hidden or any(len(h) >= 4 and text.endswith(h) for h in hidden)

        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [
                    "\n".join(l for l in entry.split("\n") if not leaks(l))
                    for entry in out.get("traceback", [])
                ]
        return cell, resources
