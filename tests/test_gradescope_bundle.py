"""The Gradescope bundle: what the zip holds, its scripts, and the MNIST checksum setup.sh checks."""

from __future__ import annotations

import hashlib
import inspect
import re
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from autograder.support.config import CourseConfigError, load_config
from autograder.gradescope.bundle import KERAS_MNIST_SHA256, MNIST_URL
from autograder.gradescope.results_json import from_graded, not_graded
from autograder.gradescope.run import find_notebooks, student_name
from autograder.gradescope.schema import validate_results
from tests.gradescope_helpers import ROOT, build, sample_course


def _script(bundle, name) -> str:
    with zipfile.ZipFile(bundle) as archive:
        return archive.read(name).decode()


def test_the_bundle_holds_the_scripts_the_kit_the_course_and_its_calibration(tmp_path):
    bundle = build(tmp_path)
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert {"setup.sh", "run_autograder", "requirements.txt", "course/course.yml", "kit/pyproject.toml",
            "kit/autograder/gradescope/run.py", "kit/autograder/gradescope/templates/setup.sh.j2"} <= names
    assert {f"course/calibration/{p.name}" for p in (ROOT / "calibration").glob("*.json")} <= names
    # The release: the grader runs its locked cells, not a student's copy of them.
    assert "course/assignments/binary_mnist/binary_mnist.ipynb" in names
    assert not any("__pycache__" in n for n in names)
    assert "data/mnist.npz" not in names  # sample data: no MNIST at all
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR


def test_the_bundled_course_yml_is_valid_and_finds_its_calibration_beside_it(tmp_path):
    bundle = build(tmp_path, gradescope={"hidden_checks_visibility": "hidden"})
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "source")
    config = load_config(tmp_path / "source" / "course" / "course.yml")
    assert config.data.source == "sample"
    assert config.gradescope.hidden_checks_visibility == "hidden"
    assert config.calibration_dir == (tmp_path / "source" / "course" / "calibration").resolve()


def test_requirements_pin_the_installed_versions(tmp_path):
    import importlib.metadata

    text = _script(build(tmp_path), "requirements.txt")
    assert f"keras=={importlib.metadata.version('keras')}" in text
    assert f"pydantic=={importlib.metadata.version('pydantic')}" in text


@pytest.mark.parametrize("source", ["sample", "mnist"])
def test_setup_sh_and_run_autograder_are_valid_bash(tmp_path, source):
    bundle = build(tmp_path, data={"source": source})
    for name in ("setup.sh", "run_autograder"):
        (tmp_path / name).write_text(_script(bundle, name))
        checked = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed here")
@pytest.mark.parametrize("source", ["sample", "mnist"])
def test_setup_sh_and_run_autograder_pass_shellcheck(tmp_path, source):
    bundle = build(tmp_path, data={"source": source})
    for name in ("setup.sh", "run_autograder"):
        (tmp_path / name).write_text(_script(bundle, name))
        checked = subprocess.run(["shellcheck", str(tmp_path / name)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout


def test_mnist_path_at_build_time_is_bundled_and_setup_sh_checks_its_sha256(tmp_path):
    mnist = tmp_path / "mnist.npz"
    mnist.write_bytes(b"stands for MNIST: only its bytes' checksum matters here")
    bundle = build(tmp_path, mnist_path=mnist, data={"source": "mnist"})
    with zipfile.ZipFile(bundle) as archive:
        assert archive.read("data/mnist.npz") == mnist.read_bytes()
    setup = _script(bundle, "setup.sh")
    assert f'MNIST_SHA256="{hashlib.sha256(mnist.read_bytes()).hexdigest()}"' in setup
    assert "curl" not in setup  # bundled: nothing to download
    assert 'MNIST_PATH="$GRADESCOPE_ROOT/source/data/mnist.npz"' in _script(bundle, "run_autograder")


def test_without_mnist_path_setup_sh_downloads_from_keras_and_checks_keras_own_sha256(tmp_path):
    from keras.src.datasets import mnist as keras_mnist

    setup = _script(build(tmp_path, data={"source": "mnist"}), "setup.sh")
    assert MNIST_URL in setup and f'MNIST_SHA256="{KERAS_MNIST_SHA256}"' in setup
    # The constant is the file_hash Keras itself checks its download against.
    assert KERAS_MNIST_SHA256 in re.sub(r"\s|\"|\(|\)", "", inspect.getsource(keras_mnist.load_data))


def test_setup_sh_sha256_check_rejects_a_wrong_file(tmp_path):
    """The check line of setup.sh, run on its own: the right file passes, another fails."""
    mnist = tmp_path / "mnist.npz"
    mnist.write_bytes(b"right bytes")
    setup = _script(build(tmp_path, mnist_path=mnist, data={"source": "mnist"}), "setup.sh")
    check = next(line for line in setup.splitlines() if "sha256sum --check" in line)
    sha = re.search(r'MNIST_SHA256="([0-9a-f]{64})"', setup).group(1)
    script = f'MNIST_SHA256="{sha}"\nMNIST="{mnist}"\n{check}\n  exit 1\nfi\n'
    assert subprocess.run(["bash", "-c", script]).returncode == 0
    mnist.write_bytes(b"wrong bytes")
    assert subprocess.run(["bash", "-c", script], capture_output=True).returncode == 1


def test_an_unreadable_mnist_path_is_a_message_not_a_traceback(tmp_path):
    sample_course(tmp_path, data={"source": "mnist"})
    done = subprocess.run(["python", "-m", "autograder", "--config", str(tmp_path / "course.yml"), "gradescope",
                           "--output", str(tmp_path / "a.zip")], capture_output=True, text=True,
                          env={"MNIST_PATH": str(tmp_path / "missing.npz"), "PATH": _venv_path()}, cwd=ROOT)
    assert done.returncode != 0
    assert "MNIST_PATH=" in done.stderr and "is not a file" in done.stderr and "Traceback" not in done.stderr


def _venv_path() -> str:
    import os
    import sys
    from pathlib import Path

    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def test_an_unknown_visibility_in_course_yml_names_the_key(tmp_path):
    with pytest.raises(CourseConfigError, match="gradescope.hidden_checks_visibility"):
        load_config(sample_course(tmp_path, gradescope={"hidden_checks_visibility": "sometimes"}))


def test_hidden_checks_count_and_are_shown_as_course_yml_says(tmp_path):
    settings = load_config(sample_course(tmp_path, gradescope={"hidden_checks_visibility": "after_due_date"})).gradescope
    graded = {"score": 1.0, "max_score": 2.0, "execution_time": 3.0, "output": "", "extra_data": {}, "tests": [
        {"name": "a: x", "group": "a", "score": 1.0, "max_score": 1.0, "status": "passed", "output": "", "visibility": "visible"},
        {"name": "b: y", "group": "b", "score": 0.0, "max_score": 1.0, "status": "failed", "output": "no", "visibility": "hidden"}]}
    results = from_graded(graded, settings, "text")
    validate_results(results)
    assert [t["visibility"] for t in results["tests"]] == ["visible", "after_due_date"]
    assert [t["tags"] for t in results["tests"]] == [["a"], ["b"]]
    assert [t["number"] for t in results["tests"]] == ["1.1", "2.1"]
    assert results["extra_data"]["max_score"] == 2.0


def test_a_not_graded_result_is_valid_visible_and_scores_zero(tmp_path):
    settings = load_config(sample_course(tmp_path)).gradescope
    results = not_graded("Grading", "because", 13.0, settings)
    validate_results(results)
    assert results["score"] == 0 and results["tests"][0]["visibility"] == "visible"
    assert results["tests"][0]["output"] == "because"


def test_notebooks_are_found_by_any_name_in_subfolders_but_not_in_checkpoints(tmp_path):
    (tmp_path / "sub" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "sub" / "Mein Notebook.ipynb").write_text("{}")
    (tmp_path / "sub" / ".ipynb_checkpoints" / "Mein Notebook-checkpoint.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    assert find_notebooks(tmp_path) == [tmp_path / "sub" / "Mein Notebook.ipynb"]
    assert find_notebooks(tmp_path / "absent") == []


def test_the_student_name_comes_from_submission_metadata(tmp_path):
    metadata = tmp_path / "submission_metadata.json"
    assert student_name(metadata) == ""
    metadata.write_text('{"users": [{"name": "Ada Lovelace", "email": "a@b"}, {"name": "Kim Min-jun"}]}')
    assert student_name(metadata) == "Ada Lovelace, Kim Min-jun"
    metadata.write_text("not json")
    assert student_name(metadata) == ""


# Stands for the build's python3.X (and, once "-m venv DIR" has run, for DIR/bin/python3): logs its arguments,
# installs nothing.
_FAKE_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "$SETUP_LOG"
if [ "${1:-}" = "-m" ] && [ "${2:-}" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python3"
fi
"""


def _run_setup(tmp_path, bundle=None):
    """setup.sh from the bundle unpacked into tmp_path/root/source (unpacked here when ``bundle`` is given),
    offline: python3 is a stand-in that records what it was asked."""
    root = tmp_path / "root"
    if bundle is not None:
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(root / "source")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    stand_in = stubs / f"python{sys.version_info.major}.{sys.version_info.minor}"
    stand_in.write_text(_FAKE_PYTHON)
    stand_in.chmod(0o755)
    log = tmp_path / "setup.log"
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "GRADESCOPE_ROOT": str(root), "SETUP_LOG": str(log)}
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True)
    return done, root, log.read_text() if log.exists() else ""


def test_setup_sh_installs_the_pinned_requirements_and_the_kit_into_a_venv_then_deletes_the_kit_source(tmp_path):
    done, root, log = _run_setup(tmp_path, build(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    source = root / "source"
    assert f"python -m venv {root}/venv" in log
    assert f"-m pip install --no-cache-dir -r {source}/requirements.txt {source}/kit" in log
    assert not (source / "kit").exists()  # the reference solution is gone from the readable source
    assert (source / "course" / "course.yml").is_file()
    # Closed to all but the grader (root): a submission without a sandbox runs as another uid.
    assert not source.stat().st_mode & 0o077 and not (source / "course" / "course.yml").stat().st_mode & 0o077


def test_setup_sh_stops_on_a_bundled_mnist_whose_sha256_does_not_match(tmp_path):
    mnist = tmp_path / "mnist.npz"
    mnist.write_bytes(b"the bytes the bundle was built with")
    bundle = build(tmp_path / "b", mnist_path=mnist, data={"source": "mnist"})
    done, root, _ = _run_setup(tmp_path / "good", bundle)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "bad" / "root" / "source")
    (tmp_path / "bad" / "root" / "source" / "data" / "mnist.npz").write_bytes(b"damaged on the way")
    done, _, _ = _run_setup(tmp_path / "bad")
    assert done.returncode == 1 and "does not have sha256" in done.stderr

