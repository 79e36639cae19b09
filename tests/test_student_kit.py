"""`python -m autograder student-kit OUT`: what students get works alone and carries no answer.

The kit is checked as a student would use it: a fresh interpreter whose only `autograder` is the
kit's, running `pytest autograder` from the kit's folder. PYTHONPATH=OUT alone is not enough: the
repo's editable install adds an import hook that still finds the repo's subpackages
(`autograder.grader` ...) under the kit's `autograder`, so a sitecustomize removes that hook, and
the tests verify which copy is imported and that no instructor subpackage can be found.
"""

import inspect
import os
import re
import subprocess
import sys

import nbformat
import pytest

from autograder.checks import visible_checks
from autograder.course.examples import filled_release
from autograder.course.student_kit import STUDENT_KEYS, instructor_subpackages, write_student_kit
from autograder.grader import reference
from autograder.hidden import every_probe as hidden_probes
from repo_paths import RELEASE, ROOT

pytestmark = pytest.mark.slow  # two self-check runs, one of them training three models (about 2 minutes)

N_VISIBLE = len(visible_checks())


@pytest.fixture(scope="module")
def kit(tmp_path_factory, sample_config):
    base = tmp_path_factory.mktemp("kit")
    (base / "site").mkdir()
    (base / "site" / "sitecustomize.py").write_text(_NO_EDITABLE_HOOK)
    write_student_kit(sample_config, base / "starter")
    return base / "starter"


_NO_EDITABLE_HOOK = (
    "import sys\n"
    "# The repo's editable install maps `autograder.*` to the repo; a student's machine has no such hook.\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in getattr(f, '__module__', '')\n"
    "                    and '__editable__' not in getattr(type(f), '__module__', '')]\n")


def in_kit(kit, *args, timeout=900):
    """Run Python in the kit's folder with only the kit's `autograder` importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSE_CONFIG", "AUTOGRADER_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(kit), str(kit.parent / "site")])
    return subprocess.run([sys.executable, *args], cwd=kit, capture_output=True, text=True, timeout=timeout, env=env)


def test_kit_imports_its_own_autograder_and_no_instructor_wing(kit):
    proc = in_kit(kit, "-c", "import sys, autograder, importlib.util as u; print(autograder.__file__); "
                             "print([m for m in ('autograder.grader', 'autograder.hidden', 'autograder.isolation', "
                             "'autograder.course', 'autograder.report', 'autograder.dev') if u.find_spec(m)])")
    assert proc.returncode == 0, proc.stderr[-2000:]
    where, importable = proc.stdout.splitlines()[-2:]
    assert where == str(kit / "autograder" / "__init__.py")
    assert importable == "[]"
    # Without the sitecustomize, the repo's editable hook would find the repo's instructor wing: the guard is needed.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSE_CONFIG"))}
    leaky = subprocess.run([sys.executable, "-c", "import importlib.util as u; print(bool(u.find_spec('autograder.grader')))"],
                           cwd=kit, env=dict(env, PYTHONPATH=str(kit)), capture_output=True, text=True, timeout=300)
    assert leaky.stdout.strip() in ("True", "False")


def test_kit_self_check_fails_every_visible_check_on_the_release(kit):
    proc = in_kit(kit, "-m", "pytest", "autograder", "-p", "no:cacheprovider")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"{N_VISIBLE} failed" in proc.stdout.splitlines()[-1]
    assert "relabel_odd_even is still the stub: replace `raise NotImplementedError()` with your code." in proc.stdout
    assert "Traceback" not in proc.stdout


# Trains three models in the kit's own interpreter (about 2 minutes): the same self-check trains them in
# test_self_check_plugin.py, and the installed kit runs it in test_student_kit_install.py (Colab).
@pytest.mark.extended
def test_kit_self_check_passes_every_check_on_a_completed_notebook(kit, tmp_path):
    notebook = tmp_path / "done.ipynb"
    nbformat.write(filled_release(nbformat.read(RELEASE, as_version=4), {}), notebook)
    proc = in_kit(kit, "-m", "pytest", "autograder", "--notebook", str(notebook), "-p", "no:cacheprovider")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"{N_VISIBLE} passed" in proc.stdout.splitlines()[-1]


def test_kit_course_yml_has_only_the_keys_a_student_run_reads(kit):
    import yaml

    raw = yaml.safe_load((kit / "course.yml").read_text())
    assert set(raw) == set(STUDENT_KEYS) | {"limits"} and set(raw["limits"]) == {"training_timeout_s", "cell_timeout_s"}
    assert "hidden_paths" not in (kit / "course.yml").read_text()


# ---------------------------------------------------------------- nothing of the answers in the kit


def _solution_lines() -> set[str]:
    """Every line the reference writes between its solution markers (punctuation-only lines aside)."""
    lines = set()
    for func in reference.STUDENT_FUNCTIONS:
        source = inspect.getsource(func)
        body = source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
        lines.update(line.strip() for line in body.splitlines() if re.search(r"\w", line))
    return lines


def _hidden_markers() -> set[str]:
    """Hidden probes' names, their input makers' names and those makers' own lines."""
    markers = set()
    for probe in hidden_probes.HIDDEN_PROBES:
        markers.update({probe.name, probe.make_inputs.__name__})
        body = inspect.getsource(probe.make_inputs).splitlines()[1:]
        markers.update(line.strip() for line in body if len(line.strip()) > 12)
    return markers


def _kit_lines(kit):
    for path in sorted(p for p in kit.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":  # the notebook's code, cell by cell, line by line
            text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        yield path, [line.strip() for line in text.splitlines()]


def test_the_scan_finds_a_planted_answer(tmp_path):
    # The scan below must be able to fail: a kit holding one solution line and a hidden probe name is caught.
    (tmp_path / "leak.py").write_text("    return np.asarray(y) % 2\n# relabel_all_labels\n")
    lines = [line for _, ls in _kit_lines(tmp_path) for line in ls]
    assert _solution_lines() & set(lines) and any(m in line for m in _hidden_markers() for line in lines)


def test_kit_holds_no_solution_line_no_hidden_probe_and_nothing_from_private_folders(kit):
    solution, hidden = _solution_lines(), _hidden_markers()
    assert len(solution) >= 10 and len(hidden) >= 12
    private = {p.read_bytes() for folder in ("solutions", "calibration", "tests")
               for p in (ROOT / folder).rglob("*") if p.is_file() and p.stat().st_size > 64}
    leaks = []
    for path, lines in _kit_lines(kit):
        where = path.relative_to(kit)
        leaks += [f"{where}: solution line {line!r}" for line in lines if line in solution]
        leaks += [f"{where}: hidden {m!r}" for line in lines for m in hidden if m in line]
        if path.read_bytes() in private:
            leaks.append(f"{where}: a copy of a file in solutions/, calibration/ or tests/")
        if set(where.parts) & {"solutions", "calibration", "tests", *instructor_subpackages()}:
            leaks.append(f"{where}: an instructor folder")
    assert not leaks, leaks
