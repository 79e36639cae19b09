"""The main job, offline: build the release with nbgrader and autograde the example submissions.

make a course folder → ``nbgrader generate_assignment`` → submit the examples →
``nbgrader autograde`` → read the gradebook → print the grade table by group.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

from autograder.course import nbgrader_course
from autograder.support.config import GROUPS, CourseConfig
from autograder.course.examples import EXAMPLES, filled_release
from autograder.course.nbgrader_records import gradebook_scores


def format_table(scores: dict[str, dict[str, tuple[float, float]]]) -> str:
    groups = [g for g in GROUPS if any(g in s for s in scores.values())]
    head = f"{'student':<22}" + "".join(f"{g:>10}" for g in groups) + f"{'total':>12}"
    lines = [head, "-" * len(head)]
    for student, per_group in scores.items():
        total = sum(v[0] for v in per_group.values())
        most = sum(v[1] for v in per_group.values())
        cells = "".join(f"{per_group[g][0]:>6g}/{per_group[g][1]:<3g}" for g in groups)
        lines.append(f"{student:<22}{cells}{total:>7g}/{most:<4g}")
    return "\n".join(lines)


def make_demo_course(config: CourseConfig, workdir: Path, data: str) -> Path:
    """A throw-away nbgrader course: config, solutions, calibration and course.yml (data source set)."""
    extra = [config.calibration.directory] if (config.root / config.calibration.directory).is_dir() else []
    course = nbgrader_course.make_course(workdir, config.root, extra=extra)
    raw = yaml.safe_load(config.source_path.read_text(encoding="utf-8")) if config.source_path else {}
    raw.setdefault("data", {})["source"] = data
    (course / "course.yml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return course


def run_demo(config: CourseConfig, data: str = "sample", keep: Path | None = None) -> int:
    assignment, notebook = config.assignment, config.assignment
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as tmp:
        work = keep or Path(tmp)
        if keep and (keep / "course").exists():
            shutil.rmtree(keep / "course")
        course = make_demo_course(config, work, data)
        env = {"COURSE_CONFIG": str(course / "course.yml"), "TF_CPP_MIN_LOG_LEVEL": "2"}
        print(f"course folder: {course}  (data: {data}{' — the offline sample, not full MNIST' if data == 'sample' else ''})")
        release = nbgrader_course.generate(course, assignment, notebook, env=env)
        print(f"nbgrader generate_assignment → {release.relative_to(course)}")
        release_nb = nbformat.read(release, as_version=4)
        for student, replacements in EXAMPLES.items():
            path = work / f"{student}.ipynb"
            nbformat.write(filled_release(release_nb, replacements), path)
            nbgrader_course.submit(course, student, path, assignment, notebook)
        print(f"submitted {len(EXAMPLES)} example notebooks; running nbgrader autograde (10-20 s each) ...")
        nbgrader_course.autograde(course, assignment, notebook, env=env)
        scores = gradebook_scores(course, assignment, notebook, list(EXAMPLES))
        print()
        print(format_table(scores))
        print(f"\nfinished in {time.perf_counter() - started:.0f} s")
        if keep:
            print(f"kept the course in {course}; try: cd {course} && nbgrader generate_feedback {assignment}")
    return 0

