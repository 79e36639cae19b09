"""The grading key: what must be equal for an old grade to still count.

It digests everything that decides a grade: the course's settings (course.yml, the grading protocol's
among them), the calibration files, the registered checks (each check's id: group, rule and probe),
the code that grades (the rules, the probes visible and hidden, the protocol's training, the scoring)
and the expected values. A new rule, a changed probe or a fixed check therefore regrades the class.

Code is digested as its syntax tree without docstrings (``ast.dump``), so that a comment, a docstring
or a reformatting changes no key: only what the code does. What renders a grade (messages, reports,
translations) is not in it: the ledger stores each grade as a language-free record, rendered when read.

Computed without loading the data or TensorFlow, so that the coordinator stays light: the calibration
is identified by the bytes of every calibration file for the configured data source, since which one
applies depends on the data's fingerprint, which only a worker loads. Changing any of them regrades
(a safe over-approximation); each ledger line also records the calibration key the worker actually used.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import textwrap
from pathlib import Path

import autograder
from autograder.support.config import CourseConfig

# The similarity report's settings and the cap on a submitted notebook's size change no grade (a notebook over the
# cap is refused, not graded): changing them must not regrade the class.
GRADE_NEUTRAL = {"similarity": True, "limits": {"notebook_size_limit_mb"}}
KIT = Path(autograder.__file__).resolve().parent
# The kit's modules whose code decides a grade, relative to the package folder: the rules and their helpers,
# the probes (visible and hidden), what a rule examines of a call, the grading protocol's training, the scoring.
GRADING_CODE = ("checks/*.py", "evidence/*.py", "engine/training.py", "engine/results.py",
                "hidden/every_probe.py")
# The expected values the checks compare answers with (``autograder.expected``).
EXPECTED_VALUES = "expected/*.json"


def calibration_files_digest(config: CourseConfig) -> dict[str, str]:
    """sha256 of each calibration file that may apply to this config's data source, by file name."""
    folder = config.calibration_dir
    if not folder.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob(f"{config.data.source}-*.json")) if p.is_file()}


def code_digest(source: str) -> str:
    """sha256 of what ``source`` (Python) does: its syntax tree without docstrings, so that comments, docstrings
    and layout move nothing. Text that does not parse is digested as it is."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return hashlib.sha256(source.encode()).hexdigest()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).hexdigest()


def grading_code_digest(kit: Path = KIT) -> dict[str, str]:
    """``code_digest`` of each of the kit's grading modules (``GRADING_CODE``), by path in the package."""
    paths = sorted({p for pattern in GRADING_CODE for p in kit.glob(pattern) if p.is_file()})
    return {p.relative_to(kit).as_posix(): code_digest(p.read_text(encoding="utf-8")) for p in paths}


def expected_values_digest(kit: Path = KIT) -> dict[str, str]:
    """sha256 of each expected-values file, as parsed data (its layout moves nothing)."""
    return {p.name: hashlib.sha256(json.dumps(json.loads(p.read_text(encoding="utf-8")), sort_keys=True).encode())
            .hexdigest() for p in sorted(kit.glob(EXPECTED_VALUES))}


def registered_checks() -> list[list]:
    """Every check the grader runs, as the registry holds it now: group, rule, probe, hidden, trains, weight.

    Made from the live registry (not from a list made at import), so that a rule registered later counts.
    """
    from autograder.checks.registry import checks_on
    from autograder.evidence.probes import VISIBLE_PROBES
    from autograder.hidden.every_probe import HIDDEN_PROBES

    return [[c.group, c.func.__name__, c.probe_name, c.hidden, c.needs_training, c.weight]
            for c in checks_on(VISIBLE_PROBES + HIDDEN_PROBES)]


def rules_digest() -> dict[str, str]:
    """``code_digest`` of each registered rule's own source, by module and name: a rule written outside the
    kit's grading modules (a course's own) counts too."""
    from autograder.checks.registry import RULES

    digests = {}
    for r in RULES:
        name = f"{r.func.__module__}.{r.func.__qualname__}"
        try:
            source = textwrap.dedent(inspect.getsource(r.func))
        except (OSError, TypeError):  # no source to read (built in memory): its bytecode identifies it
            source = repr((r.func.__code__.co_code, r.func.__code__.co_consts, r.func.__code__.co_names))
        digests[name] = code_digest(source)
    return digests


def grading_key(config: CourseConfig, kit: Path = KIT) -> str:
    """Short hash of the course config, the calibration files, the registered checks, the grading code, the
    expected values and the kit's version (``kit``: the package folder whose code is read)."""
    blob = json.dumps({"config": config.model_dump(mode="json", exclude=GRADE_NEUTRAL),
                       "calibration": calibration_files_digest(config), "checks": registered_checks(),
                       "rules": rules_digest(), "code": grading_code_digest(kit),
                       "expected": expected_values_digest(kit), "kit": autograder.__version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
