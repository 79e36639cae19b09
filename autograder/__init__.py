"""The binary MNIST course kit's autograder, in two wings.

The student wing is this top-level package: what the release notebook imports
(``autograder.notebook``) and the ``pytest autograder`` self-check at the top, then one subpackage per
job: the checks (``checks``), the expected values kept as data (``expected``), the engine that runs a
check (``engine``), what students read (``messages``) and the infrastructure (``support``). It never
imports the instructor wing, the other subpackages (``grader``, ``hidden``, ``isolation``, ``course``,
``report``, ``dev``, ``batch``, ``submissions``, ``integrity``, ``gradescope``), which grade out of
process, drive nbgrader and hold the reference solution and the hidden probes.
``autograder.course.student_kit`` lists the student wing's files (what the kit copies);
``python -m autograder`` is the instructor's command line.
"""

__version__ = "0.1.0"
