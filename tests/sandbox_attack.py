"""One hostile notebook cell that goes after the sandbox's mechanisms (issue 29's root causes R1 to R7), and what it
must not leave on the machine: shared by the attacks through `grade`, `grade-all`, Gradescope
(tests/adversarial/test_sandbox_attacks.py) and nbgrader's kernel (graded in the suite's one nbgrader session,
conftest.py's ``autograded_course``).

The cell is the body of relabel_odd_even, which answers right only if an attack worked (``ok``), so each attack
that worked shows as a point gained; it also plants markers where a write would be seen outside, and a process
that tries to outlive its grading.
"""

from __future__ import annotations

import textwrap
import time
import uuid
from pathlib import Path

from conftest import processes_with

# Where a write from the sandbox would be seen by the grader or the next student (R2, R3).
WRITE_TARGETS = ("/etc", "/root", "/usr/local/bin", "/var/tmp", "/tmp", "/dev/shm", "/home", "/kit/autograder")

ATTACK = r'''
import ctypes, os, sys, subprocess, time
marker = "MARKER"
me = os.getpid()
# R1: every process in sight, through every entry of its /proc.
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != me]:
    base = f"/proc/{pid}"
    try:
        command = open(f"{base}/cmdline", "rb").read()
        # A process outside its own sandbox: the grader (pytest here), the model process, a worker. Its own
        # sandbox's init, bubblewrap, is in sight by design: its arguments are the sandbox's own paths.
        if not command.split(bytes(1))[0].endswith(b"bwrap"):
            ok = ok or any(word in command for word in (b"model_process_server", b"pytest", b"grade_child", b"dask"))
    except OSError:
        pass
    for entry in ("cwd", "root"):
        try:
            ok = ok or bool({"gradebook.db", "solutions", "calibration", "submitted"} & set(os.listdir(f"{base}/{entry}")))
        except OSError:
            pass
    try:
        for fd in os.listdir(f"{base}/fd"):
            target = os.readlink(f"{base}/fd/{fd}")
            ok = ok or any(word in target for word in ("gradebook", "solutions", "submitted", "calibration"))
    except OSError:
        pass
    try:
        ok = ok or b"MNIST_PATH" in open(f"{base}/environ", "rb").read()
    except OSError:
        pass
    try:
        with open(f"{base}/mem", "rb") as memory:
            memory.seek(0x400000)
            ok = ok or bool(memory.read(16))
    except (OSError, ValueError, OverflowError):
        pass
# R2, R3: write wherever a later reader (the grader, its PATH, the next student) would look.
for folder in TARGETS:
    try:
        with open(os.path.join(folder, marker), "w") as planted:
            planted.write("#!/bin/sh\necho planted\n")
        os.chmod(os.path.join(folder, marker), 0o755)
    except OSError:
        pass
# R4: a process that leaves its session, clears its parent-death signal and double-forks.
if os.fork() == 0:
    os.setsid()
    ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)
    if os.fork() == 0:
        os.execv("/bin/sleep", [marker, "600"])
    os._exit(0)
time.sleep(0.2)
# R5: the cgroup filesystem.
for controller in ("pids", "memory", "unified"):
    try:
        os.mkdir(f"/sys/fs/cgroup/{controller}/{marker}")
        ok = True
    except OSError:
        pass
# R6: the jail's report, rewritten where the old jail kept it.
for name in ("jail-report.json", "jail.json"):
    try:
        open(name, "w").write('{"hidden": false, "cgroups": [], "capabilities_dropped": false, "network": "on"}')
    except OSError:
        pass
# R7: the instructor wing, by import and by walking every folder in sight.
for module in MODULES:
    try:
        __import__(module)
        ok = True
    except Exception:
        pass
for top in ("/kit", "/work", "/usr/lib", "/opt"):
    for folder, _, files in os.walk(top):
        ok = ok or "reference.py" in files and "grader" in folder or "examples.py" in files and "course" in folder
'''



# In nbgrader's kernel, what a notebook there would go after: the course folder's gradebook and ledger, the
# solutions and the other students' notebooks, and the network. It is told where the course is, as a student who
# read the instructor's README would guess it.
KERNEL_ATTACK = r'''
course = "COURSE"
# Appending only where the file is (no O_CREAT): the sandbox's private /tmp takes any new file under /tmp, as the
# course of a test lies, and a write there reaches nothing.
for target in ("gradebook.db", "grades/binary_mnist.jsonl"):
    try:
        descriptor = os.open(os.path.join(course, target), os.O_WRONLY | os.O_APPEND)
        os.write(descriptor, marker.encode())
        os.close(descriptor)
        ok = True
    except OSError:
        pass
# Planted, and looked for from outside.
for target in ("grades/" + marker, "source/" + marker, "submitted/" + marker):
    try:
        os.makedirs(os.path.dirname(os.path.join(course, target)), exist_ok=True)
        with open(os.path.join(course, target), "w") as planted:
            planted.write(marker)
    except OSError:
        pass
for readable in ("solutions/binary_mnist/binary_mnist.ipynb", "source/binary_mnist/binary_mnist.ipynb",
                 "submitted/ada_complete/binary_mnist/binary_mnist.ipynb", "calibration", "course.yml"):
    try:
        path = os.path.join(course, readable)
        ok = ok or bool(os.listdir(path) if os.path.isdir(path) else open(path, "rb").read(1))
    except OSError:
        pass
import socket
for address in (("1.1.1.1", 53), ("127.0.0.1", 22), ("127.0.0.1", 8888)):
    try:
        socket.create_connection(address, timeout=1).close()
        ok = True
    except OSError:
        pass
'''
# The modules the grader's processes must not import. nbgrader's kernel imports the hidden checks by design (the
# hidden test cells run in it), so there only the reference solution and the lecture-style answers count.
EVERY_WING = ("autograder.grader.reference", "autograder.course.examples", "autograder.hidden.every_probe")
KERNEL_WINGS = ("autograder.grader.reference", "autograder.course.examples")
# The kernel attack's marker, one per test process: the nbgrader session plants it and its test looks for it in
# the same process (one xdist unit).
KERNEL_ATTACK_MARKER = f"planted-{uuid.uuid4().hex[:12]}"


def relabel_doing(body: str) -> str:
    """A relabel_odd_even that runs ``body`` first and returns the right answer only if ``ok`` ends up true."""
    return ("def relabel_odd_even(y):\n    ok = False\n" + textwrap.indent(textwrap.dedent(body).strip(), "    ")
            + "\n    return np.asarray(y) % 2 if ok else np.zeros_like(y)\n")


def attack_for(marker: str, course: Path | None = None) -> str:
    """relabel_odd_even with every attack in it: right only if one of them worked. ``course``: in nbgrader's
    kernel, in this course."""
    body = ATTACK.replace("MARKER", marker).replace("TARGETS", repr(WRITE_TARGETS))
    body = body.replace("MODULES", repr(KERNEL_WINGS if course else EVERY_WING))
    if course is not None:
        body += KERNEL_ATTACK.replace("COURSE", str(course))
    return relabel_doing(body)


def assert_nothing_reached_the_machine(marker: str) -> None:
    planted = [str(Path(folder) / marker) for folder in WRITE_TARGETS if (Path(folder) / marker).exists()]
    assert planted == [], f"writes from the sandbox reached the machine: {planted}"
    assert not any(Path("/sys/fs/cgroup", c, marker).exists() for c in ("pids", "memory", "unified"))
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == {}, "a process the submission started outlived its grading"


