"""Where things live inside Gradescope's autograder root (``/autograder``, or ``$GRADESCOPE_ROOT``).

Gradescope unzips the bundle into ``<root>/source``, puts the upload into ``<root>/submission``
and reads ``<root>/results/results.json``. The bundle keeps the course (course.yml and its
calibration) apart from the kit's source, so that the course root the sandbox protects holds no
code: the kit's source is deleted after setup.sh installs it (it contains the reference solution).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT_ENV = "GRADESCOPE_ROOT"
DEFAULT_ROOT = "/autograder"

# Paths inside the zip (and so inside <root>/source).
KIT_DIR = "kit"
COURSE_DIR = "course"
DATA_FILE = "data/mnist.npz"


@dataclass(frozen=True)
class GradescopeRoot:
    path: Path

    @classmethod
    def from_environment(cls) -> "GradescopeRoot":
        return cls(Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT))

    @property
    def source(self) -> Path:
        return self.path / "source"

    @property
    def submission(self) -> Path:
        return self.path / "submission"

    @property
    def results(self) -> Path:
        return self.path / "results"

    @property
    def results_json(self) -> Path:
        return self.results / "results.json"

    @property
    def report_html(self) -> Path:
        return self.results / "report.html"

    @property
    def metadata(self) -> Path:
        return self.path / "submission_metadata.json"

    @property
    def course_config(self) -> Path:
        return self.source / COURSE_DIR / "course.yml"

    @property
    def mnist(self) -> Path:
        return self.source / DATA_FILE
