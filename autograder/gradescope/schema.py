"""A JSON schema of Gradescope's results.json, as far as this kit writes it (validated in tests and
before each write, so a field this kit gets wrong is found here rather than on Gradescope)."""

from __future__ import annotations

VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]

_TEST = {
    "type": "object",
    "required": ["name", "number", "score", "max_score", "status", "output", "tags", "visibility"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "number": {"type": "string", "minLength": 1},
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "status": {"enum": ["passed", "failed"]},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
    },
}

RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "execution_time", "output", "stdout_visibility", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": _TEST},
        "leaderboard": {"type": "array"},
    },
}


def validate_results(results: dict) -> None:
    """Raise jsonschema.ValidationError when ``results`` is not a results.json Gradescope accepts."""
    import jsonschema

    jsonschema.validate(results, RESULTS_SCHEMA)
