"""nbgrader 0.9.6 configuration for the binary_mnist course kit.

The course root is the folder holding this file, so `nbgrader ...` run from the
repo root works, and so does a temporary course dir holding a copy of this file
next to a copy of solutions/ (see autograder/course/nbgrader_course.py, which the
demo and tests/test_nbgrader_roundtrip.py use to build one).
nbgrader only reads nbgrader_config.py from the current working directory (and
the Jupyter config dirs), so always run nbgrader from the course root.
"""
import os
import sys

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import ClearHiddenTests, Execute, GetGrades

from autograder.course.sandboxed_kernel import SandboxedExecute
from autograder.course.scrub_hidden_tracebacks import ScrubHiddenTestTracebacks

c = get_config()  # noqa: F821 -- injected by traitlets when nbgrader loads this file

_ROOT = os.path.dirname(os.path.abspath(__file__))

# A new gradebook runs `alembic heads` through PATH (nbgrader/api.py); put this
# interpreter's bin/ first so a non-activated `.venv/bin/nbgrader` finds the
# venv's alembic instead of failing and leaving a half-initialised gradebook.db.
_BIN = os.path.dirname(sys.executable)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _BIN:
    os.environ["PATH"] = os.pathsep.join([_BIN, os.environ.get("PATH", "")])


# --- course directory -------------------------------------------------------
# Gradebook course id; any stable string.
c.CourseDirectory.course_id = "binary_mnist_course"
# Resolve every folder below from this file's location, not the caller's cwd.
c.CourseDirectory.root = _ROOT
# Instructor notebooks (solutions + hidden tests) live in solutions/, not source/.
c.CourseDirectory.source_directory = "solutions"
# Student notebooks are written to assignments/, not release/.
c.CourseDirectory.release_directory = "assignments"
# submitted/, autograded/ and feedback/ keep nbgrader's default names (gitignored).
# Gradebook in the course root (gitignored), whatever the cwd.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_ROOT, "gradebook.db")

# --- generate_assignment ----------------------------------------------------
# Stub written in place of each BEGIN/END SOLUTION region of the release.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# --- autograde --------------------------------------------------------------
# Per-cell execution limit in seconds; nbgrader's default (30) is too short for
# model training. (Execute subclasses ExecutePreprocessor; this name wins.)
c.Execute.timeout = 600
# Always grade with the "python3" kernelspec (this venv's ipykernel), whatever
# kernelspec name the editor saved into the notebook (e.g. VS Code's ".venv").
c.Execute.kernel_name = "python3"
# Once the last cell has run, its outputs are in: kill the kernel rather than ask it to exit. An orderly exit
# of a kernel holding TensorFlow takes about 1.6 s a notebook (interpreter teardown); nothing is lost.
c.Execute.shutdown_kernel = "immediate"
# Each student's kernel runs in the kit's sandbox (autograder/course/sandboxed_kernel.py): its own PID namespace,
# no network, a read-only root without the course folder, never the instructor's uid. nbgrader's own process
# stays outside and writes the gradebook. nbgrader's pipeline otherwise as it ships.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]

# --- generate_feedback ------------------------------------------------------
# Feedback is rendered from autograded notebooks, which hold the hidden tests;
# nbgrader's default list is [GetGrades, CSSHTMLHeaderPreprocessor] and shows
# them. Scrub tracebacks first, then strip the hidden regions from the source.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ScrubHiddenTestTracebacks,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
