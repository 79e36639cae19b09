"""Student-facing text in English or Korean, through gettext catalogs managed with Babel.

Messages are written as ``_("… {accuracy:.4f} …").format(accuracy=...)``: ``_`` marks the msgid
for Babel's extractor and returns a lazy ``Message``, so a check can raise it without knowing
the language; whoever shows it renders it with a ``Translator`` for the language it was given.
``str(message)`` is the English text. The Korean catalog lives in
``autograder/locale/ko/LC_MESSAGES/autograder.po`` and is compiled in memory when first used,
so no compiled file can go stale.
"""

from __future__ import annotations

import gettext
import io
import re
import string
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "ko")
DOMAIN = "autograder"
# The catalogs sit in the package's folder (autograder/locale/), one above this module's.
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"


class Message:
    """A msgid with its named arguments, rendered in a language only when shown."""

    __slots__ = ("msgid", "kwargs")

    def __init__(self, msgid: str, kwargs: dict | None = None):
        self.msgid = msgid
        self.kwargs = kwargs or {}

    def format(self, **kwargs) -> "Message":
        """The same msgid with its named arguments (``{name}`` placeholders) filled in at render time."""
        return Message(self.msgid, {**self.kwargs, **kwargs})

    def render(self, translator: "Translator") -> str:
        """The text in the translator's language; arguments that are messages are rendered too."""
        args = {k: (v.render(translator) if isinstance(v, Message) else v) for k, v in self.kwargs.items()}
        return translator.gettext(self.msgid).format(**args)

    def __str__(self) -> str:
        return self.render(ENGLISH)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r})"

    def __eq__(self, other) -> bool:
        # The same msgid with the same arguments is the same message, whatever object holds it (a result
        # read back from JSON equals the one that was sent).
        if not isinstance(other, Message):
            return NotImplemented
        try:
            return self.msgid == other.msgid and bool(self.kwargs == other.kwargs)
        except ValueError:  # arguments that do not compare as one truth value (arrays)
            return False

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __contains__(self, text: str) -> bool:
        """Whether the English text contains ``text``, as for a str (what code and tests look for in a message)."""
        return text in str(self)

    def to_data(self) -> dict:
        """Plain JSON data: ``{"msgid": …, "kwargs": {…}}``, arguments that are messages as the same data.

        Numbers and strings stay as they are (numpy scalars become Python numbers, so that format specs
        such as ``{accuracy:.4f}`` still apply); anything else becomes the text it would render as.
        """
        return {"msgid": self.msgid, "kwargs": {k: _argument_data(v) for k, v in self.kwargs.items()}}


# Bounds on a message read back from data that may be untrusted (``text_from_data``).
MAX_TEXT_CHARS = 20_000
MAX_MESSAGE_NODES = 2_000
MAX_MESSAGE_DEPTH = 200
# A format spec as the kit's messages write them (``:.4f``, ``:,``, ``:>5``, ``:g``): no nested fields,
# no width past three digits (a spec is also how a hostile message would ask for a gigabyte of padding).
_SAFE_SPEC = re.compile(r"[<>^=]?[+\- ]?#?0?\d{0,3}[,_]?(\.\d{1,3})?[a-zA-Z%]?")


def _argument_data(value):
    if isinstance(value, Message):
        return value.to_data()
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    item = getattr(value, "item", None)  # a numpy scalar (or a 0-d array): its Python number
    if callable(item) and getattr(value, "shape", None) == ():
        value = item()
        if isinstance(value, (str, bool, int, float)):
            return value
    return str(value)


def text_to_data(text) -> dict | str:
    """A message as ``Message.to_data``'s data; a plain string as itself."""
    return text.to_data() if isinstance(text, Message) else str(text)


def text_from_data(data) -> "Message | str":
    """A message (or plain string) from ``text_to_data``'s data; ValueError for anything else.

    The data may come from a process that handled a submission, so it is checked before it is trusted:
    types, sizes, nesting, and that every ``{placeholder}`` names an argument with a plain format spec
    (``str.format`` would otherwise read attributes or pad without bound when the message is rendered).
    """
    budget = [MAX_MESSAGE_NODES]
    return _text_from_data(data, 0, budget)


def _text_from_data(data, depth: int, budget: list[int]):
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_MESSAGE_DEPTH:
        raise ValueError(f"a message nests more than {MAX_MESSAGE_DEPTH} deep or has more than "
                         f"{MAX_MESSAGE_NODES} parts")
    if isinstance(data, str):
        if len(data) > MAX_TEXT_CHARS:
            raise ValueError(f"a message's text has {len(data):,} characters; at most {MAX_TEXT_CHARS:,} are accepted")
        return data
    if isinstance(data, dict) and set(data) == {"table"}:
        return _table_from_data(data["table"], depth, budget)
    if not isinstance(data, dict) or set(data) != {"msgid", "kwargs"}:
        raise ValueError("a message must be a string or a mapping with exactly the keys msgid and kwargs, not "
                         f"{type(data).__name__} {sorted(data) if isinstance(data, dict) else ''}".rstrip())
    msgid, kwargs = data["msgid"], data["kwargs"]
    if not isinstance(msgid, str) or not isinstance(kwargs, dict):
        raise ValueError("a message's msgid must be a string and its kwargs a mapping")
    _text_from_data(msgid, depth, budget)
    args = {}
    for key, value in kwargs.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"a message's argument name must be an identifier, not {key!r:.40}")
        if isinstance(value, (dict, str)):
            args[key] = _text_from_data(value, depth + 1, budget)
        elif isinstance(value, (bool, int, float)) or value is None:
            args[key] = value
        else:
            raise ValueError(f"a message's argument {key} is a {type(value).__name__}; arguments are messages, "
                             "strings, numbers or null")
    _check_placeholders(msgid, args)
    return Message(msgid, args)


def _table_from_data(data, depth: int, budget: list[int]):
    """A table (``messages.table.Table.to_data``): headers are messages, cells their text, each one bounded."""
    from autograder.messages.table import Table

    if not isinstance(data, dict) or set(data) != {"headers", "rows", "marker_row"} \
            or not isinstance(data["headers"], list) or not isinstance(data["rows"], list) \
            or not (data["marker_row"] is None or type(data["marker_row"]) is int):
        raise ValueError("a table must be a mapping of headers (a list), rows (a list) and marker_row (a whole number "
                         "or null)")
    headers = tuple(_text_from_data(h, depth + 1, budget) for h in data["headers"])
    for row in data["rows"]:
        budget[0] -= len(row) if isinstance(row, list) else 1
        if budget[0] < 0:
            raise ValueError(f"a message has more than {MAX_MESSAGE_NODES} parts")
        if not isinstance(row, list) or len(row) != len(headers) or not all(isinstance(c, str) for c in row):
            raise ValueError("a table's rows must be lists of text, one cell per header")
        _text_from_data("".join(row), depth + 1, budget)  # the length bound of any text
    return Table(headers, data["rows"], data["marker_row"])


def _check_placeholders(msgid: str, args: dict) -> None:
    try:
        fields = list(string.Formatter().parse(msgid))
    except ValueError as exc:
        raise ValueError(f"a message's msgid is not a format string: {exc}") from None
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in args:
            raise ValueError(f"a message's placeholder {{{name:.40}}} names no argument of it (it has: "
                             f"{', '.join(sorted(args)) or 'none'})")
        if conversion not in (None, "r", "s", "a") or not _SAFE_SPEC.fullmatch(spec or ""):
            raise ValueError(f"a message's placeholder {{{name}}} has a format spec the kit never writes: {spec!r:.40}")


def _join(a, b) -> Message:
    # Concatenation keeps both parts lazy; "{a}{b}" is a format, not a translatable message.
    return Message("{a}{b}", {"a": a, "b": b})


def lines(messages) -> Message:
    """Messages joined by newlines, still lazy."""
    joined: Message | str = ""
    for n, message in enumerate(messages):
        joined = message if n == 0 else _join(_join(joined, "\n"), message)
    return joined if isinstance(joined, Message) else Message("")


def _(msgid: str) -> Message:
    """Mark a student-facing message for translation (Babel extracts the calls of ``_``)."""
    return Message(msgid)


def lazy(value) -> "Message | str":
    """A message as it is (rendered later, in the reader's language); anything else as its text."""
    return value if isinstance(value, Message) else str(value)


def render(text, translator: "Translator") -> str:
    """A message or plain string as text in the translator's language."""
    return text.render(translator) if isinstance(text, Message) else str(text)


class Translator:
    """gettext for one language, passed explicitly to whatever renders student-facing text."""

    def __init__(self, lang: str = "en"):
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGUAGES)}")
        self.lang = lang
        self._translations = _translations(lang)

    def gettext(self, msgid: str) -> str:
        """The translation of ``msgid`` (the msgid itself in English or when untranslated)."""
        return self._translations.gettext(msgid) if msgid else msgid

    def __call__(self, text, **kwargs) -> str:
        """Render a message, or translate and format a plain msgid (e.g. a check's rule)."""
        if isinstance(text, Message):
            return text.format(**kwargs).render(self) if kwargs else text.render(self)
        translated = self.gettext(str(text))
        return translated.format(**kwargs) if kwargs else translated


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def _translations(lang: str) -> gettext.NullTranslations:
    path = catalog_path(lang)
    if lang == "en" or not path.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


ENGLISH = Translator("en")
