"""The binary MNIST course kit's autograder: checks, out-of-process grading, nbgrader helpers.

Entry points: ``python -m autograder`` (grade, calibrate, build-source, demo), ``pytest autograder``
(the students' self-check) and ``autograder.notebook.check_group`` (nbgrader's test cells).
"""

__version__ = "0.1.0"
