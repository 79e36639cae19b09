"""nbgrader's kernel reads the lecture's trainings that a trusted step filed (``warm-training-cache``), read-only.

From inside a real sandboxed kernel (as nbgrader's Execute starts it), on the sample data: the folder is there and
nothing in it can be written, moved, removed or re-moded; the kernel's own session (what ``train_as_graded`` and
the accuracy checks use) takes each of the lecture's models from the folder, and what it gets is what the same
training in the same kernel gives fresh: accuracy, loss, curves, exact test probabilities and trained weights,
and the accuracy checks' results field by field. Outside, afterwards: the folder's bytes are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repo_paths import ROOT
from test_sandboxed_kernel import RememberedKernelManager, notebook_folder  # noqa: F401 (the fixture)

INSIDE = r'''
import json, os
from dataclasses import fields
from pathlib import Path

import numpy as np

seen = {"folder": os.environ.get("AUTOGRADER_LECTURE_TRAININGS")}
folder = Path(seen["folder"])
entry = sorted(folder.glob("*.json"))[0]
weights = sorted(folder.glob("*.npz"))[0]
def attempt(action):
    try:
        action()
        return "done"
    except OSError as exc:
        return type(exc).__name__
seen["writes"] = {
    "a new file": attempt(lambda: (folder / "planted.json").write_text("{}")),
    "append to an entry": attempt(lambda: open(entry, "a").write(" ")),
    "overwrite the weights": attempt(lambda: weights.write_bytes(b"x")),
    "rename an entry": attempt(lambda: os.replace(entry, folder / "moved.json")),
    "remove an entry": attempt(lambda: os.unlink(entry)),
    "chmod an entry": attempt(lambda: os.chmod(entry, 0o666)),
    "a folder": attempt(lambda: os.mkdir(folder / "sub")),
}

# THE LECTURE'S MODELS
from autograder.checks import visible_checks
from autograder.engine.check_session import CheckSession
from autograder.evidence.training_outcome import BUILDERS
from autograder.notebook import _session, course_config

reading, plain = _session(), CheckSession(course_config(), log=lambda message: None)
seen["trainings"] = {}
for builder in BUILDERS:
    model = globals()[builder]()
    hit = reading.train_under_protocol(model, builder, keep_weights=True)   # as train_as_graded asks
    fresh = plain.train_under_protocol(model, builder, keep_weights=True)
    seen["trainings"][builder] = {
        "hit reused": hit.reused, "fresh reused": fresh.reused,
        "differing fields": [f for f in ("builder", "seed", "accuracy", "loss", "history", "error", "key")
                             if getattr(hit, f) != getattr(fresh, f)],
        "same probabilities": bool(np.array_equal(hit.test_probabilities, fresh.test_probabilities)
                                   and hit.test_probabilities.dtype == fresh.test_probabilities.dtype),
        "same weights": len(hit.weights) == len(fresh.weights) and all(
            a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(hit.weights, fresh.weights)),
    }

checks = [c for c in visible_checks() if c.needs_training]
def graded(session):
    t = session.translator
    result = session.grade_functions({b: globals()[b] for b in BUILDERS}, checks)
    rows = [{f.name: (c.message_text(t) if f.name == "message" else
                      getattr(c, f.name) if isinstance(getattr(c, f.name), (str, bool, int, float)) else
                      t(getattr(c, f.name))) for f in fields(c)} for g in result.groups for c in g.checks]
    runs = {b: {k: v for k, v in o.to_dict().items() if k != "seconds"} for b, o in result.trainings.items()}
    return {"checks": rows, "trainings": runs}
seen["graded with the folder"], seen["graded without"] = graded(reading), graded(plain)
print(json.dumps(seen))
'''


def run_in_sandboxed_kernel(folder: Path, code: str, timeout: int = 900) -> dict:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(notebook, kernel_manager_class=RememberedKernelManager, timeout=timeout,
                   resources={"metadata": {"path": str(folder)}}).execute()
    outputs = notebook.cells[0].outputs
    assert outputs and outputs[-1].get("name") == "stdout", outputs
    return json.loads(outputs[-1]["text"].strip().splitlines()[-1])


def folder_bytes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_the_kernel_reads_the_lecture_trainings_read_only_and_a_hit_is_the_fresh_training(notebook_folder):  # noqa: F811
    from autograder.course.examples import LECTURE_STYLE
    from autograder.evidence.training_outcome import BUILDERS

    course = notebook_folder.parents[2]
    warm = subprocess.run([sys.executable, "-m", "autograder", "warm-training-cache"], cwd=course, text=True,
                          capture_output=True, env={**os.environ, "COURSE_CONFIG": str(course / "course.yml"),
                                                    "TF_CPP_MIN_LOG_LEVEL": "2"}, timeout=600)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    lecture = course / "grades" / "binary_mnist.training-cache" / "lecture"
    before = folder_bytes(lecture)
    assert len([n for n in before if n.endswith(".weights.npz")]) == 3, before
    source = "\n".join(["import numpy as np"] + [LECTURE_STYLE[b] for b in BUILDERS])

    seen = run_in_sandboxed_kernel(notebook_folder, INSIDE.replace("# THE LECTURE'S MODELS", source))

    assert seen["folder"] == "/course-training-cache"
    assert set(seen["writes"].values()) <= {"PermissionError", "OSError"}, seen["writes"]
    for builder, training in seen["trainings"].items():
        assert training["hit reused"] and not training["fresh reused"], (builder, training)  # a real hit, a real run
        assert training == {**training, "differing fields": [], "same probabilities": True, "same weights": True}, (
            builder, training)
    assert seen["graded with the folder"] == seen["graded without"]
    assert len(seen["graded with the folder"]["checks"]) == 3
    assert folder_bytes(lecture) == before


def test_only_the_lecture_folder_is_bound_and_only_where_warm_made_it(tmp_path):
    from autograder.course.sandboxed_kernel import course_settings_for_the_kernel, lecture_trainings_folder
    from autograder.support.config import load_config

    import yaml

    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    config = load_config(tmp_path / "course.yml")
    assert lecture_trainings_folder(config) is None
    readable, environment = course_settings_for_the_kernel(config, tmp_path / "settings1")
    assert "AUTOGRADER_LECTURE_TRAININGS" not in environment
    lecture = tmp_path / "grades" / "binary_mnist.training-cache" / "lecture"
    lecture.mkdir(parents=True)
    readable, environment = course_settings_for_the_kernel(config, tmp_path / "settings2")
    assert (lecture.resolve(), Path("/course-training-cache")) in readable
    assert not any(Path(source) == lecture.parent.resolve() for source, _ in readable)  # grade-all's entries stay out
    assert environment["AUTOGRADER_LECTURE_TRAININGS"] == "/course-training-cache"
