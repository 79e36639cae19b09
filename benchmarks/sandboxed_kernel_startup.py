"""What nbgrader's sandboxed kernel costs: seconds to start a kernel, run one trivial cell and shut it down, with
Jupyter's own kernel manager and with the kit's (``course.sandboxed_kernel``), interleaved, on a course that uses
the sample data. Prints the median of each and their difference.

    .venv/bin/python benchmarks/sandboxed_kernel_startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course.sandboxed_kernel import SandboxedKernelManager  # noqa: E402


def one_run(manager, folder: Path) -> float:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1 + 1)")])
    started = time.perf_counter()
    NotebookClient(notebook, kernel_manager_class=manager, timeout=60,
                   resources={"metadata": {"path": str(folder)}}).execute()
    assert notebook.cells[0].outputs[0]["text"] == "2\n", notebook.cells[0].outputs
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        course = Path(work)
        raw = yaml.safe_load((ROOT / "course.yml").read_text())
        raw["data"]["source"] = "sample"
        raw["calibration"]["directory"] = str(ROOT / "calibration")
        (course / "course.yml").write_text(yaml.safe_dump(raw))
        folder = course / "autograded" / "ada" / "binary_mnist"
        folder.mkdir(parents=True)
        seconds = {"Jupyter's own": [], "sandboxed": []}
        for _ in range(args.repeats):
            seconds["Jupyter's own"].append(one_run(AsyncKernelManager, folder))
            seconds["sandboxed"].append(one_run(SandboxedKernelManager, folder))
    for name, runs in seconds.items():
        print(f"{name:>14} kernel: median {statistics.median(runs):.2f} s "
              f"(min {min(runs):.2f}, max {max(runs):.2f}, {len(runs)} runs)")
    added = statistics.median(seconds["sandboxed"]) - statistics.median(seconds["Jupyter's own"])
    print(f"the sandbox adds {added:+.2f} s a kernel (medians)")


if __name__ == "__main__":
    main()
