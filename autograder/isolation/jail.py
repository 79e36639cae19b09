"""Start the submission's process inside its limits: ``python -m autograder.isolation.jail SPEC.json``
(or ``-``: the spec is the first line of stdin, so that it never lies on disk where other code could change it).

Run by ``autograder.isolation.sandbox`` and ``autograder.isolation.model_process`` (under ``unshare --net --mount --pid --fork`` when the machine allows
it); never imported by the grader. In order, because each step needs the privileges that the next
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
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


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
