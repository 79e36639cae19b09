"""The corpus of spellings (issue 18, item 6): correct notebooks written in ordinary ways get full marks on
every grading path, and each one-group defect of them loses exactly its groups, on every path.

Paths: ``Grader.grade_notebook`` (``python -m autograder grade``), the students' self-check (``pytest
autograder --notebook NB`` in a subprocess), and real ``nbgrader autograde`` compared group by group with
``grade`` through ``verify_course``. The notebooks are built by ``tests/spellings.py``.

The fast tests check every notebook (corpus, defects, packs). In the suite ``grade``, the self-check and real
nbgrader take the 7 packs (every spelling and defect is in one), nbgrader in the session's one nbgrader run
beside the examples; test_nbgrader_parity.py autogrades the pack of the 4 riskiest spellings on full MNIST.
``SPELLINGS_CORPUS=all`` runs every notebook on every path. Measured on the shared 2-core machine, per notebook
on the sample data: grade 13-55 s (the session reuses trainings of identical models), the self-check about
40 s, nbgrader autograde about 40 s in the shared run (then verify grades each again).
"""

from __future__ import annotations

import copy
import os
import re
import time

import nbformat
import pytest

from autograder.checks import visible_checks
from autograder.support.config import GROUPS, load_config
from autograder.course.examples import filled_release
from autograder.report.text import result_text
from spellings import (CORPUS, DEFECTS, PACKS, PACKS_BY_NAME, RISKIEST, SPELLINGS_BY_NAME, Defect,
                                      Spelling, model_of)
from conftest import NBGRADER_SPELLING_PACKS, autograde_with_nbgrader, require_full_mnist, submission_notebook
from repo_paths import RELEASE
from test_self_check_plugin import sample_course_yml, self_check  # noqa: F401 (sample_course_yml: a fixture)

ENTRIES: dict[str, Spelling | Defect] = {e.name: e for e in (*CORPUS, *DEFECTS, *PACKS)}
ALL = list(ENTRIES)
VISIBLE = visible_checks()

# `grade` grades every corpus and defect notebook one by one (the session's grader trains each distinct
# model once, so that costs seconds a notebook). The self-check and nbgrader, a fresh process each, take
# the packs in the suite (every spelling and defect is in one) and every notebook with SPELLINGS_CORPUS=all.
CHOICE = os.environ.get("SPELLINGS_CORPUS", "packs")
if CHOICE not in ("all", "packs"):
    raise ValueError(f"SPELLINGS_CORPUS={CHOICE!r}: expected 'all' or 'packs'")
EACH = [e.name for e in (*CORPUS, *DEFECTS)]
PACKED = [p for p in PACKS_BY_NAME if p != "pack_riskiest"]
# In the suite: grade, the self-check and real nbgrader on the 7 packs (every spelling and defect is in one).
# nbgrader autogrades them in the session's one nbgrader run (conftest's ``autograded_course``, beside the
# examples), and the pack of the riskiest spellings on full MNIST (test_nbgrader_parity.py).
# SPELLINGS_CORPUS=all: every notebook on every path, in nbgrader runs of their own.
IN_SUITE = list(NBGRADER_SPELLING_PACKS)
GRADED = EACH + PACKED if CHOICE == "all" else PACKED
PROCESS_PATHS = EACH if CHOICE == "all" else IN_SUITE
NBGRADER_PATHS = EACH if CHOICE == "all" else IN_SUITE
FULL_MNIST = list(RISKIEST) if CHOICE == "all" else ["pack_riskiest"]


@pytest.fixture(scope="module")
def release():
    return nbformat.read(RELEASE, as_version=4)


def expected_scores(name: str, points: dict[str, float]) -> dict[str, float]:
    entry = ENTRIES[name]
    if isinstance(entry, Defect):
        return entry.expected_scores(points)
    return {g: float(points[g]) for g in GROUPS}


def scores(result) -> dict[str, float]:
    return {g.name: round(g.score, 6) for g in result.groups}


def code_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def nbgrader_cells(nb) -> list[tuple[str, dict]]:
    return [(c.metadata.nbgrader.grade_id, dict(c.metadata.nbgrader)) for c in nb.cells
            if c.get("metadata", {}).get("nbgrader")]


# ---------------------------------------------------------------- fast: the corpus itself


def test_the_corpus_has_the_spellings_and_defects_the_issue_asks_for():
    assert len(CORPUS) >= 22 and len(DEFECTS) >= 5
    assert len(ENTRIES) == len(CORPUS) + len(DEFECTS) + len(PACKS)  # names unique across all three
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in ENTRIES)  # usable as nbgrader student ids
    assert set(RISKIEST) <= set(SPELLINGS_BY_NAME)
    for defect in (*DEFECTS, *(p for p in PACKS if isinstance(p, Defect))):
        assert isinstance(defect.base, Spelling)
        assert defect.lost and defect.lost <= set(GROUPS) and defect.lost < set(GROUPS)
        assert set(defect.accuracy_of) <= {"build_mlp", "build_cnn", "build_deep_cnn"}
    assert all(defect.spelling in SPELLINGS_BY_NAME for defect in DEFECTS)
    assert all(e.description for e in ENTRIES.values())
    # Every spelling and every defect is in some pack (a pack's description joins its members').
    packed = {part for p in PACKS for part in p.description.split("; ")}
    assert {e.description for e in (*CORPUS, *DEFECTS)} <= packed
    # ... and each pack goes through every path in the suite (pack_riskiest through nbgrader on full MNIST).
    assert sorted(NBGRADER_SPELLING_PACKS) == sorted(PACKED) == sorted(set(PACKS_BY_NAME) - {"pack_riskiest"})


@pytest.mark.parametrize("name", ALL)
def test_each_notebook_is_valid_and_its_edits_changed_it(release, name):
    entry = ENTRIES[name]
    nb = entry.build(release)
    nbformat.validate(nb)
    assert nbformat.reads(nbformat.writes(nb), as_version=4) == nb  # survives a save and a load unchanged
    assert [m for m in entry.markers if m not in code_text(nb)] == []
    if isinstance(entry, Spelling):
        base = filled_release(release, {})
        assert [m for m in entry.markers if m in code_text(base)] == [], "a marker must be the spelling's own text"
    else:
        base = entry.base.build(release)
    assert nb != base and code_text(nb) != code_text(base), f"{name}'s edits changed nothing"


@pytest.mark.parametrize("name", ALL)
def test_answer_cells_keep_their_nbgrader_metadata_and_added_cells_have_none(release, name):
    nb = ENTRIES[name].build(release)
    # Every nbgrader cell of the release, in order, with its metadata; locked cells unchanged.
    assert nbgrader_cells(nb) == nbgrader_cells(release)
    released = {c.metadata.nbgrader.grade_id: c for c in release.cells if c.get("metadata", {}).get("nbgrader")}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            assert cell.cell_type == "code" and cell.id.startswith("student-")
        elif not meta.get("solution"):
            assert cell.source == released[meta["grade_id"]].source, meta["grade_id"]
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_building_a_notebook_leaves_the_release_alone_and_gives_the_same_notebook_twice(release):
    before = copy.deepcopy(release)
    for entry in ENTRIES.values():
        assert entry.build(release) == entry(release)
    assert release == before


def test_the_spellings_the_runner_must_handle_are_where_the_issue_puts_them(release):
    cells = {name: ENTRIES[name].build(release) for name in ("cell_magic_time", "answer_below_stub",
                                                              "crlf_line_endings", "raising_last_cell")}
    mlp = next(c for c in cells["cell_magic_time"].cells if c.metadata.get("nbgrader", {}).get("grade_id") == "build_mlp")
    assert mlp.source.startswith("%%time\n")
    nb = cells["answer_below_stub"]
    stub = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "build_cnn")
    assert "raise NotImplementedError()" in nb.cells[stub].source and "def build_cnn" in nb.cells[stub + 1].source
    assert nb.cells[stub + 2].metadata.nbgrader.grade_id == "test_cnn"
    assert all("\r\n" in c.source for c in cells["crlf_line_endings"].cells if c.metadata.get("nbgrader", {}).get("solution"))
    assert cells["raising_last_cell"].cells[-1].source.endswith("undefined_name + 1")
    moved = ENTRIES["answer_below_check"].build(release)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in moved.cells]
    assert "def build_cnn" in moved.cells[ids.index("test_cnn") + 1].source


def test_a_check_names_the_model_its_probe_builds():
    assert model_of("check_model_reaches_reference_accuracy[build_mlp_for_accuracy]") == "build_mlp"
    assert model_of("check_model_input_shape[build_deep_cnn]") == "build_deep_cnn"
    assert model_of("check_model_input_shape[build_cnn]") == "build_cnn"
    assert model_of("check_split_sizes[split_n_val_2000]") is None
    defect = PACKS_BY_NAME["pack_defects_in_order"]
    assert defect.fails_check("accuracy", "check_model_reaches_reference_accuracy[build_deep_cnn_for_accuracy]")
    assert not defect.fails_check("accuracy", "check_model_reaches_reference_accuracy[build_cnn_for_accuracy]")
    assert defect.fails_check("cnn", "check_model_input_shape[build_cnn]") and not defect.fails_check("split", "x")


def test_autograde_with_nbgrader_takes_replacements_whole_notebooks_and_callables(release):
    entry = SPELLINGS_BY_NAME["cell_magic_time"]
    assert submission_notebook(release, {}) == filled_release(release, {})
    assert submission_notebook(release, None) == release
    assert submission_notebook(release, entry) == entry.build(release)
    whole = entry.build(release)
    assert submission_notebook(release, whole) is whole


def test_the_builder_that_reads_the_data_cells_name_fails_at_its_check_cell_and_builds_at_the_accuracy_cell(
        sample_grader, release, tmp_path):
    # Issue 28.2, without training: the calls that grade (jailed child) and the self-check (this process) make.
    from autograder.hidden.every_check import checks_for

    path = tmp_path / "cnn_reads_data_cell_name.ipynb"
    nbformat.write(ENTRIES["cnn_reads_data_cell_name"].build(release), path)
    checks = checks_for(("cnn", "accuracy"), include_hidden=False)
    _, run, _ = sample_grader.collect_calls(path, checks, tmp_path / "work")
    graded = run.calls
    for probe in ("build_cnn", "build_cnn_for_accuracy"):  # the child's models stay files: their status says it
        graded[probe].model = "saved" if graded[probe].status == "ok" else None
    _, self_checked, _ = sample_grader.calls_for_notebook(path, checks)
    for calls in (graded, self_checked):
        assert calls["build_cnn"].status == "raised" and "name 'x_train_cnn' is not defined" in str(
            calls["build_cnn"].failure_reason())
        assert calls["build_cnn_for_accuracy"].status == "ok" and calls["build_cnn_for_accuracy"].model is not None
        assert calls["build_mlp_for_accuracy"].status == "ok"


# ---------------------------------------------------------------- grade


@pytest.fixture(scope="module")
def graded(sample_grader, release, tmp_path_factory):
    """graded(name) -> GradeResult of that corpus or defect notebook, graded once per module."""
    folder = tmp_path_factory.mktemp("spellings")
    results = {}

    def grade(name: str):
        if name not in results:
            path = folder / f"{name}.ipynb"
            nbformat.write(ENTRIES[name].build(release), path)
            started = time.perf_counter()
            results[name] = sample_grader.grade_notebook(path)
            print(f"grade {name}: {time.perf_counter() - started:.1f} s")
        return results[name]

    return grade


@pytest.mark.slow  # each grade trains three models (14-52 s a notebook on 2 cores)
@pytest.mark.parametrize("name", GRADED)
def test_grade_path_full_marks_for_the_corpus_and_exactly_the_defects_losses(graded, sample_grader, name):
    result = graded(name)
    assert scores(result) == expected_scores(name, sample_grader.config.points), result_text(result)


# ---------------------------------------------------------------- the students' self-check


def failed_checks(stdout: str) -> set[tuple[str, str]]:
    """(group, check name) of every failed self-check test, from pytest's short summary."""
    return set(re.findall(r"^FAILED \S*::test_check\[([a-z_]+):(\S+)\]", stdout, flags=re.M))


@pytest.mark.slow  # `pytest autograder` in a subprocess, three accuracy trainings (about 39 s a notebook)
@pytest.mark.parametrize("name", PROCESS_PATHS)
def test_self_check_path_passes_the_corpus_and_fails_exactly_the_defects_checks(sample_course_yml, release, tmp_path, name):
    notebook = tmp_path / f"{name}.ipynb"
    nbformat.write(ENTRIES[name].build(release), notebook)
    proc = self_check(notebook, sample_course_yml, "-q", "-rf")
    tail = proc.stdout[-4000:]
    failed = failed_checks(proc.stdout)
    entry = ENTRIES[name]
    if isinstance(entry, Spelling):
        assert proc.returncode == 0 and failed == set(), tail
        assert f"{len(VISIBLE)} passed" in proc.stdout.splitlines()[-1], tail
        return
    assert proc.returncode == 1, tail
    assert {g for g, _ in failed} == entry.lost, tail
    assert all(entry.fails_check(g, check) for g, check in failed), tail
    failing_models = {model_of(check) for g, check in failed if g == "accuracy"}
    assert failing_models == set(entry.accuracy_of), tail
    assert f"{len(failed)} failed, {len(VISIBLE) - len(failed)} passed" in proc.stdout.splitlines()[-1], tail


# ---------------------------------------------------------------- nbgrader autograde, compared with grade


@pytest.fixture(scope="module")
def spellings_verification(sample_config, tmp_path_factory, request):
    """(course, verification): the packs in the suite, from the session's nbgrader run; with SPELLINGS_CORPUS=all
    every corpus and defect notebook, autograded by a real nbgrader run of their own, then verified."""
    from autograder.course.verify import verify_course

    if CHOICE != "all":
        course, _ = request.getfixturevalue("autograded_course")
        return course, request.getfixturevalue("nbgrader_verification")
    started = time.perf_counter()
    submissions = {name: ENTRIES[name] for name in NBGRADER_PATHS}
    course = autograde_with_nbgrader(sample_config, tmp_path_factory.mktemp("nbgrader_spellings"), "sample",
                                     submissions, timeout=300 * len(submissions))
    autograded = time.perf_counter()
    config = load_config(course / "course.yml")
    verification = verify_course(course, config, "binary_mnist", "binary_mnist", log=lambda m: None,
                                 students=NBGRADER_PATHS)
    print(f"nbgrader autograde of {len(submissions)} notebooks: {autograded - started:.0f} s; "
          f"verify: {time.perf_counter() - autograded:.0f} s")
    return course, verification


@pytest.mark.slow  # one nbgrader autograde of every notebook (about 90 s each), then verify grades each
def test_nbgrader_path_autograded_and_verify_graded_every_notebook(spellings_verification):
    _, verification = spellings_verification
    assert verification.not_autograded == [] and verification.not_graded == {}, verification.text()
    assert [d for d in verification.discrepancies if d.student in NBGRADER_PATHS] == [], verification.text()
    assert set(NBGRADER_PATHS) <= set(verification.results)


@pytest.mark.slow
@pytest.mark.parametrize("name", NBGRADER_PATHS)
def test_nbgrader_path_gives_the_points_grade_gives_group_by_group(spellings_verification, sample_config, name):
    from autograder.course.nbgrader_records import gradebook_scores

    course, verification = spellings_verification
    nbgrader = gradebook_scores(course, "binary_mnist", "binary_mnist", [name])[name]
    graded = verification.results[name]
    assert {g: round(got, 6) for g, (got, _) in nbgrader.items()} == scores(graded), result_text(graded)
    assert scores(graded) == expected_scores(name, sample_config.points), result_text(graded)
    assert [d for d in verification.discrepancies if d.student == name] == []


# ---------------------------------------------------------------- full MNIST: the riskiest spellings


@pytest.fixture(scope="module")
def full_mnist_verification(sample_config, tmp_path_factory):
    from autograder.course.verify import verify_course

    require_full_mnist()
    submissions = {name: ENTRIES[name] for name in FULL_MNIST}
    course = autograde_with_nbgrader(sample_config, tmp_path_factory.mktemp("nbgrader_spellings_mnist"), "mnist",
                                     submissions, timeout=900 * len(submissions))
    config = load_config(course / "course.yml")
    return course, verify_course(course, config, "binary_mnist", "binary_mnist", log=lambda m: None,
                                 students=list(submissions))


# In the suite test_nbgrader_parity.py autogrades pack_riskiest on full MNIST; this runs each riskiest spelling.
@pytest.mark.extended
@pytest.mark.slow  # nbgrader trains each notebook's three models on 50,000 images: minutes per notebook
def test_full_mnist_path_the_riskiest_spellings_get_full_marks_from_grade_and_nbgrader(full_mnist_verification,
                                                                                      sample_config):
    from autograder.course.nbgrader_records import gradebook_scores

    course, verification = full_mnist_verification
    assert verification.not_autograded == [] and verification.discrepancies == [], verification.text()
    nbgrader = gradebook_scores(course, "binary_mnist", "binary_mnist", FULL_MNIST)
    for name in FULL_MNIST:
        result = verification.results[name]
        assert {g: round(got, 6) for g, (got, _) in nbgrader[name].items()} == scores(result), result_text(result)
        assert scores(result) == expected_scores(name, sample_config.points), result_text(result)
        assert "full MNIST" in " ".join(str(note) for note in result.notes)  # notes are messages, rendered here
