"""Which files make up the student wing: what students get, and what never imports the instructor's.

The student wing is the top-level ``autograder`` package without its instructor subpackages: the
modules directly in ``autograder/`` (the command line ``__main__.py`` aside: it is the
instructor's), the check functions (``checks/``), the expected values (``expected/``) and the
message catalogs (``locale/``). Everything else under ``autograder/`` is the instructor wing.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
STUDENT_SUBPACKAGES = ("checks", "expected", "locale")
# The command line lives at the top so that `python -m autograder` works, but only instructors use it.
INSTRUCTOR_TOP_LEVEL = ("__main__.py",)


def instructor_subpackages(package: Path = PACKAGE) -> list[str]:
    """Every subpackage but the student ones (grader, isolation, course, report, dev, batch, ...)."""
    return sorted(p.parent.name for p in package.glob("*/__init__.py") if p.parent.name not in STUDENT_SUBPACKAGES)


def student_wing_files(package: Path = PACKAGE) -> list[Path]:
    """Every file of the student wing (sources, expected values, catalogs), sorted."""
    files = [p for p in package.glob("*.py") if p.name not in INSTRUCTOR_TOP_LEVEL]
    for sub in STUDENT_SUBPACKAGES:
        files += [p for p in (package / sub).rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix in (".py", ".json", ".po")]
    return sorted(files)
