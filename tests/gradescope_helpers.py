"""Shared by tests/test_gradescope_*.py: a sample-data course, its bundle, and a run of run_autograder
in a temporary root that stands for /autograder."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from autograder.support.config import load_config
from autograder.gradescope.bundle import build_bundle
from autograder.gradescope.run import _descendants
from repo_paths import ROOT

RELEASE = ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb"


def sample_course(folder: Path, **sections) -> Path:
    """course.yml for the offline sample data, its calibration read from the kit; ``sections`` override."""
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    for section, values in sections.items():
        raw[section] = {**raw.get(section, {}), **values} if isinstance(values, dict) else values
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.yml").write_text(yaml.safe_dump(raw))
    # The course's release, as an instructor's course folder has it.
    shutil.copytree(ROOT / "assignments", folder / "assignments", dirs_exist_ok=True)
    return folder / "course.yml"


def build(tmp: Path, mnist_path: Path | None = None, **sections) -> Path:
    config = load_config(sample_course(tmp / "course", **sections))
    return build_bundle(config, tmp / "autograder.zip", mnist_path).path


@dataclass
class Run:
    results: dict
    seconds: float
    # Largest resident set of any one process this test process has waited for (getrusage), MiB.
    peak_rss_mib: float
    # Largest sum of the resident sets of run_autograder's whole process tree, polled every 0.1 s, MiB
    # (shared libraries count once per process: an upper bound).
    peak_tree_mib: float
    log: str
    root: Path


def unpack(bundle: Path, root: Path) -> None:
    """Unpack ``bundle`` into ``root``/source as Gradescope does."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)


def run_autograder(bundle: Path, root: Path, submission: dict[str, bytes], metadata: dict | None = None) -> Run:
    """Unpack ``bundle`` into ``root``/source, put ``submission`` in place, run run_autograder."""
    unpack(bundle, root)
    return run_unpacked(root, submission, metadata)


def run_unpacked(root: Path, submission: dict[str, bytes], metadata: dict | None = None) -> Run:
    """Put ``submission`` into ``root``/submission and run ``root``/source/run_autograder."""
    (root / "submission").mkdir(parents=True)
    for name, data in submission.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    # The venv's python3 first on PATH, as setup.sh's venv is on Gradescope.
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("COURSE_CONFIG", None)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([str(root / "source" / "run_autograder")], env=env, stdout=log, stderr=subprocess.STDOUT,
                                text=True)
        peak_tree = 0
        # Poll the whole tree's memory: the submission's processes are grandchildren in sessions of their own.
        while proc.poll() is None:
            peak_tree = max(peak_tree, sum(_rss_kib(pid) for pid in [proc.pid, *_descendants(proc.pid)]))
            if time.perf_counter() - started > 900:
                proc.kill()
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert proc.returncode == 0, output[-3000:]
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    return Run(results, seconds, peak, peak_tree / 1024, output, root)


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0  # it ended meanwhile
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
