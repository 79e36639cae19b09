"""Grading speed, memory and discrimination, measured in one run (a benchmark, not a test).

    MNIST_PATH=../shared/data/mnist.npz .venv/bin/python benchmarks/grading_benchmark.py

Prints, in order:
  1. start-up: seconds to import the grader, Keras and TensorFlow in a fresh interpreter;
  2. set-up: loading the data, preparing the grading data, loading the calibration;
  3. graded submissions (the complete reference several times, then one per typical bug in
     autograder/dev/broken.py): wall time per submission and per phase, the median, each verdict, and
     where the wall time goes (the mean of each top-level phase, adding up to the mean wall time);
  4. peak memory of grading one submission in a fresh process: the grader and the submission's process;
  5. one epoch of each reference model under the lecture's protocol (SGD, batch 32, 50,000 images,
     validation on 10,000; in a fresh process with TensorFlow's defaults), × 30 = the naive
     per-submission re-run, and the speed-up; then --fresh-grades runs of `python -m autograder grade` of
     the reference, each from a fresh interpreter, and their speed-up over the same re-run;
  6. the cost of op determinism (reference trainings with it on and off, in fresh processes);
  7. discrimination: the reference and every typical bug under the grading protocol over N seeds,
     with the real accuracy check applied to each run.
Figures go to stdout as Markdown tables (for the README) and, with --json, to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
IMPORTS = "import autograder.grader.grading, keras, tensorflow"
SHORT = {"build_mlp": "MLP", "build_cnn": "CNN", "build_deep_cnn": "deep CNN"}
REFERENCE = ROOT / "solutions" / "binary_mnist" / "binary_mnist.ipynb"


def mib(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def measure_startup() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def submissions(repeats: int) -> list[tuple[str, dict[str, str] | None]]:
    """(name, replacements): the complete reference ``repeats`` times, then one per typical bug."""
    from autograder.dev.broken import VARIANTS

    subs = [(f"reference #{i + 1}", {}) for i in range(repeats)]
    subs += [(v.name, v.replacements) for v in VARIANTS if v.replacements]
    return subs


# Phases measured inside another phase (GradeResult.timings names both): left out of the sum that adds up to the wall time.
NESTED_PHASES = ("child: ", "train ", "model process: ")


def wall_time_by_phase(graded: list[dict]) -> list[tuple[str, float]]:
    """The mean seconds of each top-level phase, and of the rest (between phases), over ``graded``: they add up
    to the mean wall time, as means do (medians would not)."""
    n = len(graded)
    means: dict[str, float] = {}
    for g in graded:
        for phase, seconds in g["timings"].items():
            if not phase.startswith(NESTED_PHASES):
                means[phase] = means.get(phase, 0.0) + seconds / n
    wall = sum(g["seconds"] for g in graded) / n
    return [*means.items(), ("the rest: between phases (work folder, results)", wall - sum(means.values())),
            ("**wall time (mean)**", wall)]


def grade_submissions(grader, repeats: int, log) -> list[dict]:
    import nbformat

    from autograder.course.examples import filled_release

    release = nbformat.read(ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb", as_version=4)
    results = []
    with tempfile.TemporaryDirectory(prefix="benchmark-") as work:
        for name, replacements in submissions(repeats):
            path = Path(work) / f"{name.replace(' ', '_').replace('#', '')}.ipynb"
            nbformat.write(filled_release(release, replacements), path)
            result = grader.grade_notebook(path)
            lost = [g.name for g in result.groups if g.score < g.max_score]
            results.append({"name": name, "seconds": result.execution_time, "score": result.score,
                            "max_score": result.max_score, "lost": lost, "timings": result.timings,
                            "accuracies": {b: t.accuracy for b, t in result.trainings.items()}})
            log(f"  graded {name:<18} {result.score:>5.2f}/{result.max_score:g} in {result.execution_time:5.1f} s"
                f"{'  lost: ' + ', '.join(lost) if lost else ''}")
    return results


def lecture_epoch_probe(data_source: str) -> dict[str, float]:
    """Run in a fresh process (TensorFlow's defaults, no op determinism): one lecture epoch per model."""
    import keras

    from autograder.grader import reference
    from autograder.support.mnist import load_dataset
    from autograder.evidence.training_outcome import INPUT_KIND

    dataset = load_dataset(data_source)
    n_val = dataset.n_val
    y = reference.relabel_odd_even(dataset.y_train)
    x_train, y_train, x_val, y_val = reference.split_train_val(dataset.x_train, y, n_val=n_val)
    prepare = {"mlp": reference.prepare_mlp_input, "cnn": reference.prepare_cnn_input}
    seconds = {}
    for builder, kind in INPUT_KIND.items():
        keras.utils.set_random_seed(0)
        model = reference.compile_model(getattr(reference, builder)())
        xt, xv = prepare[kind](x_train), prepare[kind](x_val)
        started = time.perf_counter()
        model.fit(xt, y_train, epochs=1, batch_size=32, validation_data=(xv, y_val), verbose=0)
        seconds[builder] = time.perf_counter() - started
    return seconds


def lecture_epoch(data_source: str, log) -> dict[str, float]:
    """Seconds of one lecture-protocol epoch per reference model (fit with validation, as the notebook does)."""
    proc = subprocess.run([sys.executable, __file__, "--lecture-epoch-probe", data_source],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    seconds = json.loads(proc.stdout.strip().splitlines()[-1])
    for builder, s in seconds.items():
        log(f"  lecture epoch {SHORT[builder]:<9} {s:5.1f} s (50,000 images, batch 32, validation on 10,000)")
    return seconds


def fresh_grades(data_source: str, repeats: int, log) -> list[float]:
    """Wall seconds of ``python -m autograder grade`` of the reference, each from a fresh interpreter: what one
    student's or instructor's single grade costs, start-up included."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", str(REFERENCE), "--quiet", "--data", data_source],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
        log(f"  one fresh `grade` of the reference: {seconds[-1]:.1f} s")
    return seconds


def memory_probe(data_source: str, notebook: str) -> dict[str, float]:
    """Run in a fresh process: grade one notebook; the peak resident memory of this process, its submission's
    process (its child) and its model process (that process's memory cgroup, where it has one)."""
    from autograder.support.config import load_config
    from autograder.grader.grading import Grader

    grader = Grader(load_config(ROOT / "course.yml", data={"source": data_source}), log=lambda m: None)
    result = grader.grade_notebook(notebook)
    return {"score": result.score, "grader": mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
            "submission_process": mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
            "model_process": result.isolation.get("models", {}).get("peak_mb") or 0.0}


def measure_memory(data_source: str, log) -> dict[str, float]:
    notebook = str(REFERENCE)
    proc = subprocess.run([sys.executable, __file__, "--memory-probe", data_source, notebook],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    peak = json.loads(proc.stdout.strip().splitlines()[-1])
    # The model process outlives each submission (it waits, holding TensorFlow and the data, while the next
    # submission's process runs): the sum is the bound.
    peak["both"] = peak["grader"] + peak["submission_process"] + peak["model_process"]
    log(f"  grading one submission in a fresh process: grader {peak['grader']:.0f} MiB, the submission's process "
        f"{peak['submission_process']:.0f} MiB, the model process {peak['model_process']:.0f} MiB "
        f"(its cgroup's high-water mark), at most {peak['both']:.0f} MiB at once")
    return peak


def determinism_probe(data_source: str, deterministic: bool) -> dict:
    """Run in a fresh process: train the three reference models once under the protocol."""
    from autograder.grader import reference
    from autograder.support.config import load_config
    from autograder.support.mnist import load_dataset
    from autograder.engine.training import grading_data, train_and_evaluate
    from autograder.evidence.training_outcome import BUILDERS

    config = load_config(ROOT / "course.yml", data={"source": data_source}, grading={"deterministic": deterministic})
    dataset = load_dataset(data_source)
    data = grading_data(dataset, config.grading, config.data.n_val or dataset.n_val)
    out = {}
    for builder in BUILDERS:
        o = train_and_evaluate(getattr(reference, builder)(), builder, data, config.grading, config.grading.seed)
        out[builder] = {"seconds": o.seconds, "accuracy": o.accuracy}
    return out


def measure_determinism(data_source: str, log) -> dict:
    runs = {}
    for flag in (False, True, True):
        proc = subprocess.run([sys.executable, __file__, "--determinism-probe", data_source, str(flag)],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        runs.setdefault(flag, []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    on, off = runs[True], runs[False][0]
    cost = {b: on[0][b]["seconds"] - off[b]["seconds"] for b in off}
    same_on = all(on[0][b]["accuracy"] == on[1][b]["accuracy"] for b in off)
    same_off = all(on[0][b]["accuracy"] == off[b]["accuracy"] for b in off)
    log(f"  op determinism costs {sum(cost.values()):+.1f} s per submission "
        f"({', '.join(f'{SHORT[b]} {c:+.1f} s' for b, c in cost.items())}); two deterministic processes agree: "
        f"{same_on}; the non-deterministic run gave the same accuracies: {same_off}")
    return {"on": on, "off": off, "cost_seconds": cost, "deterministic_runs_agree": same_on,
            "off_matches_on": same_off}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("mnist", "sample"), default="mnist")
    parser.add_argument("--repeats", type=int, default=3, help="times the complete reference submission is graded")
    parser.add_argument("--seeds", type=int, default=20, help="seeds of the discrimination table")
    parser.add_argument("--discrimination-models", default="mlp",
                        help="models the bugs are applied to (the reference row always covers all three)")
    parser.add_argument("--skip-discrimination", action="store_true")
    parser.add_argument("--graded-only", action="store_true",
                        help="stop after the graded submissions (start-up, set-up and section 3 only)")
    parser.add_argument("--fresh-grades", type=int, default=3,
                        help="times `python -m autograder grade` of the reference runs from a fresh interpreter, "
                             "after the lecture epoch, for its speed-up over the naive re-run (0: skip)")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--determinism-probe", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--lecture-epoch-probe", help=argparse.SUPPRESS)
    parser.add_argument("--memory-probe", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.determinism_probe:
        print(json.dumps(determinism_probe(args.determinism_probe[0], args.determinism_probe[1] == "True")))
        return 0
    if args.lecture_epoch_probe:
        print(json.dumps(lecture_epoch_probe(args.lecture_epoch_probe)))
        return 0
    if args.memory_probe:
        print(json.dumps(memory_probe(*args.memory_probe)))
        return 0

    log = lambda msg: print(msg, flush=True)  # noqa: E731
    report: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                    "date": time.strftime("%Y-%m-%d")}
    log(f"machine: {report['machine']}")

    log("\n1. start-up")
    report["startup_seconds"] = measure_startup()
    log(f"  `{IMPORTS}` in a fresh interpreter: {report['startup_seconds']:.1f} s")
    started = time.perf_counter()
    import keras
    import tensorflow as tf

    from autograder.grader.calibration import calibration_summary
    from autograder.support.config import load_config
    from autograder.grader.grading import Grader
    report["versions"] = {"tensorflow": tf.__version__, "keras": keras.__version__}
    report["import_seconds_here"] = time.perf_counter() - started

    log("\n2. set-up (once per grading session)")
    config = load_config(ROOT / "course.yml", data={"source": args.data})
    grader = Grader(config, log=lambda msg: None)
    grader.calibration  # noqa: B018 - loads data, grading data and calibration, timed
    for phase, seconds in grader.setup_timings.items():
        log(f"  {phase:<50} {seconds:6.2f} s")
    report["setup_timings"] = grader.setup_timings
    log("  " + calibration_summary(grader.calibration).replace("\n", "\n  "))

    log(f"\n3. graded submissions ({args.data}, protocol {config.grading.model_dump()})")
    graded = grade_submissions(grader, args.repeats, log)
    report["graded"] = graded
    times = [g["seconds"] for g in graded]
    median = statistics.median(times)
    phases: dict[str, list[float]] = {}
    for g in graded:
        for phase, seconds in g["timings"].items():
            phases.setdefault(phase, []).append(seconds)
    log("\n  median seconds per phase over the graded submissions:")
    log(table(["phase", "median s", "max s"], [[p, f"{statistics.median(v):.2f}", f"{max(v):.2f}"]
                                                for p, v in phases.items()]))
    log(f"\n  median per submission: {median:.1f} s (min {min(times):.1f}, max {max(times):.1f}, n={len(times)})")
    report["median_seconds"] = median
    references = [g for g in graded if g["name"].startswith("reference #")]
    report["median_reference_seconds"] = statistics.median(g["seconds"] for g in references)
    each = ", ".join(f"{g['seconds']:.1f}" for g in references)
    log(f"  median per reference submission: {report['median_reference_seconds']:.1f} s ({each})")
    for label, subset in (("every graded submission", graded), ("the reference submissions", references)):
        rows = wall_time_by_phase(subset)
        report.setdefault("wall_time_by_phase", {})[label] = dict(rows)
        log(f"\n  where the wall time goes, {label} (mean seconds, n={len(subset)}; nested phases left out):")
        log(table(["phase", "mean s"], [[phase, f"{seconds:.2f}"] for phase, seconds in rows]))
    if args.graded_only:
        return write_report(report, args.json, log)
    # Its model process holds TensorFlow, the data and threads: gone before the timings below, which it slowed
    # (fresh `grade`s took 20-24 s beside it, 15-16 s without, on an otherwise idle machine).
    grader.model_process.close()

    log("\n4. peak memory (resident set, high-water marks)")
    batch_peak = mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    report["peak_mib"] = measure_memory(args.data, log)
    report["peak_mib"]["grader_after_all_submissions"] = batch_peak
    log(f"  this benchmark's own process after grading {len(graded)} submissions: {batch_peak:.0f} MiB")

    log("\n5. the naive alternative: the lecture's protocol")
    epoch = lecture_epoch(args.data, log)
    naive = 30 * sum(epoch.values())
    report["lecture_epoch_seconds"] = epoch
    report["naive_rerun_seconds"] = naive
    report["speedup"] = naive / median
    log(f"  one epoch of the three models: {sum(epoch.values()):.1f} s; × 30 epochs = {naive:.0f} s "
        f"({naive / 60:.1f} min) per submission; the grader's median {median:.1f} s is {naive / median:.0f}× faster")
    if args.fresh_grades:
        fresh = fresh_grades(args.data, args.fresh_grades, log)
        report["fresh_grade_seconds"] = fresh
        report["fresh_grade_speedup"] = naive / statistics.median(fresh)
        log(f"  one `python -m autograder grade` of the reference from a fresh shell: median "
            f"{statistics.median(fresh):.1f} s ({', '.join(f'{s:.1f}' for s in fresh)}), "
            f"{report['fresh_grade_speedup']:.0f}× faster than the naive re-run")

    log("\n6. op determinism")
    report["determinism"] = measure_determinism(args.data, log)

    if not args.skip_discrimination:
        from autograder.dev.broken import VARIANTS, discriminate
        from autograder.evidence.training_outcome import BUILDERS

        log(f"\n7. discrimination over {args.seeds} seeds (seeds 1000+, not the calibration's)")
        seeds = [1000 + i for i in range(args.seeds)]
        thresholds = {b: m.threshold for b, m in grader.calibration.models.items()}
        models = tuple(f"build_{m}" for m in args.discrimination_models.split(","))
        rows = discriminate(grader.data, config.grading, thresholds, seeds, BUILDERS, (None,), log=log)
        rows += discriminate(grader.data, config.grading, thresholds, seeds, models, VARIANTS, log=log)
        verdicts = {g["name"]: g for g in graded}
        verdicts["reference"] = verdicts["reference #1"]
        body = []
        for r in rows:
            accs = [a for a in r.accuracies if a is not None]
            graded_as = verdicts.get(r.variant)
            verdict = (f"{graded_as['score']:g}/{graded_as['max_score']:g}"
                       + (f", loses {', '.join(graded_as['lost'])}" if graded_as["lost"] else "")
                       if graded_as else "n/a (the grader trains every model it grades)")
            body.append([r.variant, SHORT[r.builder], f"{thresholds[r.builder]:.4f}",
                         f"{min(accs):.4f}–{max(accs):.4f}" if accs else "—",
                         f"{sum(r.failed)}/{len(r.failed)}", verdict])
        log("\n" + table(["submission", "model", "threshold", "accuracy under the protocol (min–max)",
                          "accuracy check fails", "whole submission graded"], body))
        report["discrimination"] = [r.__dict__ for r in rows]

    return write_report(report, args.json, log)


def write_report(report: dict, path: str | None, log) -> int:
    if path:
        Path(path).write_text(json.dumps(report, indent=2, default=str) + "\n")
        log(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
