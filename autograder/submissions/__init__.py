"""Which notebooks a class run grades, one per student, and the ones it cannot grade (with the reason).

Two layouts:
  * a course root (it has ``submitted/``): nbgrader's ``submitted/<student>/<assignment>/<assignment>.ipynb``;
  * any other folder: one notebook per student, the student id being the file's stem
    (``ada.ipynb`` → ``ada``); a sub-folder holding notebooks counts as one student named by the folder.

Bad input never stops the run and never reaches the ledger: it is returned as a ``Refused`` with a
sentence the instructor can act on, and the command lists it at the end (and ``export`` names it as a student
without a grade). Refused: a notebook outside the layout (directly in ``submitted/<student>/``), a symlink
that leads out of the folder given, anything not a regular file, a file above
``limits.notebook_size_limit_mb`` (``reading.py``), and two ids equal once Unicode-normalised (NFC) and
case-folded, as a pair.

Instructor wing, below both grade-all (``autograder.batch``) and the similarity report
(``autograder.integrity``), which read a class through it: it imports neither (``tests/test_wings.py``).
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from autograder.submissions.reading import MB, RefusedFile, read_submitted


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


def default_size_limit() -> int:
    """``limits.notebook_size_limit_mb``'s default, in bytes, for a caller without a course.yml at hand."""
    from autograder.support.config import Limits

    return Limits.model_fields["notebook_size_limit_mb"].default * MB


def is_course_root(path: Path) -> bool:
    return (path / "submitted").is_dir()


def find_submissions(path: Path, assignment: str,
                     max_bytes: int | None = None) -> tuple[list[Submission], list[Refused]]:
    """The submissions under ``path`` (course root or folder of notebooks), sorted by student id.

    Each notebook is read (to hash it) only when it leads to a regular file inside ``path`` of at most
    ``max_bytes`` (``limits.notebook_size_limit_mb``; its default when None); any other is refused, unread.
    """
    path = Path(path)
    max_bytes = default_size_limit() if max_bytes is None else max_bytes
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
            refused.append(Refused(student, _same_id_text(found)))
            continue
        student, notebook = found[0]
        if isinstance(notebook, Refused):
            refused.append(notebook)
            continue
        try:
            digest = hashlib.sha256(read_submitted(notebook, path, max_bytes)).hexdigest()
        except RefusedFile as exc:
            refused.append(Refused(student, str(exc)))
            continue
        except OSError as exc:
            refused.append(Refused(student, f"cannot read {notebook}: {exc.strerror or exc}"))
            continue
        submissions.append(Submission(student, notebook, digest))
    return sorted(submissions, key=lambda s: s.student), sorted(refused, key=lambda r: r.student)


def same_student(student: str) -> str:
    """The form two student ids are compared in: Unicode NFC, case folded. ``Ada`` and ``ada`` are one student,
    and so are "zoë" typed as one character (NFC, as macOS keyboards type it) and as ``o`` + a combining diaeresis
    (NFD, as macOS file systems store a folder's name): they look identical on screen."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", student).casefold())


def _by_student(candidates: list[tuple[str, Path | Refused]]) -> dict[str, list[tuple[str, Path | Refused]]]:
    """Candidates grouped by ``same_student``: ``Ada.ipynb`` and ``ada.ipynb`` are one student twice."""
    grouped: dict[str, list] = {}
    for student, notebook in candidates:
        grouped.setdefault(same_student(student), []).append((student, notebook))
    return grouped


def _same_id_text(found: list[tuple[str, Path | Refused]]) -> str:
    where = ", ".join(str(p) if isinstance(p, Path) else f"{s} ({p.reason})" for s, p in found)
    ids = {s for s, _ in found}
    if len(ids) < len(found) or all(unicodedata.is_normalized("NFC", s) for s in ids):
        return f"two submissions with the same student id: {where}; keep one and run again"
    spelled = ", ".join(f"{s!r} ({ascii(s)}, {'NFC' if unicodedata.is_normalized('NFC', s) else 'not NFC'})"
                        for s in sorted(ids))
    return (f"two submissions with the same student id once Unicode composition and case are ignored "
            f"(they look alike but are spelled with different code points: {spelled}): {where}; keep one and "
            f"run again")


def _notebooks_in(folder: Path) -> list[Path]:
    """Every ``*.ipynb`` entry of ``folder`` that is not a folder: files, symlinks (even dangling), FIFOs and
    devices too, so that what cannot be graded is refused with its reason rather than silently absent."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return sorted(Path(e.path) for e in entries
                  if e.name.endswith(".ipynb") and not e.name.startswith(".") and not _is_folder(e))


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows a symlink: a link to a folder is a folder (stat only, nothing opened)
    except OSError:
        return False


def _one_notebook(student: str, folder: Path, name: str) -> Path | Refused:
    """The notebook called ``name`` in ``folder``, else its only notebook, else a refusal saying why."""
    notebooks = _notebooks_in(folder)
    if folder / name in notebooks:
        return folder / name
    if len(notebooks) == 1:
        return notebooks[0]
    listed = ", ".join(p.name for p in notebooks)
    return Refused(student, f"{folder} holds {len(notebooks)} notebooks ({listed}) and none is called {name}; "
                            f"rename the one to grade")


def _nbgrader_layout(root: Path, assignment: str) -> list[tuple[str, Path | Refused]]:
    found, misplaced = [], []
    for entry in sorted((root / "submitted").iterdir()):
        if not entry.is_dir():
            if entry.name.endswith(".ipynb") and not entry.name.startswith("."):
                misplaced.append((entry.stem, _misplaced(entry.stem, [entry], root, assignment)))
            continue
        folder = entry / assignment
        if folder.is_dir() and _notebooks_in(folder):
            found.append((entry.name, _one_notebook(entry.name, folder, f"{assignment}.ipynb")))
        elif folder.is_dir():
            found.append((entry.name, Refused(entry.name, f"{folder} holds no notebook")))
        elif stray := _strays_of_this_assignment(entry, assignment):
            misplaced.append((entry.name, _misplaced(entry.name, stray, root, assignment)))
    # A notebook in the wrong place speaks for its student only when they have none in the right place.
    placed = {same_student(student) for student, _ in found}
    return found + [(student, refusal) for student, refusal in misplaced if same_student(student) not in placed]


def _strays_of_this_assignment(student_dir: Path, assignment: str) -> list[Path]:
    """Notebooks directly in a student's folder that were meant for this assignment: one named after it, or any
    when the folder has no sub-folder at all (everything put flat). A student with other assignments' folders
    and a scratch notebook beside them has not submitted this one: left out, as before."""
    notebooks = _notebooks_in(student_dir)
    if any(p.name == f"{assignment}.ipynb" for p in notebooks):
        return notebooks
    if notebooks and not any(p.is_dir() for p in student_dir.iterdir()):
        return notebooks
    return []


def _misplaced(student: str, notebooks: list[Path], root: Path, assignment: str) -> Refused:
    where = root / "submitted" / student / assignment / f"{assignment}.ipynb"
    names = ", ".join(str(p) for p in notebooks)
    return Refused(student, f"{names} is not in nbgrader's layout (submitted/<student>/{assignment}/), so it "
                            f"was not graded; move it to {where} and run again")


def _folder_of_notebooks(folder: Path, assignment: str) -> list[tuple[str, Path | Refused]]:
    found: list[tuple[str, Path | Refused]] = [(p.stem, p) for p in _notebooks_in(folder)]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if _notebooks_in(sub):
            found.append((sub.name, _one_notebook(sub.name, sub, f"{assignment}.ipynb")))
    return found
