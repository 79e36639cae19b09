"""The engine of a check, shared by the grader and the students' self-check.

In the order a check runs: the probes (``probes.py``: the calls the checks make, the visible ones), the
runner of a notebook's cells (``notebook_runner.py``), the one body that calls a student function for a
probe (``calling.py``) and the record of what that call did (``calls.py``), the session that applies the
checks to the calls (``check_session.py``, with ``in_process.py`` for calls made in this process), the
grading protocol and its trusted data pipeline (``training.py``), and the result of a grading as data
(``results.py``). Part of the student wing: nothing here imports the instructor wing.
"""
