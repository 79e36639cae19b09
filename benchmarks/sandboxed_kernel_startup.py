"""What nbgrader's sandboxed kernel costs: seconds to start a kernel, run one trivial cell and shut it down, with
Jupyter's own kernel manager and with the kit's (``course.sandboxed_kernel``), interleaved, on a course that uses
the sample data. Prints the median of each and their difference.

    .venv/bin/python benchmarks/sandboxed_kernel_startup.py [--repeats N]

With ``--autograde N``: ``nbgrader autograde`` of a class of N of the demo's notebooks on --data (mnist from
MNIST_PATH, or sample), with the course's nbgrader_config.py as shipped (sandboxed kernels) and with nbgrader's own
Execute, interleaved --repeats times; prints the seconds per notebook of each.
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


# The line of nbgrader_config.py that puts the sandboxed Execute in autograde's pipeline.
SANDBOXED_PIPELINE = "c.Autograde.autograde_preprocessors = ["


def autograde_seconds(course: Path, sandboxed: bool) -> float:
    """One `nbgrader autograde --force` of the course, with its kernels sandboxed or as nbgrader ships."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from class_benchmark import timed

    from autograder.course.nbgrader_course import nbgrader_command

    config = course / "nbgrader_config.py"
    text = config.read_text().replace("_as_shipped = [", SANDBOXED_PIPELINE)
    config.write_text(text if sandboxed else text.replace(SANDBOXED_PIPELINE, "_as_shipped = ["))
    return timed([*nbgrader_command(), "autograde", "binary_mnist", "--force"], course)


def compare_autograde(notebooks: int, data: str, repeats: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from class_benchmark import make_class

    from autograder.course.nbgrader_course import generate

    with tempfile.TemporaryDirectory() as work:
        course = make_class(Path(work), notebooks, data)
        generate(course, env={"COURSE_CONFIG": str(course / "course.yml")})
        seconds = {"sandboxed": [], "nbgrader's own Execute": []}
        for _ in range(repeats):
            for way in seconds:
                seconds[way].append(autograde_seconds(course, way == "sandboxed") / notebooks)
    for way, runs in seconds.items():
        print(f"{way:>22}: {statistics.median(runs):.1f} s a notebook (median of {len(runs)}; "
              f"{', '.join(f'{r:.1f}' for r in runs)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--autograde", type=int, metavar="N", help="compare nbgrader autograde of N notebooks")
    parser.add_argument("--data", choices=("sample", "mnist"), default="mnist")
    args = parser.parse_args()
    if args.autograde:
        compare_autograde(args.autograde, args.data, args.repeats)
        return
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
