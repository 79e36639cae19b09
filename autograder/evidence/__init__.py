"""What the checks examine: the types the rules consume, below ``autograder.checks``.

The probes (``probes.py``: the calls the checks make, the visible ones among them), the record of what one
call did (``call_record.py``), a model's layers as rows (``layer_rows.py``) and what a training under the
grading protocol gave (``training_outcome.py``). Plain types and their conversions: nothing here applies a
check or calls a student's function; the session that does (``autograder.engine``) sits above the checks.
Part of the student wing: nothing here imports the instructor wing.
"""
