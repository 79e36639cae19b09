"""TensorFlow's own C++ log lines stay out of what the CLI shows, and land in the debug log instead."""

from __future__ import annotations

import os
import subprocess

import pytest
import sys
import textwrap

from repo_paths import ROOT

SCRIPT = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from autograder.messages.framework_log import drop_framework_log_lines

    drop_framework_log_lines(Path(sys.argv[1]))
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
    os.write(2, b"I0000 00:00:1795934857.622174    3536 port.cc:153] oneDNN custom operations are on.\\n")
    print("the student's own line", file=sys.stderr)
    os.write(2, b"E0000 00:00:1795934887.314753    3588 node_def_util.cc:682] NodeDef mentions attribute\\n")
    os.write(2, b"a partial line without newline")
    raise SystemExit("error: a message the user must see")
""")


def test_framework_lines_go_to_the_debug_log_and_everything_else_through(tmp_path):
    debug_log = tmp_path / "debug.log"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(debug_log)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == "the student's own line\na partial line without newlineerror: a message the user must see\n"
    logged = debug_log.read_text()
    assert "oneDNN custom operations" in logged and "NodeDef mentions attribute" in logged
    assert "absl::InitializeLog" in logged and "student" not in logged


@pytest.mark.slow  # two interpreters that start TensorFlow (about 30 s)
def test_the_cli_shows_no_tensorflow_log_unless_verbose(tmp_path):
    # build-source imports Keras (the reference builds its models), so TensorFlow starts and logs.
    # Level 0 makes TensorFlow log on every build: which lines it writes (the oneDNN banner, the CPU
    # feature guard) depends on the build and the CPU, but the absl preamble comes first on all of them.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    command = [sys.executable, "-m", "autograder", "build-source", "--output", str(tmp_path / "source.ipynb"),
               "--expected-output", str(tmp_path / "expected")]
    quiet = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert "absl::InitializeLog" not in quiet.stderr and "I0000" not in quiet.stderr, quiet.stderr
    assert "source.ipynb" in quiet.stdout  # the command's own output still shows
    verbose = subprocess.run(command[:3] + ["--verbose"] + command[3:], capture_output=True, text=True, cwd=ROOT,
                             timeout=300, env=env)
    assert "absl::InitializeLog" in verbose.stderr, verbose.stderr
