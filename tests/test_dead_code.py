"""No dead code: the dead-code finder sees every name used, or listed in .vulture_whitelist.py with its reason."""

import subprocess
import sys

from repo_paths import ROOT


def test_the_dead_code_finder_finds_nothing():
    proc = subprocess.run([sys.executable, "-m", "vulture", "autograder", "tests", "benchmarks",
                           ".vulture_whitelist.py", "--min-confidence", "60"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, ("delete what nothing uses, or add a name used where vulture cannot see it "
                                  f"to .vulture_whitelist.py:\n{proc.stdout}{proc.stderr}")
