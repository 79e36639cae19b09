"""Write the student kit: what students get, ready to push as a GitHub Classroom starter repository.

``python -m autograder student-kit OUT`` writes the release notebook, the student wing as an
installable package (its own pyproject.toml), a course.yml with only the keys a student's run reads,
and a short README in English and Korean. Nothing of the instructor wing goes in: no reference
solution, no hidden probe, no calibration file, no test of the kit (tests/test_student_kit.py
scans every file it writes).

Which files make up the student wing is defined here, where they are copied: the top-level
``autograder`` package without its instructor subpackages, that is the entry points directly in
``autograder/`` (the command line ``__main__.py`` aside: it is the instructor's) and the student
subpackages, by job: the check functions (``checks/``), what they examine (``evidence/``), the expected
values (``expected/``), the engine that applies them (``engine/``), what students read (``messages/``, with
the message catalogs in ``locale/``) and the infrastructure (``support/``). Everything else under
``autograder/`` is the instructor wing.
``tests/test_wings.py`` checks that no file of the student wing imports the instructor wing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import yaml

from autograder.support.config import CourseConfig

# ---------------------------------------------------------------- the student wing's files

PACKAGE = Path(__file__).resolve().parent.parent
STUDENT_SUBPACKAGES = ("checks", "evidence", "expected", "engine", "messages", "support", "locale")
# The command line lives at the top so that `python -m autograder` works, but only instructors use it.
INSTRUCTOR_TOP_LEVEL = ("__main__.py",)


def instructor_subpackages(package: Path = PACKAGE) -> list[str]:
    """Every subpackage but the student ones (grader, isolation, course, report, dev, batch, ...)."""
    return sorted(p.parent.name for p in package.glob("*/__init__.py") if p.parent.name not in STUDENT_SUBPACKAGES)


def student_packages(package: Path = PACKAGE) -> list[str]:
    """The importable packages of the student wing, as the kit's pyproject.toml lists them."""
    return ["autograder", *(f"autograder.{sub}" for sub in STUDENT_SUBPACKAGES if (package / sub / "__init__.py").is_file())]


def student_wing_files(package: Path = PACKAGE) -> list[Path]:
    """Every file of the student wing (sources, expected values, catalogs), sorted."""
    files = [p for p in package.glob("*.py") if p.name not in INSTRUCTOR_TOP_LEVEL]
    for sub in STUDENT_SUBPACKAGES:
        files += [p for p in (package / sub).rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix in (".py", ".json", ".po")]
    return sorted(files)


# ---------------------------------------------------------------- the kit

# What a student's run reads of course.yml (the notebook's data and training cells, the visible checks).
STUDENT_KEYS = ("assignment", "language", "data", "training", "grading")
STUDENT_LIMITS = ("training_timeout_s", "cell_timeout_s")

_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{assignment}-student-kit"
version = "{version}"
description = "Self-check for the {assignment} assignment: `pytest autograder` runs the visible checks on your notebook"
requires-python = ">=3.10"
# No TensorFlow here: tensorflow, tensorflow-cpu, tensorflow-macos and the GPU builds are different
# distributions of the same `tensorflow` package, and pip cannot depend on "any of them". Depending on one
# would install it on top of the one a student has (Colab's, a GPU build). A fresh environment takes the
# `tensorflow` extra: pip install -e ".[tensorflow]". Without TensorFlow, the notebook says what to install.
dependencies = [
    "keras>=3.3",
    "numpy>=1.26",
    "matplotlib>=3.8",
    "nbformat>=5.9",
    # The self-check runs the notebook's cells through IPython, as Jupyter and the grader do.
    "ipython>=8.20",
    "pydantic>=2.6",
    "pyyaml>=6.0",
    "mlxtend>=0.23",
    "babel>=2.14",
    "pytest>=8.0",
    "jupyterlab>=4.0",
]

[project.optional-dependencies]
# For a fresh environment: TensorFlow's CPU build on x86-64 Linux and Windows (a smaller download), the
# standard build elsewhere (macOS, ARM).
tensorflow = [
    "tensorflow-cpu>={min_tensorflow}; (platform_machine == 'x86_64' or platform_machine == 'AMD64') and sys_platform != 'darwin'",
    "tensorflow>={min_tensorflow}; (platform_machine != 'x86_64' and platform_machine != 'AMD64') or sys_platform == 'darwin'",
]

[project.entry-points.pytest11]
# `pytest --pyargs autograder --notebook NB` from any folder (Colab's /content): the option is known early.
autograder-notebook-option = "autograder.pytest_options"

[tool.setuptools]
packages = {packages}

[tool.setuptools.package-data]
# course.yml inside the package: where the settings come from when no course.yml is at or above the
# working folder, as in Colab's /content after the notebook's install cell.
"autograder" = ["locale/*/LC_MESSAGES/*.po", "course.yml"]
"autograder.expected" = ["*.json"]
"""

_README = """# {assignment}: odd or even?

## English

1. Install (Python 3.10 or newer). In a new environment, with TensorFlow:

   ```bash
   python3 -m venv .venv && .venv/bin/pip install -e ".[tensorflow]"
   ```

   In an environment that already has TensorFlow (Colab, conda, a GPU build, `tensorflow-macos`), install the
   kit without it, so that your TensorFlow stays the only one: `pip install -e .` there. The kit itself
   depends on Keras 3, never on a TensorFlow build: `tensorflow`, `tensorflow-cpu` and `tensorflow-macos` are
   different packages of the same TensorFlow, and pip would install a second one over yours.

   Tested with Python {python}, TensorFlow {tensorflow} and Keras {keras}. Other Pythons from 3.10, Keras 3 and
   TensorFlow {min_tensorflow} or newer should work. With Keras 2, an older TensorFlow, no TensorFlow or
   another Keras backend, the notebook's imports cell stops and says what to install.

{colab_en}2. Open the notebook and fill in every cell marked `# YOUR CODE HERE`:

   ```bash
   .venv/bin/jupyter lab {notebook}
   ```

3. Check your work at any time (one test per visible check, with the grader's message):

   ```bash
   .venv/bin/python -m pytest autograder
   .venv/bin/python -m pytest autograder --notebook my_copy.ipynb   # another copy of the notebook
   ```

The hidden checks (other inputs) run only when your notebook is graded. Set `language: ko` in
`course.yml` for the messages in Korean.

## 한국어

1. 설치하기 (Python 3.10 이상). 새 환경에는 TensorFlow와 함께 설치합니다:

   ```bash
   python3 -m venv .venv && .venv/bin/pip install -e ".[tensorflow]"
   ```

   TensorFlow가 이미 있는 환경(Colab, conda, GPU 빌드, `tensorflow-macos`)에서는 TensorFlow 없이 키트만
   설치해서 원래의 TensorFlow 하나만 남게 하세요: 그 환경에서 `pip install -e .`. 키트는 Keras 3에만 의존하고
   어떤 TensorFlow 빌드에도 의존하지 않습니다. `tensorflow`, `tensorflow-cpu`, `tensorflow-macos`는 같은
   TensorFlow의 서로 다른 패키지라서, pip가 이미 있는 것 위에 하나를 더 설치하게 되기 때문입니다.

   Python {python}, TensorFlow {tensorflow}, Keras {keras}에서 테스트했습니다. 3.10 이후의 다른 Python,
   Keras 3, TensorFlow {min_tensorflow} 이상이면 동작할 것입니다. Keras 2, 더 오래된 TensorFlow, TensorFlow가
   없는 환경, 다른 Keras 백엔드에서는 노트북의 import 셀이 멈추고 무엇을 설치해야 하는지 알려 줍니다.

{colab_ko}2. 노트북을 열고 `# YOUR CODE HERE`라고 적힌 셀을 모두 채우세요:

   ```bash
   .venv/bin/jupyter lab {notebook}
   ```

3. 언제든 자가 점검하세요 (공개 검사마다 테스트 하나, 채점기의 메시지 그대로):

   ```bash
   .venv/bin/python -m pytest autograder
   .venv/bin/python -m pytest autograder --notebook my_copy.ipynb   # 노트북의 다른 사본
   ```

숨겨진 검사(다른 입력)는 채점할 때만 실행됩니다. 메시지를 영어로 보려면 `course.yml`에서
`language: en`으로 바꾸세요.
"""


_COLAB_README_EN = """   **In Colab**, run the notebook's first cell: it installs this kit into the runtime, beside Colab's own
   TensorFlow, and does nothing anywhere else. The check cells then work as they do here. For the whole
   self-check there, put the notebook in `/content` (or mount your Drive) and run
   `!python -m pytest --pyargs autograder --notebook /content/{notebook_name}` in a cell.

"""

_COLAB_README_KO = """   **Colab에서는** 노트북의 첫 셀을 실행하세요. 이 키트를 런타임에 설치하며(Colab의 TensorFlow는 그대로
   둡니다), 다른 곳에서는 아무 일도 하지 않습니다. 그다음 검사 셀은 여기서와 똑같이 동작합니다. 전체 자가
   점검은 노트북을 `/content`에 두고(또는 Drive를 마운트하고) 셀에서
   `!python -m pytest --pyargs autograder --notebook /content/{notebook_name}`을 실행하세요.

"""


def student_course_yml(config: CourseConfig) -> str:
    """course.yml with only the keys a student's run reads, as the course sets them."""
    values = config.model_dump(mode="json")
    kept = {key: values[key] for key in STUDENT_KEYS}
    kept["limits"] = {key: values["limits"][key] for key in STUDENT_LIMITS}
    return ("# What your self-check reads. The grader keeps its own copy: changing this file changes only your run.\n"
            + yaml.safe_dump(kept, sort_keys=False, allow_unicode=True))


COLAB_CELL_ID = "colab-install"

_COLAB_CELL = """# Colab only: installs this course's self-check into the runtime; elsewhere this cell does nothing.
# Colab에서만: 이 과목의 자가 점검을 런타임에 설치합니다. 다른 곳에서는 아무 일도 하지 않습니다.
import importlib.util
try:
    import google.colab  # noqa: F401 (there only in Colab)
    in_colab = True
except ImportError:
    in_colab = False
if in_colab and importlib.util.find_spec("autograder") is None:
    %pip install --quiet {spec}"""


def colab_install_cell(spec: str) -> nbformat.NotebookNode:
    """The notebook's first code cell in the kit: Colab pip-installs the kit from ``spec`` (course.yml's
    student_kit.colab_install). It is a cell of the student's notebook, not of nbgrader's: the grader and
    nbgrader run it like any cell a student added, and outside Colab it does nothing."""
    if any(c in spec for c in "\n\r\"'`$;|&"):
        raise ValueError(f"student_kit.colab_install {spec!r}: give one pip requirement or URL, without quotes, "
                         "shell characters or line breaks")
    cell = nbformat.v4.new_code_cell(_COLAB_CELL.format(spec=spec))
    cell.id = COLAB_CELL_ID
    return cell


def kit_notebook(release: Path, colab_install: str | None) -> str:
    """The release notebook as the kit hands it out: with the Colab install cell first when the course sets one."""
    nb = nbformat.read(release, as_version=4)
    if colab_install:
        first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
        nb.cells.insert(first_code, colab_install_cell(colab_install))
    return nbformat.writes(nb)


def _colab_readme(config: CourseConfig) -> dict[str, str]:
    if not config.student_kit.colab_install:
        return {"colab_en": "", "colab_ko": ""}
    return {"colab_en": _COLAB_README_EN.format(notebook_name=config.notebook_name),
            "colab_ko": _COLAB_README_KO.format(notebook_name=config.notebook_name)}


def write_student_kit(config: CourseConfig, out: Path | str, release: Path | None = None) -> list[Path]:
    """Write the kit into ``out`` (created; refused when it holds anything already). Returns the files written."""
    from autograder import __version__

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: choose a new folder for the student kit")
    release = release or config.root / "assignments" / config.assignment / config.notebook_name
    if not release.is_file():
        raise FileNotFoundError(f"{release} is missing: run `nbgrader generate_assignment {config.assignment}` first")
    notebook = Path("assignments") / config.assignment / config.notebook_name
    written = []

    def write(relative: Path | str, text: str | None = None, source: Path | None = None) -> None:
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is not None:
            shutil.copyfile(source, target)
        else:
            target.write_text(text, encoding="utf-8")
        written.append(target)

    write(notebook, kit_notebook(release, config.student_kit.colab_install))
    for path in student_wing_files():
        write(Path("autograder") / path.relative_to(PACKAGE), source=path)
    from autograder.notebook import MIN_TENSORFLOW, TESTED_WITH

    min_tensorflow = ".".join(map(str, MIN_TENSORFLOW))
    write("pyproject.toml", _PYPROJECT.format(assignment=config.assignment.replace("_", "-"), version=__version__,
                                              min_tensorflow=min_tensorflow, packages=json.dumps(student_packages())))
    write("course.yml", student_course_yml(config))
    write(Path("autograder") / "course.yml", student_course_yml(config))
    write("README.md", _README.format(assignment=config.assignment, notebook=notebook.as_posix(),
                                      python=TESTED_WITH["Python"], tensorflow=TESTED_WITH["TensorFlow"],
                                      keras=TESTED_WITH["Keras"], min_tensorflow=min_tensorflow,
                                      **_colab_readme(config)))
    write(".gitignore", ".venv/\n__pycache__/\n*.egg-info/\n.pytest_cache/\n.ipynb_checkpoints/\n")
    return written
