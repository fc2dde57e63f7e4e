"""Keep the message catalogue in step with the code (a developer's tool; needs Babel, a dev
dependency)::

    python -m xl_aiindex.i18n_tools update    # extract -> .pot, merge into each .po, compile .mo
    python -m xl_aiindex.i18n_tools check     # list the messages without a translation (exit 1)

:func:`extract` reads every ``_()``, ``ngettext()`` and ``N_()`` call in ``xl_aiindex`` and
``udfs`` with Babel, plus the help texts of the command line (click builds them from
docstrings and ``help=``: :func:`help_texts`). A translator fills the empty ``msgstr`` of the
``.po`` and runs ``update`` again (it compiles the ``.mo`` the package ships).
"""

from __future__ import annotations

import inspect
import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
#: The folders whose Python code holds messages.
SOURCES = ("xl_aiindex", "udfs")
#: The functions whose arguments are messages (Babel's keywords): ``ngettext`` has two.
KEYWORDS: dict[str, Any] = {"_": None, "N_": None, "ngettext": (1, 2)}
#: The languages with a translation (English is the source).
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")

TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
#: The date written in the catalogues' headers: fixed, so that an update changes the files only
#: where a message changed (and two branches' catalogues merge).
HEADER_DATE = datetime(2026, 12, 1, tzinfo=UTC)


def po_path(language: str) -> Path:
    """The ``.po`` of ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    """The compiled ``.mo`` of ``language`` (what :mod:`xl_aiindex.i18n` reads)."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def help_texts() -> Iterator[str]:
    """Every help text of the command line as the help screens translate it (a command's
    docstring, cleaned as click cleans it; each option's ``help=``)."""
    import click

    from .cli import cli

    def original(owner: object, attribute: str) -> str | None:
        # the English text, also after a run in another language translated it in place
        sources = owner.__dict__.get("_help_source")
        if sources is not None and attribute in sources:
            return sources[attribute]
        return getattr(owner, attribute, None)

    def walk(command: click.Command) -> Iterator[str]:
        for attribute in ("help", "short_help", "epilog"):
            text = original(command, attribute)
            if text:
                yield inspect.cleandoc(text)
        for param in command.params:
            help_text = original(param, "help")
            if help_text:
                yield help_text
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(sub)

    yield from walk(cli)


def extract() -> Any:
    """The catalogue template: every message of the code, as a Babel ``Catalog``."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    template = Catalog(project="xl-aiindex", version="", charset="utf-8",
                       creation_date=HEADER_DATE, revision_date=HEADER_DATE, fuzzy=False)
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS,
                comment_tags=("Translators:",), strip_comment_tags=True):
            template.add(message, None, [(f"{folder}/{filename}", lineno)],
                         auto_comments=comments, context=context)
    for text in help_texts():
        if text not in template:
            template.add(text, None, [("xl_aiindex/cli.py", 0)])
    return template


def read_catalogue(language: str) -> Any:
    """The ``.po`` of ``language``, read (a Babel ``Catalog``)."""
    from babel.messages.pofile import read_po

    with po_path(language).open("rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


def _write_po(path: Path, catalogue: Any) -> None:
    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    # no line numbers: they move with every edit and would make every diff touch the catalogue
    write_po(buffer, catalogue, width=0, include_lineno=False, sort_output=True,
             ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def compile_mo(language: str) -> bytes:
    """The ``.mo`` of ``language``'s ``.po`` (fuzzy and untranslated messages left out)."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read_catalogue(language))
    return buffer.getvalue()


def _messages(catalogue: Any) -> dict[Any, Any]:
    """msgid -> msgstr of every translated message (plural forms as tuples), header left out."""
    def tup(value: Any) -> Any:
        return value if isinstance(value, str) else tuple(value)

    return {tup(m.id): tup(m.string) for m in catalogue
            if m.id and m.string and not m.fuzzy
            and all([m.string] if isinstance(m.string, str) else m.string)}


def mo_matches_po(language: str) -> bool:
    """Whether the shipped ``.mo`` of ``language`` says what its ``.po`` says (compared message
    by message: two Babel versions compile the same ``.po`` to different bytes)."""
    from babel.messages.mofile import read_mo

    with mo_path(language).open("rb") as f:
        return _messages(read_mo(f)) == _messages(read_catalogue(language))


def missing(language: str, template: Any | None = None) -> list[str]:
    """The messages of the code that ``language``'s ``.po`` does not translate (absent, empty
    or fuzzy)."""
    catalogue = read_catalogue(language)
    out = []
    for message in template if template is not None else extract():
        if not message.id:
            continue
        found = catalogue.get(message.id, message.context)
        strings = found.string if found is not None else None
        if isinstance(strings, tuple | list):
            strings = "" if not all(strings) else strings[0]
        if found is None or not strings or found.fuzzy:
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def update() -> None:
    """Extract the messages into the ``.pot``, merge it into each ``.po`` (new messages empty,
    vanished ones dropped) and compile each ``.mo``."""
    from babel.messages.catalog import Catalog

    template = extract()
    _write_po(TEMPLATE, template)
    for language in TRANSLATED:
        path = po_path(language)
        catalogue = read_catalogue(language) if path.exists() else Catalog(
            locale=language, domain=DOMAIN, project="xl-aiindex", version="", charset="utf-8",
            fuzzy=False)
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.creation_date = catalogue.revision_date = HEADER_DATE
        catalogue.fuzzy = False
        _write_po(path, catalogue)
        mo_path(language).write_bytes(compile_mo(language))


def main(argv: list[str] | None = None) -> int:
    """``update`` or ``check`` (see the module's docstring); the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["update"]:
        update()
        for language in TRANSLATED:
            gaps = missing(language)
            print(f"{language}: {len(gaps)} message(s) without a translation")
        return 0
    if args == ["check"]:
        template = extract()
        code = 0
        for language in TRANSLATED:
            for message in missing(language, template):
                print(f"{language}: no translation: {message!r}")
                code = 1
            if not mo_matches_po(language):
                print(f"{language}: {mo_path(language).name} is older than the .po: run update")
                code = 1
        return code
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
