"""The first code of every jailed process: ``python -I -S jail_launcher.py SPEC_JSON``, started by ``isolation.jail``.

In order, because each step needs the privileges that the next one gives up:
  1. join fresh memory and pids cgroups (where the grader may create them: root on cgroup v1);
  2. open every folder the sandbox binds, while it still may (as root, ``/root/.pyenv`` is one);
  3. set the resource limits (address space, file size, no core dumps; processes without a pids cgroup);
  4. as root without a sandbox (best effort), become the sandbox's own unprivileged uid, with no groups and no
     capabilities; with one, the same ``become`` runs inside it as the jailed command's first step;
  5. tell the grader, on the status pipe (``status_fd``) that only the grader reads, what it applied; then
  6. exec bubblewrap, which builds the sandbox from those folders (by fd), loads the grader's syscall filter
     (``isolation.syscall_filter``, by fd) and writes its own status (its namespaces) to the same pipe, closed
     inside the sandbox. Where the course accepts less than a sandbox
     (``limits.isolation: best_effort``) and none can be built, it execs the jailed program itself.

Nothing a jailed process can write decides what the grader says was in force: the pipe is the grader's.
It runs with ``-I -S`` (no site, no ``PYTHONPATH``, no working folder on the path) and imports the standard
library only, so that it starts in a few milliseconds and nothing of the course or the submission runs in it.
"""

import ctypes
import json
import os
import resource
import sys

CGROUP_ROOT = "/sys/fs/cgroup"
_PR_SET_NO_NEW_PRIVS = 38


def join_cgroups(name: str, memory_bytes: int, max_processes: int) -> list:
    """Put this process into new memory and pids cgroups (v1 layout); return the controllers joined."""
    joined = []
    for controller, settings in (("memory", {"memory.limit_in_bytes": memory_bytes, "memory.swappiness": 0}),
                                 ("pids", {"pids.max": max_processes})):
        group = os.path.join(CGROUP_ROOT, controller, name)
        try:
            os.makedirs(group, exist_ok=True)
            for key, value in settings.items():
                if os.path.exists(os.path.join(group, key)):
                    with open(os.path.join(group, key), "w") as f:
                        f.write(str(value))
            with open(os.path.join(group, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            joined.append(controller)
        except OSError:
            continue  # no writable cgroup here: the rlimits below still apply
    return joined


def set_rlimits(address_space: int, file_bytes: int, max_processes: int | None) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if max_processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))


_PR_CAPBSET_DROP, _LAST_CAPABILITY = 24, 63


def become(uid: int) -> None:
    """Root only: become ``uid`` (group too), with no supplementary groups, an empty capability bounding set and
    ``no_new_privs``; the other capabilities go with root."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(_LAST_CAPABILITY + 1):
        libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0)  # past the kernel's last one it fails, harmlessly
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    no_new_privileges()


def no_new_privileges() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")


def bwrap_arguments(spec: dict) -> list:
    """bubblewrap's arguments: each bind by an fd opened here (before the uid changes), the rest as given."""
    arguments = list(spec["bwrap_options"])
    for mount in spec["mounts"]:
        if mount[0] in ("ro-bind", "bind"):
            kind, source, destination = mount
            fd = os.open(source, os.O_PATH | os.O_CLOEXEC)
            os.set_inheritable(fd, True)  # for bubblewrap only: it closes each one once bound
            arguments += [f"--{kind}-fd", str(fd), destination]
        else:
            arguments += mount
    return arguments


def seccomp_arguments(spec: dict) -> list:
    """bubblewrap's ``--seccomp FD``: the grader's syscall filter (``isolation.syscall_filter``), from a memory file
    that bubblewrap reads and closes; none where the grader has no filter to give."""
    if not spec.get("seccomp"):
        return []
    import base64

    fd = os.memfd_create("autograder-seccomp", 0)
    os.set_inheritable(fd, True)  # for bubblewrap only: it reads the program and closes it
    os.write(fd, base64.b64decode(spec["seccomp"]))
    os.lseek(fd, 0, os.SEEK_SET)
    return ["--seccomp", str(fd)]


def become_then_exec(arguments: list) -> int:
    """Inside the sandbox, where the grader is root: ``--become UID -- COMMAND...``. bubblewrap ran as root (its
    mounts need root where Python lives in /root), so the sandboxed process starts as root in the new namespaces;
    this gives root up before any code of the course or the submission runs."""
    uid, command = int(arguments[1]), arguments[3:]
    become(uid)
    os.execv(command[0], command)
    return 1  # not reached


def main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    report = {"sandbox": None, "cgroups": [], "uid": None}
    cgroup = spec.get("cgroup")
    if cgroup:
        report["cgroups"] = join_cgroups(cgroup["name"], cgroup["memory_bytes"], cgroup["max_processes"])
    bwrap = spec.get("bwrap")
    arguments = [*bwrap_arguments(spec), *seccomp_arguments(spec)] if bwrap else []
    report["syscall_filter"] = bool(bwrap and spec.get("seccomp"))
    limits = spec["rlimits"]
    set_rlimits(limits["address_space"], limits["file"], None if "pids" in report["cgroups"] else limits["processes"])
    if spec.get("uid") is not None and not bwrap:
        become(spec["uid"])
    report["uid"] = spec.get("uid") if spec.get("uid") is not None else os.getuid()
    status_fd = spec["status_fd"]
    status = os.fdopen(status_fd, "w", closefd=False)
    if bwrap:
        report["sandbox"] = "bubblewrap"
        status.write(json.dumps({"launcher": report}) + "\n")
        status.flush()
        os.set_inheritable(status_fd, True)
        command = [bwrap, *arguments, "--json-status-fd", str(status_fd), "--", *spec["command"]]
    else:  # best effort, on purpose: no namespaces here, so the jailed program itself comes next
        if spec.get("uid") is None:
            no_new_privileges()
        status.write(json.dumps({"launcher": report}) + "\n")
        status.flush()
        os.close(status_fd)
        os.chdir(spec["workdir"])
        command = list(spec["command"])
    os.execve(command[0], command, spec["env"])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(become_then_exec(sys.argv[1:]) if sys.argv[1] == "--become" else main(sys.argv[1]))
