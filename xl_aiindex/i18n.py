"""Messages in the reader's language: one gettext catalogue, English source, Chinese translation.

Every user-facing sentence is written in English in the code and wrapped in :func:`_` (or
:func:`ngettext`); the Chinese text lives in ``xl_aiindex/locale/zh/LC_MESSAGES/xl_aiindex.po``
and its compiled ``.mo``. The language of a run comes from ``--lang``, else the workbook's
Settings ``language``, else the locale (``LANG=zh_CN.UTF-8`` gives Chinese), else English.

Messages with values use named placeholders so a translation can reorder them::

    _("unknown unit {name}").format(name=name)
"""

from __future__ import annotations

import contextvars
import gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path

#: The languages a catalogue exists for; English is the source language.
LANGUAGES = ("en", "zh")
DOMAIN = "xl_aiindex"
LOCALE_DIR = Path(__file__).parent / "locale"

_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("xl_aiindex_language",
                                                                       default=None)
#: The language the Settings sheet of the workbook being read asks for (``language`` key):
#: used when no caller chose one (:func:`set_workbook_language`).
_workbook_language: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "xl_aiindex_workbook_language", default=None)


def normalise_language(text: str) -> str | None:
    """``"zh"``/``"en"`` for a language tag (``zh_CN.UTF-8``, ``zh-Hans``, ``中文``, ``English``),
    else None."""
    tag = text.strip().lower()
    if tag in ("中文", "汉语", "简体中文", "chinese") or tag.startswith("zh"):
        return "zh"
    if tag in ("英文", "english") or tag.startswith("en") or tag in ("c", "posix"):
        return "en"
    return None


def language_from_locale(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``,
    ``LANG``, first one set wins, as gettext reads them); English when none names Chinese."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return normalise_language(value.split(":")[0]) or "en"
    return "en"


def current_language() -> str:
    """The language messages are produced in now: the one set by :func:`use_language` /
    :func:`set_language` (``--lang``), else the workbook's Settings ``language``
    (:func:`set_workbook_language`), else the locale's."""
    return _language.get() or _workbook_language.get() or language_from_locale()


def set_language(language: str | None) -> None:
    """Make ``language`` (``"zh"``/``"en"``, None for the locale's) the language of this run."""
    _language.set(normalise_language(language) if language else None)


def chosen_language() -> str | None:
    """The language ``--lang`` (or a caller) chose, None when none was (worker processes of a
    batch get it passed, as contextvars do not cross processes)."""
    return _language.get()


def language_was_chosen() -> bool:
    """True when ``--lang`` (or a caller) chose the language, so a workbook's Settings
    ``language`` must not override it."""
    return _language.get() is not None


def set_workbook_language(language: str | None) -> None:
    """The language the workbook being read asks for in its Settings (``language``; None or
    ``""``: it does not say). Governs what is written into it and printed about it, unless a
    caller chose a language (``--lang``, :func:`use_language`). Each workbook read sets it, so
    a second workbook without the key does not inherit the first one's."""
    _workbook_language.set(normalise_language(language) if language else None)


@contextmanager
def use_language(language: str | None) -> Iterator[None]:
    """Produce messages in ``language`` inside the ``with`` block (None: keep the language
    chosen so far). A workbook's Settings ``language`` read inside the block lasts until its
    end only."""
    token = _language.set(normalise_language(language) if language else _language.get())
    book_token = _workbook_language.set(_workbook_language.get())
    try:
        yield
    finally:
        _workbook_language.reset(book_token)
        _language.reset(token)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language`` (English: the messages as written)."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for ``count``, in the current language."""
    return translations(current_language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """``message`` unchanged: marks a text for the catalogue where it is defined (a table of
    texts built at import); the code translates it with :func:`_` where it is shown."""
    return message
