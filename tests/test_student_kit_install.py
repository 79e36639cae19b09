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
from pathlib import Path

import nbformat
import pytest

from autograder.checks import visible_checks
from autograder.support.check_groups import CHECK_GROUPS
from autograder.course.examples import filled_release
from autograder.course.student_kit import write_student_kit
from autograder.notebook import MIN_TENSORFLOW, TENSORFLOW_DISTRIBUTIONS, TESTED_WITH
from repo_paths import RELEASE

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


def _with_colab_install(config, spec):
    return config.model_copy(update={"student_kit": config.student_kit.model_copy(update={"colab_install": spec})})


def test_without_a_colab_address_the_kit_notebook_is_the_release_and_its_readme_says_nothing_of_colab(kit):
    release = nbformat.read(RELEASE, as_version=4)
    handed_out = nbformat.read(kit / "assignments" / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    assert handed_out == release
    assert "In Colab" not in (kit / "README.md").read_text()


def test_with_a_colab_address_the_notebook_starts_with_a_cell_that_installs_the_kit_there(tmp_path, sample_config):
    from autograder.course.student_kit import COLAB_CELL_ID
    from autograder.engine.notebook_runner import STUDENT, plan_notebook

    spec = "git+https://github.com/our-course/binary-mnist-kit"
    write_student_kit(_with_colab_install(sample_config, spec), tmp_path / "kit")
    nb = nbformat.read(tmp_path / "kit" / "assignments" / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.id == COLAB_CELL_ID and f"%pip install --quiet {spec}" in first_code.source
    assert "nbgrader" not in first_code.metadata  # a cell of the student's notebook: nbgrader keeps it as it is
    # The grader runs it as a cell the student added; the rest of the plan is the release's.
    release = nbformat.read(RELEASE, as_version=4)
    assert [c.kind for c in plan_notebook(nb, release)] == [STUDENT] + [c.kind for c in plan_notebook(release, release)]
    english, korean = (tmp_path / "kit" / "README.md").read_text().split("## 한국어")
    assert "**In Colab**" in english and "**Colab에서는**" in korean
    assert all("--pyargs autograder --notebook /content/binary_mnist.ipynb" in part for part in (english, korean))
    # The settings travel inside the package, for Colab's /content, where no course.yml is.
    assert (tmp_path / "kit" / "autograder" / "course.yml").read_text() == (tmp_path / "kit" / "course.yml").read_text()
    project = tomllib.loads((tmp_path / "kit" / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"autograder-notebook-option": "autograder.pytest_options"}
    assert "course.yml" in project["tool"]["setuptools"]["package-data"]["autograder"]


def test_outside_colab_the_install_cell_does_nothing(sample_config, tmp_path):
    from autograder.course.student_kit import colab_install_cell
    from autograder.engine.notebook_runner import plan_notebook, run_notebook

    cell = colab_install_cell("/nowhere/binary_mnist_student_kit-0.1.0-py3-none-any.whl")
    run = run_notebook(plan_notebook(nbformat.v4.new_notebook(cells=[cell])), [], 30.0)
    assert [o.status for o in run.outcomes] == ["ok"] and run.namespace["in_colab"] is False


@pytest.mark.parametrize("spec", ["pkg; rm -rf ~", "git+https://x/y\n!curl evil", "'quoted'"])
def test_a_colab_address_that_is_not_one_requirement_is_refused_with_the_setting_named(spec, sample_config, tmp_path):
    with pytest.raises(ValueError, match=r"student_kit\.colab_install .*one pip requirement or URL"):
        write_student_kit(_with_colab_install(sample_config, spec), tmp_path / "kit")


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


# ---------------------------------------------------------------- Colab, as closely as this machine allows

def _colab_like_runtime(root):
    """A virtual environment that sees this one's packages (TensorFlow, Keras, Jupyter) through a .pth file, as
    Colab's runtime comes with TensorFlow preinstalled, and a `google.colab` module, as only Colab has. The
    instructor's own `autograder` stays out: a path added by a .pth file does not run that folder's .pth files,
    and the editable install is one of those."""
    import sysconfig

    venv = root / "colab"
    _run([sys.executable, "-m", "venv", str(venv)], root)
    fake = root / "only_in_colab" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root).stdout.strip()
    (Path(site) / "preinstalled.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{root / 'only_in_colab'}\n")
    kernels = root / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python"}))
    return python


@pytest.mark.slow  # builds the kit's wheel, pip-installs it in a kernel, runs checks there and `!pytest` (~2 min)
def test_in_colab_the_first_cell_installs_the_kit_and_the_checks_run_from_content(tmp_path, sample_config, monkeypatch):
    from nbclient import NotebookClient

    from autograder import __version__
    from autograder.course.student_kit import COLAB_CELL_ID

    # What the instructor publishes: the kit as a wheel (a git+https URL of its repository works the same way).
    wheel = tmp_path / "published" / f"binary_mnist_student_kit-{__version__}-py3-none-any.whl"
    config = sample_config.model_copy(update={"student_kit": sample_config.student_kit.model_copy(
        update={"colab_install": str(wheel)})})
    kit = tmp_path / "kit"
    write_student_kit(config, kit)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel.parent),
          "."], kit)
    assert wheel.is_file(), list(wheel.parent.iterdir())
    kit_nb = nbformat.read(kit / "assignments" / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    first_code = next(c for c in kit_nb.cells if c.cell_type == "code")
    assert first_code.get("id") == COLAB_CELL_ID and str(wheel) in first_code.source

    python = _colab_like_runtime(tmp_path)
    content = tmp_path / "content"  # Colab's working folder: no kit, no course.yml
    content.mkdir()
    # The student's work up to the compile check (training and accuracy need the data: not this test's point).
    done = filled_release(kit_nb, {})
    last_check = next(i for i, c in enumerate(done.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                      == "test_compile")
    done.cells = done.cells[:last_check + 1]
    nbformat.write(done, content / "binary_mnist.ipynb")
    done.cells.append(nbformat.v4.new_code_cell(
        "!python -m pytest --pyargs autograder --notebook binary_mnist.ipynb -k 'not accuracy' -p no:cacheprovider -q"))

    for name in [k for k in os.environ if k.startswith(("PYTEST_", "COURSE_CONFIG", "AUTOGRADER_", "MNIST_PATH"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PATH", f"{python.parent}{os.pathsep}{os.environ['PATH']}")  # `!python` is the runtime's
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # everything but the kit is preinstalled, as in Colab
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    NotebookClient(done, timeout=600, kernel_name="colab", resources={"metadata": {"path": str(content)}}).execute()

    outputs = {i: "".join(o.get("text", "") + "".join(o.get("traceback", [])) for o in c.outputs)
               for i, c in enumerate(done.cells) if c.cell_type == "code"}
    assert not [o for c in done.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"], outputs
    installed = _run([str(python), "-c", "import autograder; print(autograder.__file__)"], tmp_path).stdout
    assert str(tmp_path / "colab") in installed  # the kit, installed (not editable) by the first cell
    checks = [text for i, text in outputs.items() if "checks passed" in text]
    # One check cell per group tested after its function (relabel, split, prepare, mlp, cnn, deep_cnn, compile).
    assert len(checks) == sum(g.test_after is not None for g in CHECK_GROUPS), outputs
    self_check = outputs[len(done.cells) - 1]  # `!python -m pytest --pyargs autograder ...` from /content
    assert re.search(r"\d+ passed", self_check) and not re.search(r"\d+ (failed|error)", self_check), self_check
    assert not list(content.glob("course.yml"))  # the settings came with the kit
