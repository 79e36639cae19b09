"""The nbgrader course tooling (instructor wing): source notebook, expected values, student kit, verify, feedback, demo."""
