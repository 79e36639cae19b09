"""Which notebooks a class run grades, one per student, and the ones it cannot grade (with the reason).

Two layouts:
  * a course root (it has ``submitted/``): nbgrader's ``submitted/<student>/<assignment>/<assignment>.ipynb``;
  * any other folder: one notebook per student, the student id being the file's stem
    (``ada.ipynb`` → ``ada``); a sub-folder holding notebooks counts as one student named by the folder.

Bad input never stops the run and never reaches the ledger: it is returned as a ``Refused`` with a
sentence the instructor can act on, and the command lists it at the end.

Instructor wing, below both grade-all (``autograder.batch``) and the similarity report
(``autograder.integrity``), which read a class through it: it imports neither (``tests/test_wings.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class Refused:
    student: str
    reason: str


class NothingToGrade(ValueError):
    """The folder holds no submission at all: nothing to start a run for."""


def is_course_root(path: Path) -> bool:
    return (path / "submitted").is_dir()


def find_submissions(path: Path, assignment: str) -> tuple[list[Submission], list[Refused]]:
    """The submissions under ``path`` (course root or folder of notebooks), sorted by student id."""
    path = Path(path)
    if not path.is_dir():
        raise NothingToGrade(f"{path} is not a folder; give the course root or a folder of notebooks")
    candidates = _nbgrader_layout(path, assignment) if is_course_root(path) else _folder_of_notebooks(path, assignment)
    if not candidates:
        where = (f"{path}/submitted/*/{assignment}/" if is_course_root(path)
                 else f"{path}/*.ipynb (nor a submitted/ folder in nbgrader's layout)")
        raise NothingToGrade(f"no notebooks found under {where}")
    submissions, refused = [], []
    for student, found in _by_student(candidates).items():
        if len(found) > 1:
            refused.append(Refused(student, "two submissions with the same student id: "
                                   + ", ".join(str(p) for _, p in found) + "; keep one and run again"))
            continue
        student, notebook = found[0]
        if isinstance(notebook, Refused):
            refused.append(notebook)
            continue
        try:
            digest = hashlib.sha256(notebook.read_bytes()).hexdigest()
        except OSError as exc:
            refused.append(Refused(student, f"cannot read {notebook}: {exc.strerror or exc}"))
            continue
        submissions.append(Submission(student, notebook, digest))
    return sorted(submissions, key=lambda s: s.student), sorted(refused, key=lambda r: r.student)


def _by_student(candidates: list[tuple[str, Path | Refused]]) -> dict[str, list[tuple[str, Path | Refused]]]:
    """Candidates grouped by student id, ignoring case: ``Ada.ipynb`` and ``ada.ipynb`` are one student twice."""
    grouped: dict[str, list] = {}
    for student, notebook in candidates:
        grouped.setdefault(student.casefold(), []).append((student, notebook))
    return grouped


def _notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if (p.is_file() or p.is_symlink()) and not p.name.startswith("."))


def _one_notebook(student: str, folder: Path, name: str) -> Path | Refused:
    """The notebook called ``name`` in ``folder``, else its only notebook, else a refusal saying why."""
    if (folder / name).is_file():
        return folder / name
    notebooks = _notebooks_in(folder)
    if len(notebooks) == 1:
        return notebooks[0]
    listed = ", ".join(p.name for p in notebooks)
    return Refused(student, f"{folder} holds {len(notebooks)} notebooks ({listed}) and none is called {name}; "
                            f"rename the one to grade")


def _nbgrader_layout(root: Path, assignment: str) -> list[tuple[str, Path | Refused]]:
    found = []
    for student_dir in sorted(p for p in (root / "submitted").iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if folder.is_dir() and _notebooks_in(folder):
            found.append((student_dir.name, _one_notebook(student_dir.name, folder, f"{assignment}.ipynb")))
        elif folder.is_dir():
            found.append((student_dir.name, Refused(student_dir.name, f"{folder} holds no notebook")))
    return found


def _folder_of_notebooks(folder: Path, assignment: str) -> list[tuple[str, Path | Refused]]:
    found: list[tuple[str, Path | Refused]] = [(p.stem, p) for p in _notebooks_in(folder)]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if _notebooks_in(sub):
            found.append((sub.name, _one_notebook(sub.name, sub, f"{assignment}.ipynb")))
    return found
