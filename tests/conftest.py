"""Shared fixtures: the course config on the offline sample data, and in-process probe calls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

from repo_paths import RELEASE, ROOT


EXTENDED_ENV = "AUTOGRADER_EXTENDED_TESTS"


# `pytest -n 2` (the README's command) runs the suite on two xdist workers, a test file at a time, so that a file's
# module fixtures are built once. Tests that share an expensive session fixture must also stay on one worker: the
# scheduler sees only test ids, so they are named here by id prefix, first match wins, and
# pytest_collection_modifyitems refuses a test that uses one of these fixtures from outside its unit.
SHARED_FIXTURE_UNITS = {"autograded_course": "nbgrader-session", "nbgrader_verification": "nbgrader-session",
                        "spellings_verification": "nbgrader-session", "graded_example": "graded-examples"}
XDIST_UNITS = (
    ("tests/test_nbgrader_parity.py::test_on_full_mnist", "tests/test_nbgrader_parity.py (full MNIST)"),
    ("tests/test_nbgrader_parity.py::", "nbgrader-session"),
    ("tests/test_nbgrader_roundtrip.py::", "nbgrader-session"),
    ("tests/test_spellings.py::test_nbgrader_path_", "nbgrader-session"),
    ("tests/adversarial/test_sandbox_attacks.py::test_the_same_attack_in_nbgraders_kernel", "nbgrader-session"),
    ("tests/test_report.py::", "graded-examples"),
    ("tests/test_report_in_browser.py::", "graded-examples"),
)


def xdist_unit(nodeid: str) -> str:
    """The unit of work a test belongs to on the xdist workers: its file, or the group of its shared fixture."""
    return next((unit for prefix, unit in XDIST_UNITS if nodeid.startswith(prefix)), nodeid.split("::")[0])


class SharedFixtureScheduling:
    """xdist's scheduler hook: units of ``xdist_unit`` instead of single tests (registered where xdist is)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config, log):
        from xdist.scheduler import LoadScopeScheduling

        class ByUnit(LoadScopeScheduling):
            def _split_scope(self, nodeid):
                return xdist_unit(nodeid)

        return ByUnit(config, log)


def pytest_configure(config):
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(SharedFixtureScheduling(), "shared-fixture-scheduling")


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & set(SHARED_FIXTURE_UNITS):
            if xdist_unit(item.nodeid) != SHARED_FIXTURE_UNITS[fixture]:
                raise pytest.UsageError(f"{item.nodeid} uses {fixture}: add it to XDIST_UNITS in tests/conftest.py "
                                        f"under {SHARED_FIXTURE_UNITS[fixture]!r}, or the fixture is built twice")
    # The extended tests repeat, over another path or another executor, what a test in the suite already shows;
    # together they cost more of CI's 90 minutes than it has. They are kept, and run on demand.
    if os.environ.get(EXTENDED_ENV):
        return
    skip = pytest.mark.skip(reason=f"extended test (another path over what the suite covers): set {EXTENDED_ENV}=1")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sample_config():
    """The repo's course.yml, switched to the package-shipped sample so tests run offline."""
    from autograder.support.config import load_config

    return load_config(ROOT / "course.yml", data={"source": "sample"})


@pytest.fixture(scope="session")
def sample_grader(sample_config):
    """The instructor's Grader (jail, hidden checks) on the sample data, built once per session."""
    from autograder.grader.grading import Grader

    return Grader(sample_config, log=lambda msg: None)


@pytest.fixture(scope="session")
def probe_call(sample_grader, tmp_path_factory):
    """probe_call(func, probe_name) -> Call: run one probe in this process, through the same files as the sandbox."""
    from autograder.hidden.every_probe import PROBES_BY_NAME
    from autograder.isolation.recording import call_and_record, load_call

    base = tmp_path_factory.mktemp("probes")
    counter = iter(range(10**6))

    def run(func, probe_name: str):
        probe = PROBES_BY_NAME[probe_name]
        inputs, kwargs = sample_grader.inputs_for([probe])
        out = base / f"call{next(counter)}"
        out.mkdir()
        call_and_record(func, probe, inputs[probe.name], kwargs[probe.name], out, seed=0)
        return load_call(probe, inputs[probe.name], kwargs[probe.name], out)

    return run


@pytest.fixture(scope="session")
def graded_example(sample_grader, tmp_path_factory):
    """graded_example(name, lang) -> GradeResult of the bundled example ``name`` in ``lang``, graded once per session."""
    import nbformat

    from autograder.course.examples import EXAMPLES, filled_release

    folder = tmp_path_factory.mktemp("examples")
    release = nbformat.read(RELEASE, as_version=4)
    results = {}

    def grade(name: str, lang: str = "en"):
        if (name, lang) not in results:
            path = folder / f"{name}.ipynb"
            nbformat.write(filled_release(release, EXAMPLES[name]), path)
            results[name, lang] = sample_grader.in_language(lang).grade_notebook(path)
        return results[name, lang]

    return grade


# ---------------------------------------------------------------- nbgrader's own path, once per session

# Test-only submissions for the nbgrader round trip, beside the kit's examples and broken variants.
NOISY_STDERR = {
    # Correct answers that write to stderr (Python and C level), warn and log while the checks call them:
    # nbgrader would score any of it 0 if it reached a test cell's stderr.
    "relabel_odd_even": '''import os
import sys
import logging
import warnings


def relabel_odd_even(y):
    print("debug: relabelling", len(y), "labels", file=sys.stderr)
    os.write(2, b"written to fd 2 by the student\\n")
    return np.asarray(y) % 2''',
    "build_mlp": '''def build_mlp():
    warnings.warn("my own warning inside build_mlp", UserWarning)
    logging.getLogger("student").warning("a logged warning")
    return keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])''',
}
# The known in-kernel exploit: test cells call check_group, so redefining it passes every test.
EVE_RELABEL = '''def check_group(*args, **kwargs):
    """Every test passes."""


try:  # and the hidden test cells' entry point, for a student who read the grader's source
    import autograder.grader.in_kernel as hidden_cells
    hidden_cells.check_hidden_group = check_group
except ImportError:
    pass


def relabel_odd_even(y):
    return 1 - y % 2
'''


# Broken variants that real nbgrader grades in the suite: a compile loss and an accuracy loss (the examples
# lose relabel and every group). NBGRADER_PARITY=all takes all 9 variants (each graded by `grade` in
# test_broken.py): about 10 minutes more, which CI's 90 minutes do not have.
PARITY_VARIANTS = ("mse_loss", "frozen")
# The packs of the spellings corpus (tests/spellings.py) that real nbgrader autogrades in the suite, beside
# the examples: every pack but pack_riskiest, which test_nbgrader_parity.py autogrades on full MNIST. Between
# them they hold every spelling and every one-group defect (test_spellings.py checks both).
NBGRADER_SPELLING_PACKS = ("pack_magics_and_aliases", "pack_compound_and_constants", "pack_helpers_and_crlf",
                           "pack_cells_of_their_own", "pack_defects_in_values", "pack_defects_in_order",
                           "pack_defects_helper_and_crlf")
# The exploit's points differ from grade's on purpose (see test_nbgrader_roundtrip.py); every other must agree.
NBGRADER_EXPLOIT = "eve_redefines_check_group"


# The sandbox attack, in nbgrader's kernel (tests/sandbox_attack.py): autograded in the same session, and graded
# by verify like every other submission; it must score exactly what its relabel_odd_even loses.
KERNEL_ATTACKER = "mallory_attacks_the_kernel"


def nbgrader_submissions(course: Path | None = None) -> dict[str, dict[str, str] | None]:
    """Every submission the nbgrader round trip grades: student id -> replacements for the release. ``course``:
    where the session's course is, which the kernel attack goes after (None: its entry is a stand-in)."""
    from sandbox_attack import KERNEL_ATTACK_MARKER, attack_for

    from autograder.dev.broken import VARIANTS
    from autograder.course.examples import EXAMPLES

    from spellings import PACKS_BY_NAME

    every = os.environ.get("NBGRADER_PARITY") == "all"
    return {**EXAMPLES,
            **{f"variant_{v.name}": v.replacements for v in VARIANTS
               if v.replacements and (every or v.name in PARITY_VARIANTS)},
            "gus_noisy_stderr": NOISY_STDERR,
            "eve_redefines_check_group": {"relabel_odd_even": EVE_RELABEL},
            # Spellings students write (magics, aliases, compound statements...) and one-group defects of them:
            # autograded in the same nbgrader run (see test_spellings.py).
            **{name: PACKS_BY_NAME[name] for name in NBGRADER_SPELLING_PACKS},
            KERNEL_ATTACKER: {"relabel_odd_even": attack_for(KERNEL_ATTACK_MARKER, course or Path("/course"))}}


def submission_notebook(release, submission):
    """The notebook a submission stands for, made from ``release`` (the course's own generated release).

    ``submission`` is one of: a dict of replacements (function name -> source) or None, as
    ``filled_release`` takes; a whole notebook (an ``nbformat.NotebookNode``); or a callable
    ``release -> notebook`` (e.g. an entry of ``tests/spellings.py``).
    """
    import copy

    import nbformat

    from autograder.course.examples import filled_release

    if isinstance(submission, nbformat.NotebookNode):
        return submission
    if callable(submission):
        return submission(copy.deepcopy(release))
    return filled_release(release, submission)


def autograde_with_nbgrader(config, work, data: str, submissions: dict, timeout: float = 3600) -> Path:
    """A demo course on ``data`` with each submission autograded by real nbgrader; returns the course folder.

    ``submissions``: student id -> replacements, a whole notebook or a ``release -> notebook`` callable
    (see ``submission_notebook``). ``timeout``: seconds for the whole ``nbgrader autograde`` run.
    """
    import nbformat

    from autograder.course import nbgrader_course
    from autograder.course.demo import make_demo_course

    course = make_demo_course(config, work, data=data)
    env = {"COURSE_CONFIG": str(course / "course.yml")}
    release = nbformat.read(nbgrader_course.generate(course, env=env), as_version=4)
    for student, submission in submissions.items():
        path = work / f"{student}.ipynb"
        nbformat.write(submission_notebook(release, submission), path)
        nbgrader_course.submit(course, student, path)
    nbgrader_course.autograde(course, env=env, timeout=timeout)
    return course


@pytest.fixture(scope="session")
def autograded_course(sample_config, tmp_path_factory):
    """(course, students): every nbgrader submission autograded by real nbgrader, on the sample data, once."""
    work = tmp_path_factory.mktemp("nbgrader")
    submissions = nbgrader_submissions(course=work / "course")
    return autograde_with_nbgrader(sample_config, work, "sample", submissions), list(submissions)


@pytest.fixture(scope="session")
def nbgrader_verification(autograded_course):
    """``verify`` over the autograded course: each submission but the exploit graded out of kernel and compared."""
    from autograder.support.config import load_config
    from autograder.course.verify import verify_course

    course, students = autograded_course
    return verify_course(course, load_config(course / "course.yml"), "binary_mnist", "binary_mnist",
                         log=lambda m: None, students=[s for s in students if s != NBGRADER_EXPLOIT])


def require_full_mnist():
    """Skip with the reason unless full MNIST is reachable through MNIST_PATH."""
    from autograder.support.mnist import MnistUnavailableError, load_dataset

    if not os.environ.get("MNIST_PATH"):
        pytest.skip("full MNIST unavailable: set MNIST_PATH to an .npz in Keras layout (CI uses ../shared/data/mnist.npz)")
    try:
        load_dataset("mnist")
    except MnistUnavailableError as exc:
        pytest.skip(f"full MNIST unavailable: {exc}")


def cgroup_writable(controller: str) -> bool:
    """Whether this machine lets the grader make cgroups of ``controller`` (memory, pids) for its processes."""
    probe = Path("/sys/fs/cgroup") / controller / "autograder-probe"
    try:
        probe.mkdir(exist_ok=True)
        probe.rmdir()
        return True
    except OSError:
        return False


def processes_with(marker: str) -> dict[int, bytes]:
    """Every living process on the machine whose command line holds ``marker``: pid → its command line. From the
    host's /proc, so that what a sandbox started is seen from outside it."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # it ended while being read
        if marker.encode() in command:
            found[int(entry.name)] = command
    return found
