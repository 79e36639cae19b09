"""nbgrader's kernel in the sandbox (``course.sandboxed_kernel``), asserted from inside the kernel: its uid, its
/proc, a read-only root, no capabilities, ``no_new_privs``, no route out, what of the course and the kit it sees;
then, from outside, that nothing of it is left once the kernel is shut down, and that it fails closed.

The kernel is started by nbclient as nbgrader's Execute starts it (``SandboxedExecute``'s manager class), on a
notebook that imports nothing heavy: seconds. The same notebook's attacks under real ``nbgrader autograde`` are in
tests/adversarial/test_sandbox_attacks.py.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from autograder.course.sandboxed_kernel import SandboxedExecute, SandboxedKernelManager
from autograder.isolation import jail
from autograder.isolation.bubblewrap import SandboxUnavailable
from conftest import processes_with
from repo_paths import ROOT

PROBE = r'''
import json, os, socket, subprocess, sys
seen = {"uid": os.getuid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
seen.update({k: status[k].strip() for k in ("CapEff", "CapBnd", "NoNewPrivs")})
def writable(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False
seen["writable"] = {p: writable(p) for p in ("/probe", "/usr/probe", "/etc/probe", "/tmp/probe", "probe",
                                            "COURSE/probe", "/course-settings/probe")}
seen["exists"] = {p: os.path.exists(p) for p in ("COURSE/course.yml", "COURSE/gradebook.db", "COURSE/submitted",
                                                 "/kit/autograder/grader/reference.py",
                                                 "/kit/autograder/course/examples.py",
                                                 "/kit/autograder/grader/in_kernel.py", "helper.txt", "linked.txt")}
seen["environment"] = sorted(os.environ)
# A user namespace of its own (CLONE_NEWUSER): the util-linux tool, as a student would try it.
seen["new_user_namespace"] = subprocess.run(["unshare", "--user", "true"], capture_output=True).returncode == 0
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2)
    seen["reached_the_host"] = True
except OSError:
    seen["reached_the_host"] = False
# A process that leaves the kernel's session and outlives its parent, to outlive the kernel.
subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); os.fork() or time.sleep(600)", "MARKER"])
print(json.dumps(seen))
'''


@pytest.fixture
def notebook_folder(tmp_path):
    """A course with the notebook's folder in it, as nbgrader's autograded/<student>/<assignment>/ is."""
    if problem := jail.sandbox_problem():
        pytest.skip(f"no sandbox on this machine: {problem}")
    course = tmp_path / "course"
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    folder = course / "autograded" / "ada" / "binary_mnist"
    folder.mkdir(parents=True)
    (course / "course.yml").write_text(yaml.safe_dump(raw))
    (course / "gradebook.db").write_bytes(b"SQLite format 3\x00")
    (course / "submitted").mkdir()
    (folder / "helper.txt").write_text("a file the student submitted beside the notebook")
    (folder / "linked.txt").symlink_to(course / "gradebook.db")
    return folder


class RememberedKernelManager(SandboxedKernelManager):
    """The manager, kept for the test to look at after nbclient let it go."""

    last: SandboxedKernelManager | None = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        RememberedKernelManager.last = self


def run_in_sandboxed_kernel(folder: Path, code: str) -> tuple[dict, SandboxedKernelManager]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = NotebookClient(notebook, kernel_manager_class=RememberedKernelManager, timeout=60,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    outputs = notebook.cells[0].outputs
    assert outputs and outputs[-1].get("name") == "stdout", outputs
    return json.loads(outputs[-1]["text"]), RememberedKernelManager.last


def test_the_kernel_runs_in_a_sandbox_that_holds_and_leaves_nothing(notebook_folder):
    course, marker = notebook_folder.parents[2], f"planted-{uuid.uuid4().hex[:12]}"
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    code = (PROBE.replace("COURSE", str(course)).replace("PORT", str(listening.getsockname()[1]))
            .replace("MARKER", marker))
    seen, manager = run_in_sandboxed_kernel(notebook_folder, code)
    listening.close()

    assert seen["uid"] not in (0, os.getuid()) and seen["uid"] == (jail.KERNEL_UID if os.getuid() == 0
                                                                   else jail.SANDBOX_UID), seen
    assert len(seen["pids"]) <= 4 and os.getpid() not in seen["pids"], f"other processes in sight: {seen['pids']}"
    assert seen["CapEff"] == "0000000000000000" and seen["NoNewPrivs"] == "1", seen
    assert seen["writable"] == {"/probe": False, "/usr/probe": False, "/etc/probe": False, "/tmp/probe": True,
                                "probe": True, f"{course}/probe": False, "/course-settings/probe": False}, seen
    assert seen["exists"] == {f"{course}/course.yml": False, f"{course}/gradebook.db": False,
                              f"{course}/submitted": False, "/kit/autograder/grader/reference.py": False,
                              "/kit/autograder/course/examples.py": False, "/kit/autograder/grader/in_kernel.py": True,
                              "helper.txt": True, "linked.txt": False}, seen
    assert not seen["reached_the_host"]
    assert seen["new_user_namespace"] is False, "the kernel can make a user namespace of its own"
    assert "MNIST_PATH" not in seen["environment"] or os.environ.get("MNIST_PATH") is None
    assert "JPY_PARENT_PID" not in seen["environment"]
    # nbclient shut the kernel down: nothing it started is alive, its folders and cgroups are gone.
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == {}, "a process the kernel started outlived it"
    assert not (notebook_folder / "probe").exists(), "the kernel wrote into the notebook's folder"
    assert manager._folder is None and manager._jailed is None
    leftovers = [p.name for p in Path("/tmp").glob(f"autograder-kernel-{os.getpid()}-*")]
    assert leftovers == [], leftovers


def open_to_everyone(path: Path) -> bool:
    return all(os.stat(folder).st_mode & 0o001 for folder in path.parents) and bool(os.stat(path).st_mode & 0o005)


def test_nbgraders_autograde_pipeline_has_the_sandboxed_execute_in_place_of_its_own():
    from traitlets.config import Config
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    config = Config()
    namespace = {"get_config": lambda: config, "__file__": str(ROOT / "nbgrader_config.py")}
    exec(compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"), namespace)
    steps = config.Autograde.autograde_preprocessors
    assert steps[0] is SandboxedExecute and Execute not in steps, steps
    assert steps[1:] == Autograde.class_traits()["autograde_preprocessors"].default()[1:]
    assert SandboxedExecute().kernel_manager_class is SandboxedKernelManager


def test_without_a_sandbox_the_kernel_does_not_start_and_says_why(notebook_folder, monkeypatch):
    monkeypatch.setattr(jail, "sandbox_problem", lambda: "bwrap: no user namespaces here")
    with pytest.raises(SandboxUnavailable, match="no user namespaces here.*limits.isolation: best_effort"):
        run_in_sandboxed_kernel(notebook_folder, "print('{}')")
    assert list(Path("/tmp").glob(f"autograder-kernel-{os.getpid()}-*")) == []


def test_a_course_that_accepts_less_runs_the_kernel_without_the_sandbox_but_never_as_the_grader(notebook_folder,
                                                                                               monkeypatch):
    if os.getuid() == 0 and not open_to_everyone(Path(sys.executable).resolve()):
        pytest.skip(f"without a sandbox the kernel runs as uid {jail.KERNEL_UID}, which cannot reach this Python "
                    f"({Path(sys.executable).resolve()}: a folder above it is closed to others)")
    config = notebook_folder.parents[2] / "course.yml"
    raw = yaml.safe_load(config.read_text())
    raw["limits"]["isolation"] = "best_effort"
    config.write_text(yaml.safe_dump(raw))
    monkeypatch.setattr(jail, "sandbox_problem", lambda: "bwrap: no user namespaces here")
    seen, _ = run_in_sandboxed_kernel(notebook_folder, "import json, os; print(json.dumps({'uid': os.getuid()}))")
    if os.getuid() == 0:
        assert seen["uid"] == jail.KERNEL_UID
    else:
        assert seen["uid"] == os.getuid()  # a normal user has no other uid to give: the course said so
