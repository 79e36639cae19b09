"""The engine of a check, shared by the grader and the students' self-check: it applies the checks.

In the order a check runs: the runner of a notebook's cells (``notebook_runner.py``), the one body that calls
a student function for a probe (``calling.py``), the session that applies the checks to the calls
(``check_session.py``, with ``in_process.py`` for calls made in this process), the grading protocol and its
trusted data pipeline (``training.py``), and the result of a grading as data (``results.py``). What the checks
examine (the probes, the call record, a model's layers, a training's outcome) sits below the checks, in
``autograder.evidence``; this package sits above them. Part of the student wing: nothing here imports the
instructor wing.
"""
