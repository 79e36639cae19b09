"""The student wing never imports the instructor wing, and its expected values are the reference's."""

import ast
import json

import pytest

from autograder.course.student_kit import PACKAGE, STUDENT_SUBPACKAGES, instructor_subpackages, student_wing_files

INSTRUCTOR_SUBPACKAGES = tuple(instructor_subpackages())
# The student wing's top level holds only its entry points (and the instructor's command line); the rest of
# the wing sits in its subpackages by job (checks, evidence, expected, engine, messages, support).
TOP_LEVEL = {"__init__.py", "__main__.py", "notebook.py", "conftest.py", "test_self_check.py", "pytest_options.py",
             "fit_summary.py"}


def imported_modules(path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included), as absolute names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = ".".join(("autograder", *path.relative_to(PACKAGE).parent.parts))
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_student_wing_file_imports_the_instructor_wing():
    assert {"grader", "hidden", "isolation", "course", "report", "dev"} <= set(INSTRUCTOR_SUBPACKAGES)
    sources = [p for p in student_wing_files() if p.suffix == ".py"]
    assert any(p.name == "notebook.py" for p in sources)
    assert {"checks", "evidence", "engine", "messages", "support"} <= {p.parent.name for p in sources}
    offenders = {f"{p.relative_to(PACKAGE)} imports {m}" for p in sources for m in imported_modules(p)
                 for sub in INSTRUCTOR_SUBPACKAGES if m == f"autograder.{sub}" or m.startswith(f"autograder.{sub}.")}
    assert not offenders, sorted(offenders)


def test_the_student_wing_is_laid_out_by_job():
    # The top level keeps the entry points only; every subpackage is in exactly one wing.
    assert {p.name for p in PACKAGE.glob("*.py")} == TOP_LEVEL
    assert not set(STUDENT_SUBPACKAGES) & set(INSTRUCTOR_SUBPACKAGES)
    assert {"engine", "evidence", "messages", "support", "checks", "expected"} <= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


# The kit's layers, bottom to top: a module imports its own layer and the layers below it, never one above (not
# even in a function), and never a peer in its tier. Each subpackage, and each module at the package's top, is
# named once. The student wing is the bottom up to its entry points; the instructor wing stands on it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("support",),  # course.yml's schema, the data set, notebook files: infrastructure every layer uses
    ("messages",),  # what students read, and its translations
    ("expected",),  # the lecture's expected values, as data
    ("evidence",),  # what the checks examine: probes, the call record, layer rows, a training's outcome
    ("checks",),  # the rules
    ("fit_summary", "pytest_options"),  # the self-check's summary of a fit, and its pytest options
    ("engine",),  # the session that applies the checks, the notebook runner, the protocol, the results
    ("notebook", "conftest", "test_self_check"),  # the student wing's entry points
    ("hidden",),  # what only grading knows: the hidden probes and every check
    ("isolation",),  # the jail, the submission's process and the models' process
    ("report",),  # the renderings of a result
    ("grader",),  # the Grader, the reference, the calibration
    ("gradescope",),
    ("submissions",),  # which notebooks of a class are graded or compared
    ("integrity",),  # the similarity report (grade-all writes its page)
    ("batch",),  # grading a whole class (course/verify.py grades through it)
    ("course",),  # the nbgrader pipeline, the student kit, feedback and verify
    ("dev",),  # the maintainers' tools
    ("__main__",),  # the command line, which assembles every area's sub-commands
)


def layer_of(module: str) -> str | None:
    """The layer ``autograder.<name>...`` belongs to (None outside the kit, or for the package itself)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "autograder" and len(parts) > 1 else None


def imports_of_a_higher_layer(package=PACKAGE) -> set[str]:
    """'file (layer) imports module (layer)' for every import, at any depth, of a layer above the file's own, or of
    a peer in its tier; ``package``: the folder whose files are walked, laid out as ``autograder/`` is."""
    rank = {name: tier for tier, names in enumerate(LAYERS) for name in names}
    found = set()
    for path in sorted(package.rglob("*.py")):
        own = path.relative_to(package).parts[0].removesuffix(".py")
        for module in imported_modules(path):
            target = layer_of(module)
            if target in rank and target != own and rank[target] >= rank[own]:
                found.add(f"{path.relative_to(package)} ({own}) imports {module} ({target})")
    return found


def test_every_part_of_the_kit_has_one_layer():
    named = [name for names in LAYERS for name in names]
    assert len(named) == len(set(named))
    parts = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} | {p.stem for p in PACKAGE.glob("*.py")}
    assert parts - {"__init__"} == set(named)


def test_the_student_wing_is_the_bottom_of_the_layers():
    # What the kit ships stands on nothing of the instructor's: every layer of it lies below every instructor one.
    rank = {name: tier for tier, names in enumerate(LAYERS) for name in names}
    student = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"} | {
        sub for sub in STUDENT_SUBPACKAGES if (PACKAGE / sub / "__init__.py").is_file()}
    assert max(rank[s] for s in student) < min(rank[i] for i in INSTRUCTOR_SUBPACKAGES + ("__main__",))


def test_the_jail_mounts_the_student_wing_as_the_kit_ships_it():
    # The jail cannot import course/ (it lies above), so it names the wing's folders itself: the same ones.
    from autograder.isolation.jail import STUDENT_WING_FOLDERS

    assert sorted(STUDENT_WING_FOLDERS) == sorted(STUDENT_SUBPACKAGES)


def test_no_module_imports_a_higher_layer():
    assert not imports_of_a_higher_layer(), sorted(imports_of_a_higher_layer())


def test_the_layer_walk_sees_an_upward_import(tmp_path):
    # The guard must be able to fail: a rule that imports the session above it, inside a function, is caught, and
    # so is a peer's import; a downward import is not.
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "planted.py").write_text(
        "from autograder.evidence.call_record import Call\n\ndef f():\n    from autograder.engine import results\n")
    (tmp_path / "notebook.py").write_text("import autograder.conftest\nfrom autograder import engine\n")
    assert imports_of_a_higher_layer(tmp_path) == {
        "checks/planted.py (checks) imports autograder.engine (engine)",
        "checks/planted.py (checks) imports autograder.engine.results (engine)",
        "notebook.py (notebook) imports autograder.conftest (conftest)"}


def test_the_import_walk_sees_an_instructor_import(tmp_path):
    # The guard must be able to fail: a function-level import and a `from autograder import grader` both count.
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from autograder.grader import reference\n\nfrom autograder import report\n")
    found = imported_modules(probe)
    assert "autograder.grader" in found and "autograder.report" in found


def test_student_wing_imports_in_a_fresh_interpreter_without_the_instructor_wing(tmp_path):
    # Import the student wing's modules with the instructor subpackages blocked: any import of them fails.
    import subprocess
    import sys

    modules = [".".join(("autograder", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
               for p in student_wing_files() if p.suffix == ".py" and p.name not in ("conftest.py", "test_self_check.py")]
    assert "autograder.engine.check_session" in modules and "autograder.notebook" in modules
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        f"        if name.split('.')[:2][-1] in {INSTRUCTOR_SUBPACKAGES!r} and name.startswith('autograder.'):\n"
        "            raise ImportError('instructor wing: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"import {', '.join(modules)}\n"
        "from autograder.checks import visible_checks\n"
        "print(len(visible_checks()))\n")
    proc = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_committed_expected_values_match_a_fresh_generation(sample_config):
    from autograder.course.expected_values import expected_values

    for name, text in expected_values(sample_config).items():
        committed = (PACKAGE / "expected" / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"autograder/expected/{name} is out of date: run `python -m autograder build-source` and commit it")


def test_expected_values_are_what_the_reference_gives():
    # The data the checks compare with, read back, is the reference's own layer table and prepared shape.
    import numpy as np

    from autograder.checks.architecture import expected_layers

    from autograder.evidence.layer_rows import describe_layers
    from autograder.expected import prepared_image_shape
    from autograder.grader import reference

    for builder in ("build_mlp", "build_cnn", "build_deep_cnn"):
        assert list(expected_layers(builder)) == describe_layers(getattr(reference, builder)())
    for function in ("prepare_mlp_input", "prepare_cnn_input"):
        assert getattr(reference, function)(np.zeros((3, 28, 28), np.uint8)).shape[1:] == prepared_image_shape(function)


def test_trusted_pipeline_equals_the_reference_pipeline(sample_config):
    # The accuracy checks train on the student wing's own pipeline: it must be the reference's, bit for bit.
    import numpy as np

    from autograder.support.mnist import load_dataset
    from autograder.grader import reference
    from autograder.engine.training import grading_data

    dataset = load_dataset("sample")
    data = grading_data(dataset, sample_config.grading, dataset.n_val)
    y = reference.relabel_odd_even(dataset.y_train)
    x_train, y_train, _, _ = reference.split_train_val(dataset.x_train, y, n_val=dataset.n_val)
    n = sample_config.grading.n_train
    assert np.array_equal(data.x_train["mlp"], reference.prepare_mlp_input(x_train[:n]))
    assert np.array_equal(data.x_train["cnn"], reference.prepare_cnn_input(x_train[:n]))
    assert np.array_equal(data.y_train, y_train[:n].astype("float32"))
    assert data.x_train["mlp"].dtype == np.float32


def test_thresholds_shipped_to_students_are_the_calibrations(sample_config):
    from autograder.grader.calibration import Calibration

    shipped = {c["file"]: c for c in json.loads((PACKAGE / "expected" / "thresholds.json").read_text())["calibrations"]}
    files = sorted((sample_config.root / sample_config.calibration.directory).glob("*.json"))
    assert files and sorted(shipped) == [f.name for f in files]
    for f in files:
        calib = Calibration.from_dict(json.loads(f.read_text()))
        for builder, model in calib.models.items():
            assert shipped[f.name]["models"][builder]["threshold"] == pytest.approx(model.threshold, abs=0)
