"""Run the real nbgrader 0.9.6 pipeline on a throw-away copy of the course.

Importable helpers (for tests) plus a small CLI. Layout assumed (see
nbgrader_config.py): the course root holds nbgrader_config.py, the instructor
notebooks in solutions/<assignment>/<notebook>.ipynb, the student release in
assignments/<assignment>/, and nbgrader's default submitted/, autograded/ and
feedback/ folders.

Every step shells out to the `nbgrader` CLI from the running interpreter's
environment, with cwd = course root (nbgrader only reads nbgrader_config.py from
the cwd), and raises RuntimeError with the output tail when a step fails.
``python -m autograder demo`` drives these steps on the bundled example submissions.
"""
from __future__ import annotations

import csv
import filecmp
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Mapping

CONFIG = "nbgrader_config.py"
SOURCE_DIR = "solutions"     # c.CourseDirectory.source_directory
RELEASE_DIR = "assignments"  # c.CourseDirectory.release_directory
SCORE_FIELDS = ("raw_score", "late_submission_penalty", "score", "max_score")
_TAIL = 4000


def course_names(course, assignment: str | None = None, notebook: str | None = None) -> tuple[str, str]:
    """(assignment id, notebook name without .ipynb): the ones given, else course.yml's.

    course.yml is the course folder's own when it has one, else $COURSE_CONFIG or the nearest one.
    """
    if assignment is None or notebook is None:
        from autograder.support.config import load_config

        course_yml = Path(course) / "course.yml"
        config = load_config(course_yml if course_yml.is_file() else None)
        assignment = assignment or config.assignment
        notebook = notebook or config.notebook_name.removesuffix(".ipynb")
    return assignment, notebook


def nbgrader_command() -> list[str]:
    """The nbgrader entry point next to sys.executable, else `python -m nbgrader`."""
    script = Path(sys.executable).with_name("nbgrader")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "nbgrader"]


def run_nbgrader(course: os.PathLike | str, *args: str, timeout: float | None = None,
                 env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `nbgrader <args>` in the course root; RuntimeError on a non-zero exit or timeout."""
    cmd = nbgrader_command() + list(args)
    # As an instructor's shell would: ipykernel leaves file descriptors 1 and 2 uncaptured when it
    # sees PYTEST_CURRENT_TEST, so kernels started from a test would hide exactly the C-level
    # stderr (TensorFlow's log) that nbgrader scores 0 everywhere else.
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # Kernels are started from the venv's "python3" kernelspec; make sure a bare
    # "python"/"jupyter" resolves to this environment too.
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env.get("PATH", "")])
    full_env.update(env or {})
    try:
        proc = subprocess.run(cmd, cwd=str(course), env=full_env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(_describe(cmd, course, None, exc.stdout, exc.stderr,
                                     f"timed out after {timeout} s")) from None
    if proc.returncode != 0:
        raise RuntimeError(_describe(cmd, course, proc.returncode, proc.stdout, proc.stderr))
    return proc


def _describe(cmd, course, rc, stdout, stderr, what: str = "") -> str:
    def tail(s):
        if isinstance(s, bytes):
            s = s.decode("utf-8", "replace")
        return (s or "")[-_TAIL:]
    head = what or f"exit status {rc}"
    return (f"nbgrader failed ({head}): {' '.join(cmd)}\n  cwd: {course}\n"
            f"--- stdout (tail) ---\n{tail(stdout)}\n--- stderr (tail) ---\n{tail(stderr)}")


def _require(path: Path, step: str, proc: subprocess.CompletedProcess | None = None) -> Path:
    if not path.exists():
        msg = f"{step}: expected output {path} is missing"
        if proc is not None:
            msg += f"\n--- nbgrader log (tail) ---\n{(proc.stdout + proc.stderr)[-_TAIL:]}"
        raise RuntimeError(msg)
    return path


def make_course(tmpdir: os.PathLike | str, repo_root: os.PathLike | str,
                extra: Iterable[str] = ()) -> Path:
    """Copy <repo_root>/solutions/ and nbgrader_config.py (plus `extra` repo-relative
    paths) into a new course root <tmpdir>/course and return it."""
    repo_root, course = Path(repo_root), Path(tmpdir) / "course"
    course.mkdir(parents=True, exist_ok=False)
    shutil.copy2(_require(repo_root / CONFIG, "make_course"), course / CONFIG)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")
    shutil.copytree(_require(repo_root / SOURCE_DIR, "make_course"), course / SOURCE_DIR, ignore=ignore)
    for rel in extra:
        src = repo_root / rel
        if src.is_dir():
            shutil.copytree(src, course / rel, ignore=ignore)
        else:
            (course / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, course / rel)
    return course


def generate(course, assignment: str | None = None, notebook: str | None = None,
             timeout: float | None = 600, env=None) -> Path:
    """`nbgrader generate_assignment <assignment> --force`; returns the release notebook.
    (--force replaces an existing release; without it nbgrader silently skips, rc 0.
    The gradebook assignment is created automatically: create_assignment defaults to True.)"""
    assignment, notebook = course_names(course, assignment, notebook)
    proc = run_nbgrader(course, "generate_assignment", assignment, "--force", timeout=timeout, env=env)
    return _require(Path(course) / RELEASE_DIR / assignment / f"{notebook}.ipynb", "generate_assignment", proc)


def submit(course, student: str, notebook_path, assignment: str | None = None,
           notebook: str | None = None, timestamp: str | None = None) -> Path:
    """Place a notebook as submitted/<student>/<assignment>/<notebook>.ipynb.
    Students need no gradebook entry (autograde creates them) and timestamp.txt is
    optional; pass e.g. "2026-01-01 12:00:00 UTC" to write one."""
    assignment, notebook = course_names(course, assignment, notebook)
    dest_dir = Path(course) / "submitted" / student / assignment
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{notebook}.ipynb"
    shutil.copyfile(notebook_path, dest)
    if timestamp is not None:
        (dest_dir / "timestamp.txt").write_text(timestamp + "\n", encoding="utf-8")
    return dest


def autograde(course, assignment: str | None = None, notebook: str | None = None,
              student: str | None = None, timeout: float | None = 3600, env=None) -> dict[str, Path]:
    """`nbgrader autograde <assignment> --force [--student S]`; returns {student: autograded notebook}.
    Needs a prior generate() in the same course (the gradebook must know the assignment).
    Kernel cwd during grading is autograded/<student>/<assignment>/."""
    assignment, notebook = course_names(course, assignment, notebook)
    args = ["autograde", assignment, "--force"]
    if student:
        args += ["--student", student]
    proc = run_nbgrader(course, *args, timeout=timeout, env=env)
    from autograder.course.nbgrader_records import submitted_students

    students = [student] if student else submitted_students(course, assignment)
    return {s: _require(Path(course) / "autograded" / s / assignment / f"{notebook}.ipynb",
                        "autograde", proc) for s in students}


def export_grades(course, assignment: str | None = None, timeout: float | None = 600,
                  env=None, all_assignments: bool = False) -> list[dict]:
    """`nbgrader export --to <course>/grades.csv`; returns the CSV rows as dicts with
    the score columns converted to float (other columns stay strings). Only course.yml's
    assignment (or ``assignment``) unless ``all_assignments``."""
    if not all_assignments:
        assignment, _notebook = course_names(course, assignment, "-")
    out = Path(course) / "grades.csv"
    args = ["export", f"--to={out}"]
    if not all_assignments:
        args.append(f"--assignment={assignment}")
    proc = run_nbgrader(course, *args, timeout=timeout, env=env)
    with open(_require(out, "export", proc), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for key in SCORE_FIELDS:
            if row.get(key) not in (None, ""):
                row[key] = float(row[key])
    return rows


def generate_feedback(course, assignment: str | None = None, notebook: str | None = None,
                      timeout: float | None = 600, env=None) -> dict[str, Path]:
    """`nbgrader generate_feedback <assignment> --force`; returns {student: feedback HTML}."""
    assignment, notebook = course_names(course, assignment, notebook)
    proc = run_nbgrader(course, "generate_feedback", assignment, "--force", timeout=timeout, env=env)
    ag = Path(course) / "autograded"
    students = sorted(p.parent.name for p in ag.glob(f"*/{assignment}") if p.is_dir())
    return {s: _require(Path(course) / "feedback" / s / assignment / f"{notebook}.html",
                        "generate_feedback", proc) for s in students}


def html_text(path) -> str:
    """Visible text of an HTML file (tags, <style> and <script> removed, entities
    unescaped): syntax highlighting splits code into <span>s, so grep this, not raw HTML."""
    raw = Path(path).read_text(encoding="utf-8")
    raw = re.sub(r"<(style|script)\b.*?</\1>", "", raw, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def release_diff(repo_root, tmpdir, assignment: str | None = None) -> list[str]:
    """Regenerate the release in a temp course and compare it byte for byte with the
    committed <repo_root>/assignments/<assignment>/. Returns the differing/missing/extra
    relative paths (empty list = committed release is up to date)."""
    assignment, _notebook = course_names(repo_root, assignment, "-")
    course = make_course(tmpdir, repo_root)
    run_nbgrader(course, "generate_assignment", assignment, "--force", timeout=600)
    fresh, committed = course / RELEASE_DIR / assignment, Path(repo_root) / RELEASE_DIR / assignment

    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()
    a, b = files(fresh), files(committed)
    diff = sorted((a ^ b) | {p for p in a & b if not filecmp.cmp(fresh / p, committed / p, shallow=False)})
    return diff

