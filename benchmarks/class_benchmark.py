"""Grading a whole class: throughput of grade-all against a serial loop of `grade` and `nbgrader autograde`,
and the coordinator's cost at scale with a sleeping stand-in task (a benchmark, not a test).

    .venv/bin/python benchmarks/class_benchmark.py                      # everything (about 40 min on 2 cores)
    .venv/bin/python benchmarks/class_benchmark.py --size 6 --ways serial,default,workers2
    .venv/bin/python benchmarks/class_benchmark.py --ways none --scale 10000 --scale-workers 32

Throughput: one class of --size submissions on --data (sample, or mnist from MNIST_PATH; the demo's examples, good and broken, in turn)
graded by each of --ways:
  serial    `python -m autograder grade NOTEBOOK --json F` once per submission, one after another
  workers1  `grade-all --workers 1`
  default   `grade-all` (its default worker count; the class's training cache starts empty)
  nocache   `grade-all --no-training-cache`
  warm      `grade-all --force` with the training cache a `default` run left (every distinct model already trained)
  workers2  `grade-all --workers 2`
  dask2     `grade-all --dask-local 2`
  nbgrader  `nbgrader autograde` of the same class (the notebooks' own cells, in the students' kernels)
Each prints wall seconds and submissions per minute, and the speed-ups over serial and nbgrader. With
--naive-epoch, the naive re-run is probed before each round of ways (--rounds rounds: probe, ways, probe, ways,
...), since the machine's state moves between them: each way's speed-up is the median of its per-round ratios,
with their spread. --phases prints each submission's phases for the ways named (a miss and a hit side by side).

Simulated scale: --scale submissions (default 10,000) of a stand-in task that sleeps --sleep seconds (no
TensorFlow), over --scale-workers workers (default 32), through the real coordinator and ledger, on each of
--scale-executors: the local pool (`local`), a Dask LocalCluster (`dask`, as --dask-local N: its scheduler
runs in the coordinator's process) and a Dask cluster of separate `dask scheduler` and `dask worker`
processes (`dask-cluster`, as --scheduler ADDRESS uses one). Prints the coordinator's CPU seconds per
submission (goal < 5 ms), its peak memory (goal < 200 MB; with `dask` the scheduler's is counted), and the
parallel efficiency: ideal time (submissions × sleep ÷ workers) ÷ wall time of the grading loop, workers'
start-up excluded (goal ≥ 90%). Then the CPU that the coordinator and every process below it (workers,
nannies, the cluster) used per submission, and the cores that CPU needs at the ideal rate (workers ÷ sleep
submissions a second): an executor cannot reach the ideal on a machine without that many cores to spare.

Coordinator memory: a class of --memory submissions (default 1,000) whose stand-in task returns real
gradings' data (benchmarks/real_outcomes.jsonl: what grade_submission returned for four sample-data
submissions of the nbgrader parity test, complete, one group broken, untouched stubs and linear outputs,
19 to 27 KB a line), so that each ledger line has its real size, through the real coordinator
(grade_class, the end-of-run summary, and --class-report's reading of every result). Prints the
coordinator's memory at start and its peak after each step (goal < 200 MB).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # grading_benchmark's phase table


def make_class(work: Path, size: int, data: str = "sample") -> Path:
    """An nbgrader course on ``data`` (sample, or mnist from MNIST_PATH) with ``size`` submissions, the demo's
    examples in turn."""
    import nbformat

    from autograder.course import nbgrader_course
    from autograder.support.config import load_config
    from autograder.course.demo import make_demo_course
    from autograder.course.examples import EXAMPLES, filled_release

    course = make_demo_course(load_config(ROOT / "course.yml"), work, data)
    release = nbformat.read(ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    examples = list(EXAMPLES.items())
    for i in range(size):
        name, replacements = examples[i % len(examples)]
        path = work / f"s{i:02d}.ipynb"
        nbformat.write(filled_release(release, replacements), path)
        nbgrader_course.submit(course, f"s{i:02d}_{name}", path)
    return course


def timed(command: list[str], course: Path) -> float:
    env = {**os.environ, "COURSE_CONFIG": str(course / "course.yml")}
    started = time.perf_counter()
    subprocess.run(command, cwd=course, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


GRADE_ALL_OPTIONS = {"workers1": ["--workers", "1"], "default": [], "nocache": ["--no-training-cache"],
                     "warm": ["--force"], "workers2": ["--workers", "2"], "dask2": ["--dask-local", "2"]}


def grade_class_once(way: str, course: Path, notebooks: list[Path], tmp: str) -> float:
    """Wall seconds of one way over the whole class."""
    from autograder.course import nbgrader_course

    py = [sys.executable, "-m", "autograder"]
    if way == "warm":  # the cache of the last `default` run stays; only the grades go
        for path in (course / "grades").glob("*.jsonl"):
            path.unlink()
    else:
        shutil.rmtree(course / "grades", ignore_errors=True)
    if way == "serial":
        return sum(timed(py + ["grade", str(nb), "--quiet", "--json", str(Path(tmp) / "r.json")], course)
                   for nb in notebooks)
    if way == "nbgrader":
        env = {"COURSE_CONFIG": str(course / "course.yml"), "TF_CPP_MIN_LOG_LEVEL": "2"}
        nbgrader_course.generate(course, env=env)
        started = time.perf_counter()
        nbgrader_course.autograde(course, env=env)
        return time.perf_counter() - started
    return timed(py + ["grade-all", "--quiet", *GRADE_ALL_OPTIONS[way]], course)


def throughput(size: int, ways: list[str], data: str = "sample", naive_epoch: bool = False, rounds: int = 1,
               phase_ways: tuple[str, ...] = ()) -> None:
    import statistics

    if "warm" in ways and ("default" not in ways or ways.index("warm") < ways.index("default")):
        raise SystemExit("--ways: warm reuses the training cache of a default run, so it comes after default")
    with tempfile.TemporaryDirectory(prefix="class-benchmark-") as tmp:
        course = make_class(Path(tmp), size, data)
        notebooks = sorted((course / "submitted").glob("*/binary_mnist/binary_mnist.ipynb"))
        seconds: dict[str, list[float]] = {way: [] for way in ways}
        naive: list[float] = []
        phases: dict[str, list[tuple[str, float]]] = {}
        each: dict[str, dict[str, dict[str, float]]] = {}
        for round_ in range(rounds):
            if naive_epoch:  # probe, then the ways, round after round: each ratio pairs a probe with its grades
                naive.append(naive_rerun_seconds())
            for way in ways:
                seconds[way].append(grade_class_once(way, course, notebooks, tmp))
                if way not in ("serial", "nbgrader") and round_ == 0:
                    phases[way] = phases_from_ledger(course)
                    each[way] = timings_by_student(course)
                print(f"  round {round_ + 1}, {way}: {seconds[way][-1]:.0f} s", file=sys.stderr, flush=True)
    print(f"\n### Throughput: {size} submissions on the {data} data, {os.cpu_count()} cores, {rounds} round(s)\n")
    if naive:
        print(f"Naive re-run of the lecture, probed before each round: 30 × one lecture epoch of the three models = "
              f"{', '.join(f'{n:.0f}' for n in naive)} s per submission.\n")
    print("| way | seconds (each round) | seconds per submission (median) | submissions/min | vs serial grade "
          "| vs nbgrader autograde | vs the naive re-run: median of the rounds' ratios (min–max) |")
    print("|---|---|---|---|---|---|---|")
    for way, runs in seconds.items():
        s = statistics.median(runs)
        vs = lambda base: f"{statistics.median(seconds[base]) / s:.2f}×" if base in seconds else "—"
        ratios = [n / (r / size) for n, r in zip(naive, runs)]
        vs_naive = (f"{statistics.median(ratios):.0f}× ({min(ratios):.0f}–{max(ratios):.0f}×)" if ratios else "—")
        print(f"| {way} | {', '.join(f'{r:.0f}' for r in runs)} | {s / size:.1f} | {size / s * 60:.1f} | {vs('serial')} "
              f"| {vs('nbgrader')} | {vs_naive} |")
    for way, rows in phases.items():
        print(f"\nWhere a submission's seconds went in `{way}` (round 1, mean over the ledger's graded lines; a "
              f"worker's phases add up to its submission's seconds, and the workers run side by side):\n")
        print("| phase | mean s |\n|---|---|")
        print("\n".join(f"| {phase} | {mean:.2f} |" for phase, mean in rows))
    for way in phase_ways:
        if way in each:
            students = sorted(each[way])
            names = list(dict.fromkeys(p for t in each[way].values() for p in t))
            print(f"\nEach submission's phases in `{way}` (round 1, seconds):\n")
            print("| phase | " + " | ".join(students) + " |\n|---|" + "---|" * len(students))
            for name in names:
                print(f"| {name} | " + " | ".join(f"{each[way][s].get(name, 0.0):.2f}" if name in each[way][s] else ""
                                                    for s in students) + " |")


def timings_by_student(course: Path) -> dict[str, dict[str, float]]:
    """Each graded line's phases (``extra_data.timings``) and its seconds, by student."""
    out = {}
    for path in (course / "grades").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line) if line.strip() else {}
            if entry.get("status") == "graded":
                out[entry["student"]] = {**entry["result"]["extra_data"]["timings"], "**seconds**": entry["seconds"]}
    return out


def phases_from_ledger(course: Path) -> list[tuple[str, float]]:
    """The mean seconds of each top-level phase over the graded lines grade-all just wrote (each record's
    ``timings``; a line written before records held them as ``extra_data.timings``)."""
    from grading_benchmark import wall_time_by_phase

    lines = [json.loads(line) for path in (course / "grades").glob("*.jsonl")
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    def timings(result) -> dict:
        result = result or {}
        return result.get("timings") or (result.get("extra_data") or {}).get("timings") or {}

    graded = [{"seconds": e["seconds"], "timings": timings(e.get("result"))}
              for e in lines if e.get("status") == "graded" and timings(e.get("result"))]
    return wall_time_by_phase(graded) if graded else []


def naive_rerun_seconds() -> float:
    """What re-running the lecture costs per submission: 30 × one lecture epoch of each reference model, on full
    MNIST (grading_benchmark's own probe, in a fresh process, after the ways so that it does not load them)."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grading_benchmark.py"), "--lecture-epoch-probe",
                           "mnist"], capture_output=True, text=True, check=True, cwd=ROOT)
    epochs = json.loads(proc.stdout.strip().splitlines()[-1])
    print("  lecture epochs: " + ", ".join(f"{b} {s:.1f} s" for b, s in epochs.items()), file=sys.stderr)
    return 30 * sum(epochs.values())


def simulated_scale(n: int, workers: int, sleep_s: float, executors: list[str]) -> None:
    print(f"\n### Simulated scale: {n} submissions sleeping {sleep_s} s, {workers} workers\n")
    print("| executor | workers' start-up s | grading loop s | ideal s | efficiency | coordinator CPU ms/submission | "
          "coordinator peak MB | all processes' CPU ms/submission | cores that CPU needs at the ideal rate |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for name in executors:
        # A fresh interpreter per executor: this one may have imported TensorFlow for the throughput part, and its
        # peak memory would be counted as the coordinator's.
        subprocess.run([sys.executable, __file__, "--scale-child", name, "--scale", str(n), "--scale-workers",
                        str(workers), "--sleep", str(sleep_s)], check=True)


@contextlib.contextmanager
def stopping(processes: list[subprocess.Popen]):
    """Terminate the processes this benchmark started, whatever happens."""
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def start_dask_cluster(folder: Path, workers: int, processes: list[subprocess.Popen]) -> str:
    """A scheduler and ``workers`` single-threaded workers in their own processes, configured as the LocalCluster
    of ``--dask-local`` is; returns the scheduler's address once every worker has joined."""
    import json

    from distributed import Client

    from autograder.batch.dask_pool import QUIET_LOCAL_CLUSTER

    env = {**os.environ, **{"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
                            for key, value in {**QUIET_LOCAL_CLUSTER, "distributed.scheduler.allowed-failures": 0,
                                               "distributed.scheduler.worker-saturation": 1.0}.items()}}
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    processes.append(subprocess.Popen([dask, "scheduler", "--scheduler-file", str(scheduler_file), "--port", "0",
                                       "--dashboard-address", ":0"], **quiet))
    processes.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(scheduler_file), "--nworkers",
                                       str(workers), "--nthreads", "1", "--no-dashboard"], **quiet))
    deadline = time.monotonic() + 300
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=300)
    return address


def tree_cpu_seconds() -> dict[int, float]:
    """CPU seconds used so far by this process and by each process below it (workers, nannies, a cluster started
    here), by process id."""
    import psutil

    used = {}
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        used[process.pid] = times.user + times.system
    return used


def cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the processes alive now used since ``before`` (one that ended meanwhile is not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in tree_cpu_seconds().items())


def scale_child(name: str, n: int, workers: int, sleep_s: float) -> None:
    """One row of the simulated scale table, measured in this fresh process (the coordinator)."""
    from autograder.batch.class_run import grade_class
    from autograder.submissions import Submission
    from autograder.batch.worker_task import GradingSettings, no_warm_up, sleep_instead_of_grading

    settings = GradingSettings(None, extra={"sleep_s": sleep_s})
    cluster: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="class-scale-") as tmp, stopping(cluster):
        subs = [Submission(f"s{i:05d}", Path(tmp) / f"s{i:05d}.ipynb", f"{i:064d}") for i in range(n)]
        started = time.perf_counter()
        if name == "local":
            from autograder.batch.local_pool import LocalPool

            pool = LocalPool(workers, settings, task=sleep_instead_of_grading, initializer=no_warm_up)
            # Start every worker before timing the loop: spawning 32 interpreters is start-up, not overhead.
            list(pool._slots[i].submit(time.sleep, 0) for i in range(workers))
            for slot in pool._slots:
                slot.submit(time.sleep, 0).result()
        elif name == "dask":
            from autograder.batch.dask_pool import DaskPool

            pool = DaskPool(settings, local_workers=workers, task=sleep_instead_of_grading)
        else:  # dask-cluster: `dask scheduler` and `dask worker` processes, as --scheduler ADDRESS uses them
            from autograder.batch.dask_pool import DaskPool

            address = start_dask_cluster(Path(tmp), workers, cluster)
            pool = DaskPool(settings, address=address, task=sleep_instead_of_grading)
        startup = time.perf_counter() - started
        cpu_before = time.process_time()
        tree_before = tree_cpu_seconds()
        # grade_class closes the executor, ending its worker processes: read their CPU just before.
        tree_at_close: list[float] = []
        close = pool.close
        pool.close = lambda cancel=False: (tree_at_close.append(cpu_since(tree_before)), close(cancel))
        loop_started = time.perf_counter()
        report = grade_class(subs, [], assignment="scale", key="k", ledger=Path(tmp) / "grades" / "scale.jsonl",
                             executor_factory=lambda: pool, show_progress=False)
        loop = time.perf_counter() - loop_started
        cpu = time.process_time() - cpu_before
        tree = tree_at_close[0]
        assert len(report.graded) == n, (len(report.graded), report.not_graded[:3])
        ideal = n * sleep_s / workers
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # The stand-in tasks sleep, so nearly all of this is the executor's own work; at the ideal rate (workers ÷
        # sleep submissions a second) it needs this many cores, which this machine must have to spare.
        cores = tree / n * workers / sleep_s
        print(f"| {name} | {startup:.1f} | {loop:.1f} | {ideal:.1f} | {ideal / loop:.0%} | {cpu / n * 1000:.2f} | {peak_mb:.0f} "
              f"| {tree / n * 1000:.2f} | {cores:.1f} |",
              flush=True)


REAL_OUTCOMES = ROOT / "benchmarks" / "real_outcomes.jsonl"


def coordinator_memory(n: int, workers: int) -> None:
    print(f"\n### Coordinator memory: a class of {n}, ledger lines of real size\n")
    print("| submissions | ledger line KB | ledger MB | at start MB | peak after grading MB | "
          "peak after the summary MB | peak after --class-report MB |")
    print("|---|---|---|---|---|---|---|", flush=True)
    subprocess.run([sys.executable, __file__, "--memory-child", str(n), "--memory-workers", str(workers)], check=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(n: int, workers: int) -> None:
    """One row of the coordinator memory table, measured in this fresh process (the coordinator)."""
    import json
    from types import SimpleNamespace

    from autograder.batch.class_run import grade_class
    from autograder.batch.cli import _write_class_report
    from autograder.batch.ledger import read_ledger
    from autograder.batch.local_pool import LocalPool
    from autograder.submissions import Submission
    from autograder.batch.summary import summary_text
    from autograder.batch.worker_task import GradingSettings, no_warm_up, sleep_instead_of_grading
    from autograder.support.config import load_config

    config = load_config(ROOT / "course.yml")
    outcomes = [json.loads(line) for line in REAL_OUTCOMES.read_text(encoding="utf-8").splitlines() if line.strip()]
    settings = GradingSettings(None, extra={"sleep_s": 0.005, "outcomes": outcomes})
    at_start = _peak_mb()
    with tempfile.TemporaryDirectory(prefix="class-memory-") as tmp:
        ledger = Path(tmp) / "grades" / f"{config.assignment}.jsonl"
        subs = [Submission(f"s{i:05d}", Path(tmp) / f"s{i:05d}.ipynb", f"{i:064d}") for i in range(n)]
        pool = LocalPool(workers, settings, task=sleep_instead_of_grading, initializer=no_warm_up)
        report = grade_class(subs, [], assignment=config.assignment, key="k", ledger=ledger,
                             executor_factory=lambda: pool, show_progress=False)
        assert len(report.graded) == n, (len(report.graded), report.not_graded[:3])
        after_grading = _peak_mb()
        # What `grade-all` does next (autograder/batch/cli.py cmd_grade_all), then --class-report.
        entries = [e for e in read_ledger(ledger, config.assignment).latest_by_student().values() if e["status"] == "graded"]
        summary_text(report, entries)
        after_summary = _peak_mb()
        with contextlib.redirect_stdout(io.StringIO()):
            _write_class_report(SimpleNamespace(class_report=str(Path(tmp) / "class.html"), lang=None), config, ledger,
                                report, {e["student"] for e in entries})
        after_report = _peak_mb()
        size = ledger.stat().st_size
    print(f"| {n} | {size / n / 1024:.1f} | {size / 1024**2:.1f} | {at_start:.0f} | {after_grading:.0f} | "
          f"{after_summary:.0f} | {after_report:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=12, help="submissions in the throughput class (default 12)")
    parser.add_argument("--ways", default="serial,workers1,default,workers2,dask2,nbgrader",
                        help="comma-separated ways to grade the class, or 'none'")
    parser.add_argument("--data", choices=("sample", "mnist"), default="sample",
                        help="the throughput class's data: sample (default) or mnist (full MNIST from MNIST_PATH)")
    parser.add_argument("--naive-epoch", action="store_true",
                        help="also measure one lecture epoch of each model on full MNIST (MNIST_PATH) and print each "
                             "way's speed-up over re-running the lecture (30 epochs) per submission")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the ways (each after its own naive probe "
                        "with --naive-epoch): the speed-up is the median of the rounds' ratios, with their spread")
    parser.add_argument("--phases", default="", help="comma-separated ways whose every submission's phases are printed")
    parser.add_argument("--scale", type=int, default=10_000, help="stand-in submissions (0: skip the simulated scale)")
    parser.add_argument("--scale-workers", type=int, default=32)
    parser.add_argument("--sleep", type=float, default=0.1, help="seconds each stand-in submission sleeps")
    parser.add_argument("--scale-executors", default="local,dask,dask-cluster")
    parser.add_argument("--scale-child", help=argparse.SUPPRESS)
    parser.add_argument("--memory", type=int, default=1000, help="class size of the coordinator memory measurement "
                        "(0: skip it)")
    parser.add_argument("--memory-workers", type=int, default=8)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child:
        scale_child(args.scale_child, args.scale, args.scale_workers, args.sleep)
        return
    if args.memory_child:
        memory_child(args.memory_child, args.memory_workers)
        return
    ways = [] if args.ways == "none" else args.ways.split(",")
    if ways:
        throughput(args.size, ways, args.data, args.naive_epoch, args.rounds,
                   tuple(w for w in args.phases.split(",") if w))
    if args.scale:
        simulated_scale(args.scale, args.scale_workers, args.sleep, args.scale_executors.split(","))
    if args.memory:
        coordinator_memory(args.memory, args.memory_workers)


if __name__ == "__main__":
    main()
