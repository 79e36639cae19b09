"""Grade a whole class at once (``python -m autograder grade-all``) and hand the scores on (``export``).

The coordinator (this process) finds the submissions (``autograder.submissions``), skips what the
ledger already holds under the same grading key, sends the rest to worker processes (a local pool, or a
Dask cluster), and appends each finished submission to the ledger at once. It never imports TensorFlow:
the workers do the grading, each with one ``Grader`` built once and reused for every submission it grades.

One unit per file:
  grading_key.py   what identifies a grading (config, calibration, checks, grading code)
  ledger.py        grades/<assignment>.jsonl: append-only, fsynced, read back tolerating torn lines
  ledger_schema.py what a ledger line must hold (pydantic), and which scores cannot be a grade
  course_lock.py   grades/<assignment>.lock: one run writing the ledger at a time
  worker_task.py   what runs in a worker: build the Grader once, grade one submission
  worker_count.py  how many local workers fit this machine
  local_pool.py    the default executor: one single-worker process pool per slot
  dask_pool.py     the Dask executor (--dask-local N, --scheduler ADDRESS)
  class_run.py     the coordinator: dispatch, retry once, record, report
  summary.py       the end-of-run tables, and what --json-dir/--html-dir hold
  regrade_diff.py  what a regrade under a new grading key changed: grades/<assignment>-regrade-diff.csv
  exports.py       csv, Canvas and Moodle files from the ledger
  gradebook_writer.py the ledger's grades into nbgrader's gradebook (--write-gradebook)
  cli.py           the two sub-commands' arguments

``verify`` (autograder/course/verify.py) compares this ledger with nbgrader's gradebook, grading what the
ledger lacks through ``grade_class`` too.
"""
