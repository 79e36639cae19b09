"""The message catalog: every student-facing msgid, extracted with Babel, and the .po files updated from it.

Sources: the calls of ``_("…")`` in autograder/**/*.py, the ``_("…")`` calls of the report template,
and each check's rule (its docstring's first line, shown next to its result).
``python -m autograder update-catalog`` rewrites the .po files: new msgids get an empty
translation, obsolete ones are dropped, existing translations are kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder.messages.i18n import DOMAIN, LANGUAGES, catalog_path

PACKAGE = Path(__file__).resolve().parent.parent
_METHODS = [("**/templates/**.j2", "jinja2.ext:babel_extract"), ("**.py", "python")]
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-zA-Z_][a-zA-Z0-9_]*)[^{}]*\}")


def extract_msgids() -> dict[str, list[str]]:
    """Every msgid, with the places it comes from ('path:line' or 'rule of <check>')."""
    from babel.messages.extract import extract_from_dir

    from autograder.hidden.every_check import CHECKS

    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=_METHODS, options_map={"**/templates/**.j2": {"trim_blocks": "true"}},
            keywords={"_": None}):
        if isinstance(message, tuple):  # plural forms are not used; keep the singular
            message = message[0]
        if message:
            found.setdefault(message, []).append(f"autograder/{filename}:{lineno}")
    for check in CHECKS:
        found.setdefault(check.rule, []).append(f"rule of {check.func.__name__}")
    return found


def read_catalog(lang: str):
    """The .po catalog of ``lang`` (an empty one when the file does not exist yet)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = catalog_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN)
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def placeholders(text: str) -> set[str]:
    """The names of the ``{name}`` placeholders in a message."""
    return set(_PLACEHOLDER.findall(text))


def update_catalog(lang: str) -> Path:
    """Rewrite ``lang``'s .po file with the current msgids, keeping the translations it already has."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    old = read_catalog(lang)
    # The old header's dates are kept, so an update without new messages changes no byte.
    new = Catalog(locale=lang, domain=DOMAIN, project="binary-mnist-course-kit", version="0.1.0", fuzzy=False,
                  creation_date=old.creation_date, revision_date=old.revision_date)
    for msgid, places in extract_msgids().items():
        previous = old.get(msgid)
        new.add(msgid, previous.string if previous else "",
                locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) if ":" in p else (p, 0) for p in places[:3]],
                flags=("python-brace-format",) if placeholders(msgid) else ())
    path = catalog_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, new, width=100, sort_output=True, omit_header=False)
    return path


def untranslated(lang: str) -> list[str]:
    """The msgids with no translation (or a translation whose placeholders differ) in ``lang``."""
    catalog = read_catalog(lang)
    missing = []
    for msgid in extract_msgids():
        entry = catalog.get(msgid)
        if entry is None or not entry.string or placeholders(entry.string) != placeholders(msgid):
            missing.append(msgid)
    return missing


def update_all() -> list[Path]:
    """Update the catalog of every language but English (whose msgids are the text)."""
    return [update_catalog(lang) for lang in LANGUAGES if lang != "en"]
