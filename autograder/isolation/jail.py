"""The jail: how the grader sets a jailed process up, and the launcher that runs as that process's first code.

The grader's side, used by ``autograder.isolation.sandbox`` (the submission's process) and
``autograder.isolation.model_process`` (the grader's bounded process for the submission's models):
``namespaces_available`` (whether ``unshare`` works here), ``jail_settings`` (the spec: what to hide and make
read-only, the limits, the scrubbed environment of ``child_environment``), ``jailed_command`` and
``jail_environment`` (how to start the launcher), and ``remove_cgroups`` (the clean-up after it).

The launcher, ``main``: ``python -m autograder.isolation.jail SPEC.json`` (or ``-``: the spec is the first
line of stdin, so that it never lies on disk where other code could change it), under ``unshare --net --mount
--pid --fork`` when the machine allows it. In order, because each step needs the privileges that the next
one gives up:
  1. give it a temp folder of its own (other gradings' work folders and the grader's are out of
     sight), make the grader's code, the Python installation and the course read-only, and hide the
     course's private paths (solutions, calibration, other submissions, the gradebook, the
     reference solution) behind empty mounts, only inside this mount namespace;
  2. move itself into fresh cgroups capping memory and the number of processes, where the
     machine has writable cgroups;
  3. set resource limits (address space, file size, no core dumps; processes when not root);
  4. exec the child with no capabilities at all (``setpriv``), so that student code can neither
     undo the mounts nor raise the limits.

The launcher is the first code of every jailed process, so this module imports at its top only what the
launcher needs: nothing of ``autograder`` and not ``typing``; the grader's side imports ``tempfile`` and ``uuid``
where it uses them. Measured with ``python -X importtime``, importing this module takes about 12 ms with both
halves, against 11 ms for the launcher alone; with those three at the top it took about 4 ms more."""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

# ``Limits`` in the annotations below is ``autograder.support.config.Limits``, never imported here: annotations are not
# evaluated, and the launcher imports nothing of autograder.
CGROUP_ROOT = Path("/sys/fs/cgroup")
# The folder that holds the autograder package: on the jailed process's PYTHONPATH, never hidden from it.
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)


# ---------------------------------------------------------------- the grader's side: setting a jailed process up

@functools.lru_cache(maxsize=1)
def namespaces_available() -> bool:
    """Whether ``unshare`` can give the submission its own network, mount and PID namespaces here."""
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    try:
        return subprocess.run([unshare, "--net", "--mount", "--pid", "--fork", "--kill-child", "true"],
                              capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def child_environment(workdir: Path, limits: Limits) -> dict[str, str]:
    """A minimal environment: no secrets, no MNIST_PATH or course paths, threads capped."""
    threads = str(limits.cpu_threads)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "TMPDIR": str(workdir / "tmp"),
           "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(workdir / "tmp"),
           "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "KERAS_HOME": str(workdir / "keras"),
           "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
           "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
           "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
    if os.environ.get("VIRTUAL_ENV"):
        env["VIRTUAL_ENV"] = os.environ["VIRTUAL_ENV"]
    return env


def jail_settings(workdir: Path, limits: Limits, course_root: Path | None, namespaces: bool,
                  module: str = "autograder.isolation.child", memory_bytes: int | None = None,
                  report_to_file: bool = True, shared: tuple[Path, ...] = ()) -> dict:
    """The jail's spec for a process running ``module`` in ``workdir``; its memory cgroup gets
    ``memory_bytes`` (default: the submission's ``limits.memory_limit_mb``), its address space that limit.
    Without ``report_to_file`` the jail reports on the first line of the process's stdout instead. ``shared``:
    folders in the temp folder the process needs besides its own work folder."""
    import uuid  # the grader's side only: the launcher below never needs it

    hidden = [(Path(course_root) / p).resolve() for p in limits.hidden_paths] if course_root else []
    # Never hide what the submission's process itself needs to run.
    needed = [Path(_PACKAGE_PARENT), Path(sys.prefix), workdir.resolve()]
    hidden = [h for h in hidden if h.exists() and not any(n == h or h in n.parents for n in needed)]
    # The reference solution ships inside the package; the submission's process never needs it.
    hidden.append(Path(__file__).resolve().parent.parent / "grader" / "reference.py")
    (workdir / "tmp").mkdir(exist_ok=True)
    return {
        "workdir": str(workdir), "namespaces": namespaces, "network": "off" if namespaces and limits.network == "off" else "on",
        "readonly": _readonly_paths(course_root, workdir),
        "hide_dirs": [str(h) for h in hidden if h.is_dir()], "hide_files": [str(h) for h in hidden if h.is_file()],
        **_private_temp_folder(workdir, shared),
        "cgroup_name": f"autograder-{uuid.uuid4().hex[:12]}",
        "module": module, "memory_bytes": memory_bytes or limits.memory_limit_mb * 2**20,
        "address_space_bytes": limits.memory_limit_mb * 2**20, "file_bytes": limits.file_size_limit_mb * 2**20,
        "max_processes": limits.max_processes, "env": child_environment(workdir, limits),
        "report": str(workdir / "jail-report.json") if report_to_file else None,
    }


def _private_temp_folder(workdir: Path, shared: tuple[Path, ...] = ()) -> dict:
    """The shared temp folder the jail covers with an empty one, and what it puts back there.

    Every grading's work folder lies in it (and the grader's models' process's, and grade-all's other workers'),
    so without this a submission could read the notebook and outputs of another submission graded at the same
    time. Only the process's own work folder (and ``shared``) comes back, and the grader's code and Python when
    they lie there.
    """
    import tempfile  # the grader's side only: the launcher below never needs it

    temp = Path(tempfile.gettempdir()).resolve()
    work = workdir.resolve()
    if temp == Path(temp.anchor) or temp not in work.parents:
        return {"private_tmp": None, "keep_in_tmp": []}
    needed = {work, Path(_PACKAGE_PARENT).resolve(), Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
              *(Path(p).resolve() for p in shared)}
    inside = [p for p in needed if temp in p.parents]
    keep = sorted(p for p in inside if not any(o != p and o in p.parents for o in inside))
    return {"private_tmp": str(temp), "keep_in_tmp": [str(p) for p in keep]}


def _readonly_paths(course_root: Path | None, workdir: Path) -> list[str]:
    """Folders the submission must not change: the grader's package, Python's installation, the course."""
    candidates = {Path(_PACKAGE_PARENT), Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    if course_root:
        candidates.add(Path(course_root).resolve())
    work = workdir.resolve()
    # Outermost folders only, and never one that holds the work folder (the child writes there).
    kept = sorted(p for p in candidates if p.exists() and not any(o != p and o in p.parents for o in candidates))
    return [str(p) for p in kept if p != work and p not in work.parents]


def jailed_command(spec: Path | str, limits: Limits, namespaces: bool) -> list[str]:
    """The command that starts the jail on ``spec`` (a file, or ``-``: stdin's first line), under ``unshare``
    where namespaces work."""
    command = [sys.executable, "-m", "autograder.isolation.jail", str(spec)]
    if namespaces:
        # Its own network (none), mounts (private paths hidden) and PIDs (all die with it).
        net = ["--net"] if limits.network == "off" else []
        command = ["unshare", *net, "--mount", "--pid", "--fork", "--kill-child", "--", *command]
    return command


def jail_environment(workdir: Path, limits: Limits) -> dict[str, str]:
    """The jail's own environment (it passes the child's scrubbed one on from the spec)."""
    return dict(child_environment(workdir, limits), PYTHONPATH=_PACKAGE_PARENT)


def remove_cgroups(name: str) -> None:
    """Remove the jail's cgroups named ``name``: the name the grader chose, never one read back from a work
    folder that the jailed process could have rewritten."""
    for controller in ("memory", "pids"):
        try:
            (CGROUP_ROOT / controller / name).rmdir()
        except OSError:
            pass


# ---------------------------------------------------------------- the launcher: the jailed process's first code


# Room for what student code writes to the temp folder itself (its TMPDIR is in its own work folder).
PRIVATE_TMP_SIZE = "64m"
_MS_BIND, _MS_REC = 4096, 16384


def protect_paths(readonly: list[str], directories: list[str], files: list[str],
                  private_tmp: str | None = None, keep_in_tmp: list[str] = ()) -> None:
    """Give the process a temp folder of its own holding only ``keep_in_tmp``, make ``readonly`` read-only (the
    grader's code, the Python installation, the course), then cover each private path with an empty mount
    (directories) or /dev/null (files). A path the private temp folder left out is out of sight already."""
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    if private_tmp:
        make_temp_folder_private(private_tmp, keep_in_tmp)
    for path in [p for p in readonly if os.path.lexists(p)]:
        subprocess.run(["mount", "--bind", path, path], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", path], check=True)
    for path in [p for p in directories if os.path.lexists(p)]:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=4k,mode=000", "autograder-hidden", path], check=True)
    for path in [p for p in files if os.path.lexists(p)]:
        subprocess.run(["mount", "--bind", "/dev/null", path], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", path], check=True)


def make_temp_folder_private(temp: str, keep: list[str]) -> None:
    """Cover the shared temp folder with an empty tmpfs, then bind ``keep`` back at the same paths.

    Each kept folder is opened before it is covered and bound back from that handle (/proc/self/fd/N),
    since its path then leads into the empty tmpfs.
    """
    import ctypes

    handles = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in keep}
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={PRIVATE_TMP_SIZE},mode=1777", "autograder-tmp", temp],
                   check=True)
    libc = ctypes.CDLL(None, use_errno=True)
    for path, handle in handles.items():
        os.makedirs(path, exist_ok=True)
        if libc.mount(f"/proc/self/fd/{handle}".encode(), path.encode(), None, _MS_BIND | _MS_REC, None) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"could not bind {path} back into the private temp folder: {os.strerror(errno)}")
        os.close(handle)


def join_cgroups(name: str, memory_bytes: int, max_processes: int) -> list[str]:
    """Put this process into new memory and pids cgroups (v1 layout); return the ones joined."""
    joined = []
    for controller, settings in (("memory", {"memory.limit_in_bytes": memory_bytes, "memory.swappiness": 0}),
                                 ("pids", {"pids.max": max_processes})):
        group = CGROUP_ROOT / controller / name
        try:
            group.mkdir(exist_ok=True)
            for key, value in settings.items():
                if (group / key).exists():
                    (group / key).write_text(str(value))
            (group / "cgroup.procs").write_text(str(os.getpid()))
            joined.append(controller)
        except OSError:
            continue  # no writable cgroup here: the rlimits below still apply
    return joined


def set_rlimits(memory_bytes: int, file_bytes: int, max_processes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.getuid() != 0:  # root's processes are counted system-wide, so only the cgroup caps them
        resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))


# The spec is a few KB; a longer first line is not the grader's.
MAX_SPEC_BYTES = 2**20


def read_spec_line() -> dict:
    """The spec from stdin's first line, read a byte at a time: what follows it is the started process's own input."""
    line = bytearray()
    while len(line) < MAX_SPEC_BYTES:
        byte = os.read(0, 1)
        if not byte or byte == b"\n":
            break
        line += byte
    return json.loads(line)


def main(spec_path: str) -> int:
    spec = read_spec_line() if spec_path == "-" else json.loads(Path(spec_path).read_text())
    report: dict = {"hidden": False, "cgroups": [], "capabilities_dropped": False, "network": spec["network"]}
    if spec["namespaces"]:
        protect_paths(spec["readonly"], spec["hide_dirs"], spec["hide_files"], spec.get("private_tmp"),
                      spec.get("keep_in_tmp", []))
        report["hidden"] = True
    if spec["cgroup_name"]:
        report["cgroups"] = join_cgroups(spec["cgroup_name"], spec["memory_bytes"], spec["max_processes"])
    # The submission's process, or the grader's bounded process for its models (isolation.model_process).
    command = [sys.executable, "-m", spec.get("module", "autograder.isolation.child"), spec["workdir"]]
    setpriv = shutil.which("setpriv")
    if setpriv and os.getuid() == 0:
        command = [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--", *command]
        report["capabilities_dropped"] = True
    if spec["report"]:
        Path(spec["report"]).write_text(json.dumps(report))
    else:  # the report is the first line on stdout, ahead of the started process's own protocol
        os.write(1, (json.dumps({"jail": report}) + "\n").encode())
    set_rlimits(spec.get("address_space_bytes", spec["memory_bytes"]), spec["file_bytes"], spec["max_processes"])
    os.execve(command[0], command, spec["env"])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
