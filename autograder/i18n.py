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
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "ko")
DOMAIN = "autograder"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


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
