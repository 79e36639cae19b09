"""The jail: every process that runs a submission's code, or loads its models, starts here, inside bubblewrap.

``start_jailed`` starts one jailed process: ``jail_launcher`` (cgroups, rlimits, the sandbox's own uid) and
then ``bwrap`` (``isolation.bubblewrap``), which gives the process
  - its own PID namespace with its own ``/proc``: it sees no process but its own, and all of them die with it;
  - a root filesystem built from nothing, read-only: the system's folders, Python's installation, and the kit as
    ``/kit/autograder``. The submission's process gets the student wing and the four modules of its own runner
    only, so the solution, the lecture-style answers, the hidden probes, the calibration and the instructor
    wing are not mounted at all; the course folder never is. Its own work folder and a private ``/tmp`` are
    the only writable places;
  - no network (a network namespace with loopback only), no capabilities, ``no_new_privs``, a new session,
    no ``/sys`` (so no cgroup filesystem), and no further user namespaces;
  - never root. Where the grader runs as root, bubblewrap runs as root too (no user namespace) and the jailed
    command's first step, the launcher's ``--become``, gives root up for a uid of the kit's own, the same inside
    and outside: one for the submission's process and another for the model process (``SUBMISSION_UID``,
    ``MODELS_UID``), so neither could open the other's ``/proc`` even if a namespace failed. As a normal user,
    bubblewrap makes a user namespace in which the process is uid 65534 (the instructor's uid outside), and
    separate PID namespaces keep processes apart.

The grader learns what was in force from the status pipe that the launcher and bubblewrap write to (an fd
closed inside the sandbox), never from a file the jailed process could write. ``JailedProcess.end`` ends
everything the process started: killing bubblewrap kills the PID namespace's init, and with it every process in
the namespace, whatever the student did to its process group or parent-death signal; where the grader made
cgroups, it kills what is left in them too and removes them.

Where no sandbox can be built (no bubblewrap, or no user namespaces), ``require_sandbox`` refuses to run
untrusted code unless the course says ``limits.isolation: best_effort``; the process then runs as the
unprivileged uid (when the grader is root) under rlimits and cgroups, and the result says what was missing.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from autograder.isolation.bubblewrap import SandboxUnavailable, bubblewrap

CGROUP_ROOT = Path("/sys/fs/cgroup")
LAUNCHER = Path(__file__).resolve().with_name("jail_launcher.py")
PACKAGE = Path(__file__).resolve().parent.parent
# Where the kit appears inside the sandbox (on the jailed process's PYTHONPATH).
KIT_IN_SANDBOX = "/kit"
# The uid inside every sandbox: never root.
SANDBOX_UID = 65534
# Outside the sandbox, where the grader runs as root: unprivileged uids of the kit's own, not in /etc/passwd,
# owning nothing on the machine but the work folders the grader hands to them.
SUBMISSION_UID, MODELS_UID, KERNEL_UID = 64190, 64191, 64192
# The system's folders every jailed process needs (read-only); a symlink (merged /usr) is kept a symlink.
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# The submission's runner: what its process imports outside the student wing (every grading in the tests runs
# the child from these alone, so a missing one fails them all).
SUBMISSION_RUNNER = ("isolation/__init__.py", "isolation/child.py", "isolation/recording.py",
                     "isolation/untrusted_files.py")
# The student wing, as the student kit ships it: the package's entry points and its student subpackages.
STUDENT_WING_FOLDERS = ("checks", "evidence", "expected", "engine", "messages", "support", "locale")
STUDENT_WING_FILES = ("__init__.py", "notebook.py", "fit_summary.py", "pytest_options.py")
# The model process runs the grader's own checks: the student wing, the hidden checks and its own runner; never
# the grader's pipeline, the reference solution (grader/) or the lecture-style answers (course/).
MODELS_KIT_FOLDERS = ("hidden", "isolation")
# nbgrader's kernel runs the student's code and the course's test cells, visible and hidden, in one process (that
# is nbgrader's design): the student wing, the hidden checks and the in-kernel grader they call, which reads the
# calibration's thresholds; never the reference solution (grader/reference.py) or the lecture-style answers.
KERNEL_KIT = ("hidden", "isolation", "grader/__init__.py", "grader/in_kernel.py", "grader/grading.py",
              "grader/calibration.py", "grader/training_cache.py")
PRIVATE_TMP_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Role:
    """Who a jailed process is: what of the kit it sees, and which uid it runs as outside when the grader is root."""

    name: str
    uid: int
    kit: tuple[str, ...]  # paths in the package


def _submission_kit() -> tuple[str, ...]:
    return tuple(p for p in (*STUDENT_WING_FOLDERS, *STUDENT_WING_FILES, *SUBMISSION_RUNNER) if (PACKAGE / p).exists())


def _models_kit() -> tuple[str, ...]:
    return tuple(p for p in (*STUDENT_WING_FOLDERS, *STUDENT_WING_FILES, *MODELS_KIT_FOLDERS) if (PACKAGE / p).exists())


def _kernel_kit() -> tuple[str, ...]:
    return tuple(p for p in (*STUDENT_WING_FOLDERS, *STUDENT_WING_FILES, *KERNEL_KIT) if (PACKAGE / p).exists())


SUBMISSION = Role("submission", SUBMISSION_UID, _submission_kit())
MODELS = Role("models", MODELS_UID, _models_kit())
KERNEL = Role("kernel", KERNEL_UID, _kernel_kit())


def grader_is_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=None)
def kit_copy(role: Role) -> Path:
    """The role's part of the kit, copied once per grader process into a folder only the role's uid can read: what
    its sandbox mounts as /kit, and, where no sandbox can be built (best effort), its PYTHONPATH. So the installed
    kit (with the reference solution) may be closed to everyone but the grader: Gradescope's setup.sh closes it,
    since without namespaces a submission would otherwise read it. Compiled files come along (same mtimes)."""
    import atexit
    import shutil

    sweep_leftovers()
    folder = Path(tempfile.mkdtemp(prefix=owned_prefix(f"kit-{role.name}")))
    atexit.register(shutil.rmtree, folder, True)
    for path in role.kit:
        source, target = PACKAGE / path, folder / "autograder" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, copy_function=shutil.copy2)
        else:
            shutil.copy2(source, target)
    for inside in [folder, *folder.rglob("*")]:
        os.chmod(inside, 0o700 if inside == folder else 0o755 if inside.is_dir() else 0o644)
        if grader_is_root():
            os.chown(inside, role.uid, role.uid)
    return folder


# ---------------------------------------------------------------- what a killed grader leaves, swept by the next

# An empty cgroup of the kit's younger than this may be one a launcher made and is about to join.
CGROUP_SWEEP_AGE_S = 60.0
# The controllers the launcher puts each jailed process in (jail_launcher.join_cgroups).
CGROUP_CONTROLLERS = ("pids", "memory")


def owned_prefix(kind: str) -> str:
    """The prefix of a temp folder of the grader's that outlives this process only if it is killed: it names the
    process, so that the next grader can tell a dead one's folder (``sweep_leftovers``)."""
    return f"autograder-{kind}-{os.getpid()}-"


def cgroup_prefix(owner: int | None = None) -> str:
    """The prefix of the cgroups of the jailed processes that grader process ``owner`` (default: this one) started:
    whoever ends that process (a pool replacing its worker, the next run) ends its jails by this name."""
    return f"autograder-{os.getpid() if owner is None else owner}-"


_OWNED_FOLDER = re.compile(r"autograder-(?:kit-\w+|models|work|kernel)-(\d+)-")
_OWNED_CGROUP = re.compile(r"autograder-(\d+)-[0-9a-f]+$")


def end_jails_of(owner: int) -> list[str]:
    """Kill every jailed process that grader process ``owner`` started, through their cgroups (whatever became of
    their process groups and sessions), and remove those cgroups and its temp folders. For a grader process that
    is dead or about to die: a pool's worker it kills, a worker whose coordinator died, or a killed run's leftovers.
    Returns what it removed."""
    import shutil

    removed = []
    for name in sorted({g.name for c in CGROUP_CONTROLLERS for g in (CGROUP_ROOT / c).glob(cgroup_prefix(owner) + "*")}):
        kill_cgroup(name)
        removed.append(name)
    for folder in Path(tempfile.gettempdir()).glob("autograder-*"):
        match = _OWNED_FOLDER.match(folder.name)
        if match and int(match.group(1)) == owner and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


@functools.lru_cache(maxsize=1)
def sweep_leftovers() -> list[str]:
    """Remove what killed graders left (once per process, before its first jailed process): the temp folders and
    cgroups whose owner (``owned_prefix``, ``cgroup_prefix``) is no longer alive, with every process still in those
    cgroups, and the kit's other empty cgroups older than a minute. Returns them."""
    import shutil

    removed = []
    for folder in Path(tempfile.gettempdir()).glob("autograder-*"):
        match = _OWNED_FOLDER.match(folder.name)
        if match and folder.is_dir() and not folder.is_symlink() and not _alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    for group in CGROUP_ROOT.glob("*/autograder-*"):
        owner = _OWNED_CGROUP.match(group.name)
        if owner and not _alive(int(owner.group(1))):
            kill_cgroup(group.name)  # a dead grader's jail: nothing of the grader waits for what runs in it
            removed.append(str(group))
            continue
        try:
            if (group / "cgroup.procs").read_text().strip() or time.time() - group.stat().st_mtime < CGROUP_SWEEP_AGE_S:
                continue
            group.rmdir()
            removed.append(str(group))
        except OSError:
            continue  # not ours to remove, or in use after all
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def child_environment(workdir: Path, limits) -> dict[str, str]:
    """A minimal environment: no secrets, no MNIST_PATH or course paths, threads capped."""
    threads = str(limits.cpu_threads)
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir / "tmp"),
            "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(workdir / "tmp"),
            "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1",
            "KERAS_HOME": str(workdir / "keras"), "USER": "student", "LOGNAME": "student",
            "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads, "PYTHONPATH": KIT_IN_SANDBOX,
            **{k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}}


# ---------------------------------------------------------------- what the sandbox holds

def _outermost(paths) -> list[Path]:
    unique = {Path(p) for p in paths}
    return sorted(p for p in unique if not any(o != p and o in p.parents for o in unique))


def python_folders() -> list[Path]:
    """Python's installation and its packages (read-only): prefixes and site folders outside /usr."""
    import site

    candidates = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
                  Path(sys.executable).resolve().parent.parent}
    candidates.update(Path(p) for p in site.getsitepackages())
    kept = [p for p in candidates if p.is_dir() and not any(p == Path(s) or Path(s) in p.parents
                                                            for s in SYSTEM_FOLDERS if not Path(s).is_symlink())]
    return _outermost(kept)


def _mounts(role: Role, workdir: Path, readable: tuple[Path, ...],
            writable: tuple[Path, ...] = ()) -> list[list[str]]:
    """bubblewrap's mounts, in order: each later one lies on top of the earlier ones. The private /tmp comes first,
    so that Python or the kit installed under /tmp (a clone in /tmp, as CI's may be) is bound on top of it."""
    mounts: list[list[str]] = [["--proc", "/proc"], ["--dev", "/dev"],
                               ["--size", str(PRIVATE_TMP_BYTES), "--perms", "1777", "--tmpfs", "/tmp"]]
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):
            mounts.append(["--symlink", os.readlink(folder), folder])
        elif os.path.isdir(folder):
            mounts.append(["ro-bind", folder, folder])
    pythons = python_folders()
    mounts += [["ro-bind", str(p), str(p)] for p in pythons]
    # The kit where pip installed it (site-packages, or the course folder for an editable install) stays unseen:
    # the sandbox sees its own copy under /kit only.
    if any(p == PACKAGE or p in PACKAGE.parents for p in pythons):
        mounts.append(["--tmpfs", str(PACKAGE)])
    mounts.append(["ro-bind", str(kit_copy(role) / "autograder"), f"{KIT_IN_SANDBOX}/autograder"])
    if grader_is_root():
        mounts.append(["ro-bind", str(LAUNCHER), f"{KIT_IN_SANDBOX}/jail_launcher.py"])
    mounts += [["ro-bind", str(source), str(inside)] for source, inside in map(_bound_at, readable)]
    mounts += [["bind", str(p), str(p)] for p in (*writable, workdir)] + [["--remount-ro", "/"]]
    return _with_open_parents(mounts)


def _bound_at(path) -> tuple[Path, Path]:
    """A readable path and where the sandbox sees it: the same path, unless given as a pair (source, inside)."""
    return (Path(path[0]), Path(path[1])) if isinstance(path, tuple) else (Path(path), Path(path))


def _with_open_parents(mounts: list[list[str]]) -> list[list[str]]:
    """Each bind's parent folders made first, mode 0755: bubblewrap makes missing ones 0700 as root, which the
    sandbox's own uid could not pass."""
    made = {"/"}
    result = []
    for mount in mounts:
        if mount[0] in ("ro-bind", "bind", "--symlink") or mount[-2:-1] == ["--tmpfs"]:
            destination = mount[-1]
            for parent in reversed(Path(destination).parents):
                if str(parent) not in made:
                    result.append(["--perms", "0755", "--dir", str(parent)])
                    made.add(str(parent))
            made.add(destination)
        result.append(mount)
    return result


def _bwrap_options(workdir: Path, network_off: bool) -> list[str]:
    options = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               *(["--unshare-net"] if network_off else []), "--die-with-parent", "--new-session",
               "--hostname", "sandbox", "--chdir", str(workdir)]
    if grader_is_root():
        # bubblewrap runs as root (Python may live where only root can look, /root/.pyenv), with no user namespace,
        # so that the uid outside is the role's own; the launcher's ``--become`` gives root up inside, first.
        return options
    options += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--cap-drop", "ALL"]
    if bubblewrap().supports("--disable-userns"):
        options.append("--disable-userns")
    return options


def _seccomp_text() -> str | None:
    """The syscall filter for the launcher to hand bubblewrap (``syscall_filter``), as text for its JSON spec."""
    import base64

    from autograder.isolation.syscall_filter import seccomp_program

    program = seccomp_program()
    return base64.b64encode(program).decode("ascii") if program else None


def _disables_userns() -> bool:
    """bubblewrap itself refuses new user namespaces inside its own (not as root: see ``_bwrap_options``)."""
    return not grader_is_root() and bubblewrap().supports("--disable-userns")


def _sandboxed_command(role: Role, command: list[str]) -> list[str]:
    if not grader_is_root():
        return list(command)
    return [sys.executable, "-I", "-S", f"{KIT_IN_SANDBOX}/jail_launcher.py", "--become", str(role.uid), "--", *command]


# ---------------------------------------------------------------- can a sandbox be built here?

@functools.lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """Why no sandbox can be built on this machine (None: it can), found by building one around ``true``."""
    try:
        tool = bubblewrap()
    except SandboxUnavailable as exc:
        return str(exc)
    with tempfile.TemporaryDirectory(prefix="autograder-probe-") as work:
        work = Path(work)
        try:
            jailed = start_jailed(SUBMISSION, [sys.executable, "-I", "-S", "-c", "pass"], work, ProbeLimits(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, use_sandbox=True)
        except OSError as exc:
            return f"the sandbox could not start ({exc})"
        try:
            _, error = jailed.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            error = b"it did not finish within 60 s"
        jailed.end()
    if jailed.proc.returncode == 0 and jailed.status.namespaces:
        return None
    said = (error or b"").decode("utf-8", "replace").strip().splitlines()
    needs = ("as root, mount and PID namespaces (CAP_SYS_ADMIN: a container needs --cap-add SYS_ADMIN, or "
             "--privileged)" if grader_is_root() else "unprivileged user namespaces (sysctl "
             "kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; a container must allow them)")
    return (f"{tool.path} ({tool.version}) could not build a sandbox here: {said[-1] if said else 'no reason given'}. "
            f"It needs {needs}")


@dataclass(frozen=True)
class ProbeLimits:
    """Small limits of the kit's own, independent of any course: for the probe that checks the sandbox builds here
    (and the tests and the benchmark that start a jailed process outside a grading)."""
    memory_limit_mb: int = 1024
    file_size_limit_mb: int = 16
    max_processes: int = 64
    cpu_threads: int = 1
    network: str = "off"
    isolation: str = "required"


def require_sandbox(limits) -> str | None:
    """Refuse untrusted code where no sandbox can be built, unless the course accepts less on purpose.

    Returns what is missing (None when the sandbox works); raises ``SandboxUnavailable`` with the reason and
    the way out when ``limits.isolation`` is ``required``."""
    problem = sandbox_problem()
    if problem and getattr(limits, "isolation", "required") == "required":
        raise SandboxUnavailable(
            f"the grader will not run a student's code without its sandbox: {problem}. To grade with less "
            "isolation on purpose (rlimits, cgroups and an unprivileged uid only), set `limits.isolation: "
            "best_effort` in course.yml.")
    return problem


# ---------------------------------------------------------------- one jailed process

@dataclass
class SandboxStatus:
    """What the launcher and bubblewrap said on the status pipe: the grader's own record of what was in force."""

    launcher: dict = field(default_factory=dict)
    namespaces: dict = field(default_factory=dict)
    exit_code: int | None = None
    # When the grader started the launcher, and when bubblewrap said the jailed command was started (monotonic).
    launched_at: float = field(default_factory=time.monotonic)
    sandboxed_at: float | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _started: threading.Event = field(default_factory=threading.Event, repr=False)

    def read(self, pipe) -> None:
        decoder, text = json.JSONDecoder(), ""
        for chunk in iter(lambda: os.read(pipe, 4096), b""):
            text += chunk.decode("utf-8", "replace")
            while text.strip():
                try:
                    document, end = decoder.raw_decode(text.lstrip())
                except ValueError:
                    break
                text = text.lstrip()[end:]
                if not isinstance(document, dict):
                    continue
                if isinstance(document.get("launcher"), dict):
                    self.launcher = document["launcher"]
                    if not self.launcher.get("sandbox"):
                        self._started.set()
                elif "child-pid" in document:
                    self.sandboxed_at = time.monotonic()
                    self.namespaces = {k.removesuffix("-namespace"): v for k, v in document.items()
                                       if k.endswith("-namespace")}
                    self._started.set()
                elif "exit-code" in document:
                    self.exit_code = document["exit-code"]
        os.close(pipe)
        self._started.set()
        self._done.set()

    def wait_started(self, timeout: float) -> None:
        self._started.wait(timeout)

    @property
    def startup_s(self) -> float | None:
        """Seconds from starting the launcher to the jailed command's start in its sandbox (None without one)."""
        return None if self.sandboxed_at is None else self.sandboxed_at - self.launched_at


# Signals that none of a jailed process's own limits sends (its cell interrupt is SIGALRM, its file-size limit
# SIGXFSZ, its address-space limit an abort; its memory cgroup's OOM killer's SIGKILL is told apart by the cgroup).
SIGNALS_FROM_OUTSIDE = (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT)


@dataclass
class JailedProcess:
    proc: subprocess.Popen
    role: Role
    cgroup_name: str | None
    status: SandboxStatus
    network_off: bool
    _reader: threading.Thread | None = None

    def protections(self, timeout: float = 10.0) -> dict:
        """What was in force for this process, from the status pipe only (never from its work folder)."""
        self.status.wait_started(timeout)
        launcher, namespaces = self.status.launcher, self.status.namespaces
        sandboxed = bool(launcher.get("sandbox")) and "mnt" in namespaces
        uid = launcher.get("uid")
        return {"sandbox": bubblewrap().version if sandboxed else None,
                "network": "off" if self.network_off and "net" in namespaces else "on",
                "hidden": sandboxed, "pid_namespace": "pid" in namespaces, "cgroups": list(launcher.get("cgroups", [])),
                "capabilities_dropped": sandboxed or (isinstance(uid, int) and uid != 0),
                "uid": uid if isinstance(uid, int) else None,
                "user_namespaces": "refused" if sandboxed and (launcher.get("syscall_filter") or _disables_userns())
                else "allowed"}

    def killed_from_outside(self, returncode: int | None = None) -> str | None:
        """Why the ended process was killed from outside the grader, or None when it was not: it died of a signal
        that none of its own limits sends (``SIGNALS_FROM_OUTSIDE``) and its memory cgroup records no out-of-memory
        kill of its own limit. Ask before ``end``, which removes the cgroup, and only about an end the grader did not
        cause (its own time limits kill too). bubblewrap reports a child killed by signal N as exit code 128+N (on
        the status pipe, and as its own status); where bubblewrap itself was killed, its status is -N."""
        code = self.proc.returncode if returncode is None else returncode
        self.status._done.wait(2.0)  # bubblewrap writes the child's status just before it exits
        sandboxed = bool(self.status.launcher.get("sandbox"))
        if code is not None and code < 0:
            number = -code
        elif sandboxed and isinstance(self.status.exit_code, int) and self.status.exit_code > 128:
            number = self.status.exit_code - 128
        elif sandboxed and code is not None and code > 128:
            number = code - 128
        else:
            return None
        if number not in SIGNALS_FROM_OUTSIDE or self.ran_out_of_its_memory():
            return None
        name = signal.Signals(number).name
        return (f"{name} from outside the grader, not from the process's own limits"
                + (" (its memory cgroup records no out-of-memory kill)" if self.cgroup_name else ""))

    def ran_out_of_its_memory(self) -> bool:
        """Whether its memory cgroup's own limit killed a process of it: the kernel's OOM killer ran in it
        (``oom_kill``) after its usage reached the limit (``failcnt``); a kill by the host's OOM killer counts in
        ``oom_kill`` only."""
        if not self.cgroup_name:
            return False
        group = CGROUP_ROOT / "memory" / self.cgroup_name
        try:
            control = (group / "memory.oom_control").read_text()
            failures = int((group / "memory.failcnt").read_text().strip() or 0)
        except (OSError, ValueError):
            return False
        counts = dict(line.split() for line in control.splitlines() if len(line.split()) == 2)
        return (counts.get("oom_kill", "0") != "0" or counts.get("under_oom", "0") != "0") and failures > 0

    def end(self) -> None:
        """End the process and everything it started: bubblewrap (its PID namespace dies with it), then whatever
        is left in its cgroups, which are removed."""
        try:
            self.proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        if self.cgroup_name:
            kill_cgroup(self.cgroup_name)
        if self._reader is not None:
            self._reader.join(timeout=5)


def kill_cgroup(name: str, patience_s: float = 5.0) -> None:
    """Kill every process left in the jail's cgroups named ``name``, then remove them: the grader's own name,
    never one read back from a folder the jailed process could write."""
    deadline = time.monotonic() + patience_s
    for controller in CGROUP_CONTROLLERS:
        group = CGROUP_ROOT / controller / name
        while group.is_dir():
            try:
                pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                group.rmdir()
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)


# The folders in a work folder that the grader makes for the jailed process to write in.
GRADERS_FOLDERS = ("out", "tmp", "keras")


def hand_over(workdir: Path, role: Role, readable_by_others: bool = False) -> None:
    """Give the work folder and the grader's folders in it to the role's uid, where the grader is root; files the
    grader wrote there stay the grader's and readable. ``readable_by_others``: the model process reads it too.

    Only those folders, by name and never through a symlink: the jailed process may have planted links in its
    work folder, and a chown that followed one would hand it a folder of the machine's."""
    if not grader_is_root():
        return
    import stat

    for folder in [workdir, *(workdir / name for name in GRADERS_FOLDERS)]:
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                continue
        except FileNotFoundError:
            continue
        os.chown(folder, role.uid, role.uid, follow_symlinks=False)
        os.chmod(folder, 0o755 if readable_by_others else 0o700, follow_symlinks=False)


@dataclass
class JailLaunch:
    """A jailed process ready to start: the launcher's command line, and the status pipe whose write end it must
    inherit. ``start_jailed`` starts it with Popen; nbgrader's kernels start it through Jupyter's own launcher
    (``course.sandboxed_kernel``). Either way, ``started`` must follow at once."""

    argv: list[str]
    status_fd: int  # the write end, for the launcher only (Popen's pass_fds)
    role: Role
    cgroup_name: str | None
    network_off: bool
    status: SandboxStatus = field(default_factory=SandboxStatus)
    _read_end: int = -1

    def started(self, proc: subprocess.Popen) -> JailedProcess:
        """The grader's end of the status pipe, once the launcher holds its own copy of the write end."""
        os.close(self.status_fd)
        reader = threading.Thread(target=self.status.read, args=(self._read_end,), daemon=True)
        reader.start()
        return JailedProcess(proc, self.role, self.cgroup_name, self.status, self.network_off, reader)

    def abandoned(self) -> None:
        """The launcher never started: close both ends of the status pipe."""
        for fd in (self.status_fd, self._read_end):
            try:
                os.close(fd)
            except OSError:
                pass


def prepare_jailed(role: Role, command: list[str], workdir: Path, limits, *, memory_bytes: int | None = None,
                   readable: tuple = (), writable: tuple[Path, ...] = (), use_sandbox: bool | None = None,
                   environment: dict[str, str] | None = None) -> JailLaunch:
    """Everything ``start_jailed`` does before it starts the launcher (see there). ``readable`` may also hold
    (path, path inside the sandbox) pairs; ``writable``: folders it may write besides its work folder (nbgrader's
    kernel: its ZeroMQ sockets); ``environment``: variables on top of ``child_environment``'s."""
    workdir = Path(workdir).resolve()
    (workdir / "tmp").mkdir(exist_ok=True)
    # The submission's saved models are read by the model process, which runs as another uid.
    hand_over(workdir, role, readable_by_others=role is SUBMISSION)
    if use_sandbox is None:
        use_sandbox = require_sandbox(limits) is None
    network_off = limits.network == "off" and use_sandbox
    cgroup_name = f"{cgroup_prefix()}{uuid.uuid4().hex[:12]}" if grader_is_root() else None
    memory_bytes = memory_bytes or limits.memory_limit_mb * 2**20
    env = {**child_environment(workdir, limits), **(environment or {})}
    if not use_sandbox:  # no /kit without a sandbox: the role's own copy of the kit instead
        env["PYTHONPATH"] = str(kit_copy(role))
    spec = {
        "workdir": str(workdir), "command": _sandboxed_command(role, command) if use_sandbox else command,
        "env": env,
        "uid": role.uid if grader_is_root() else None,
        "cgroup": {"name": cgroup_name, "memory_bytes": memory_bytes, "max_processes": limits.max_processes}
        if cgroup_name else None,
        "rlimits": {"address_space": limits.memory_limit_mb * 2**20, "file": limits.file_size_limit_mb * 2**20,
                    "processes": limits.max_processes},
        "bwrap": str(bubblewrap().path) if use_sandbox else None,
        "bwrap_options": _bwrap_options(workdir, network_off) if use_sandbox else [],
        "mounts": _mounts(role, workdir, tuple(readable), tuple(writable)) if use_sandbox else [],
        "seccomp": _seccomp_text() if use_sandbox else None,
    }
    read_end, write_end = os.pipe()
    spec["status_fd"] = write_end
    return JailLaunch([sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec)], write_end, role, cgroup_name,
                      network_off, _read_end=read_end)


def start_jailed(role: Role, command: list[str], workdir: Path, limits, *, stdin=subprocess.DEVNULL,
                 stdout=None, stderr=None, memory_bytes: int | None = None, readable: tuple[Path, ...] = (),
                 use_sandbox: bool | None = None) -> JailedProcess:
    """Start ``command`` in ``workdir`` inside the jail, as ``role``. ``readable``: folders it may read besides its
    own (the model process reads the submissions' saved models). ``memory_bytes``: its memory cgroup's limit
    (default: ``limits.memory_limit_mb``), its address space always ``limits.memory_limit_mb``."""
    launch = prepare_jailed(role, command, workdir, limits, memory_bytes=memory_bytes, readable=readable,
                            use_sandbox=use_sandbox)
    try:
        proc = subprocess.Popen(launch.argv, cwd="/", stdin=stdin, stdout=stdout, stderr=stderr,
                                env={"LANG": "C.UTF-8"}, pass_fds=(launch.status_fd,), start_new_session=True)
    except BaseException:
        launch.abandoned()
        raise
    return launch.started(proc)
