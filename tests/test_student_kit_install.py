"""The student kit installs into the environment a student already has, and into a fresh one.

The kit depends on Keras 3 and on no TensorFlow distribution (``tensorflow``, ``tensorflow-cpu``,
``tensorflow-macos`` ... all install the same ``tensorflow`` package, and pip would add a second one over
the student's); its ``tensorflow`` extra brings one into a fresh environment, as its README says.

The install tests make real virtual environments and download TensorFlow (tensorflow 2.21.0 for Linux
x86-64 is a 572 MB wheel): they run only with AUTOGRADER_INSTALL_TESTS=1 (and are slow). The checks
of what the kit says run always.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version

import nbformat
import pytest

from autograder.checks import visible_checks
from autograder.course.examples import filled_release
from autograder.course.student_kit import write_student_kit
from autograder.notebook import MIN_TENSORFLOW, TENSORFLOW_DISTRIBUTIONS, TESTED_WITH
from conftest import RELEASE

INSTALL_ENV = "AUTOGRADER_INSTALL_TESTS"
install_test = pytest.mark.skipif(not os.environ.get(INSTALL_ENV),
                                  reason=f"makes virtual environments and downloads TensorFlow: set {INSTALL_ENV}=1")
N_VISIBLE = len(visible_checks())
N_TRAINING = sum(c.needs_training for c in visible_checks())


@pytest.fixture(scope="module")
def kit(tmp_path_factory, sample_config):
    out = tmp_path_factory.mktemp("kit") / "starter"
    write_student_kit(sample_config, out)
    return out


def _requirement_names(requirements):
    return {re.match(r"[A-Za-z0-9._-]+", r).group(0).lower() for r in requirements}


def test_kit_depends_on_keras_and_no_tensorflow_build_except_in_its_extra(kit):
    project = tomllib.loads((kit / "pyproject.toml").read_text())["project"]
    names = _requirement_names(project["dependencies"])
    assert "keras" in names and not names & set(TENSORFLOW_DISTRIBUTIONS)
    extra = project["optional-dependencies"]["tensorflow"]
    assert _requirement_names(extra) == {"tensorflow", "tensorflow-cpu"}
    assert all(f">={'.'.join(map(str, MIN_TENSORFLOW))};" in r for r in extra)


def test_kit_readme_gives_both_install_commands_and_the_versions_tested(kit):
    readme = (kit / "README.md").read_text()
    english, korean = readme.split("## 한국어")
    for part in (english, korean):
        assert 'python3 -m venv .venv && .venv/bin/pip install -e ".[tensorflow]"' in part
        assert "`pip install -e .`" in part
        assert all(v in part for v in TESTED_WITH.values())
    assert f"Tested with Python {TESTED_WITH['Python']}, TensorFlow {TESTED_WITH['TensorFlow']}" in english


# ---------------------------------------------------------------- real installs (AUTOGRADER_INSTALL_TESTS=1)

# Distributions that ship the `tensorflow` package, whatever their name, as (name, version) pairs.
_TENSORFLOW_SHIPPERS = """
import importlib.metadata as m, json
found = set()
for d in m.distributions():
    top = (d.read_text("top_level.txt") or "").split()
    if "tensorflow" in top or any(f.parts[:1] == ("tensorflow",) for f in (d.files or ())):
        found.add((d.metadata["Name"].lower().replace("_", "-"), d.version))
print(json.dumps(sorted(found)))
"""


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "COURSE_CONFIG", "AUTOGRADER_", "VIRTUAL_ENV", "PYTHONPATH", "MNIST_PATH"))}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return {**env, **extra}


def _run(args, cwd, timeout=1500, **kwargs):
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_clean_env(), **kwargs)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _this_tensorflow_version():
    for name in TENSORFLOW_DISTRIBUTIONS:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    pytest.skip("no TensorFlow distribution in this environment to match")


def _shippers(python, cwd):
    return [tuple(pair) for pair in json.loads(_run([str(python), "-c", _TENSORFLOW_SHIPPERS], cwd).stdout)]


@pytest.fixture(scope="module")
def done_notebook(tmp_path_factory):
    path = tmp_path_factory.mktemp("done") / "done.ipynb"
    nbformat.write(filled_release(nbformat.read(RELEASE, as_version=4), {}), path)
    return path


@pytest.mark.slow
@install_test
def test_kit_installs_beside_an_existing_tensorflow_and_its_self_check_passes(kit, done_notebook, tmp_path):
    """A student's environment with `tensorflow` (not -cpu) already in it: the kit adds no second build."""
    tf_version = _this_tensorflow_version()
    venv = tmp_path / "existing"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    _run(pip + ["install", "-q", f"tensorflow=={tf_version}"], tmp_path)
    assert _shippers(venv / "bin" / "python", tmp_path) == [("tensorflow", tf_version)]
    _run(pip + ["install", "-q", "-e", "."], kit)  # the README's command for an environment with TensorFlow
    assert _shippers(venv / "bin" / "python", tmp_path) == [("tensorflow", tf_version)]
    _run(pip + ["check"], kit)
    proc = _run([str(venv / "bin" / "python"), "-m", "pytest", "autograder", "--notebook", str(done_notebook),
                 "-p", "no:cacheprovider"], kit)
    assert f"{N_VISIBLE} passed" in proc.stdout.splitlines()[-1]
    assert "TensorFlow distributions are installed here" not in proc.stdout


@pytest.mark.slow
@install_test
def test_a_fresh_environment_gets_one_tensorflow_with_the_readme_command(kit, done_notebook, tmp_path):
    readme = (kit / "README.md").read_text()
    command = next(line.strip() for line in readme.splitlines() if ".[tensorflow]" in line and "venv" in line)
    folder = tmp_path / "fresh"
    shutil.copytree(kit, folder, ignore=shutil.ignore_patterns("*.egg-info", ".venv", "__pycache__"))
    # `python3` is this interpreter's base Python (the README's command, verbatim otherwise).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    env = _clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True, timeout=1500, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    python = folder / ".venv" / "bin" / "python"
    shippers = _shippers(python, folder)
    assert len(shippers) == 1 and shippers[0][0] in TENSORFLOW_DISTRIBUTIONS, shippers
    _run([str(python), "-m", "pip", "check"], folder)
    # The checks that need no training (they build and compile models with this TensorFlow): fast.
    proc = _run([str(python), "-m", "pytest", "autograder", "--notebook", str(done_notebook), "-k", "not accuracy",
                 "-p", "no:cacheprovider"], folder)
    last = proc.stdout.splitlines()[-1]
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|deselected|error)", last)}
    assert counts.get("passed", 0) + counts.get("deselected", 0) == N_VISIBLE and counts["deselected"] >= N_TRAINING
