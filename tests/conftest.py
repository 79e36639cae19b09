"""Shared fixtures: the course config on the offline sample data, and in-process probe calls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "binary_mnist" / "binary_mnist.ipynb"
RELEASE = ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb"


@pytest.fixture(scope="session")
def sample_config():
    """The repo's course.yml, switched to the package-shipped sample so tests run offline."""
    from autograder.config import load_config

    return load_config(ROOT / "course.yml", data={"source": "sample"})


@pytest.fixture(scope="session")
def grader(sample_config):
    from autograder.grading import Grader

    return Grader(sample_config, log=lambda msg: None)


@pytest.fixture(scope="session")
def probe_call(grader, tmp_path_factory):
    """probe_call(func, probe_name) -> Call: run one probe in this process, through the same files as the sandbox."""
    from autograder.probes import PROBES_BY_NAME, call_and_record, load_call
    from autograder.sandbox import save_reference_model

    base = tmp_path_factory.mktemp("probes")
    reference_model = save_reference_model(base / "reference_mlp.keras")
    counter = iter(range(10**6))

    def run(func, probe_name: str):
        probe = PROBES_BY_NAME[probe_name]
        inputs, kwargs = grader.inputs_for([probe])
        out = base / f"call{next(counter)}"
        out.mkdir()
        call_and_record(func, probe, inputs[probe.name], kwargs[probe.name], out,
                        reference_model_path=reference_model, seed=0)
        return load_call(probe, inputs[probe.name], kwargs[probe.name], out)

    return run


@pytest.fixture(scope="session")
def graded_example(grader, tmp_path_factory):
    """graded_example(name, lang) -> GradeResult of the bundled example ``name`` in ``lang``, graded once per session."""
    import nbformat

    from autograder.examples import EXAMPLES, filled_release

    folder = tmp_path_factory.mktemp("examples")
    release = nbformat.read(RELEASE, as_version=4)
    results = {}

    def grade(name: str, lang: str = "en"):
        if (name, lang) not in results:
            path = folder / f"{name}.ipynb"
            nbformat.write(filled_release(release, EXAMPLES[name]), path)
            results[name, lang] = grader.in_language(lang).grade_notebook(path)
        return results[name, lang]

    return grade
