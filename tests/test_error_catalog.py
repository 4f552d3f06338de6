"""Every message a UserError (or a one-line explanation) can carry is in both catalogs, with the
same placeholders, and the code gives exactly those. The keys are found by reading the source:
every `Text("key", ...)` (nmi_desk.core.i18n.Text) and every `SomeError.of("key", ...)` call, so a
new message cannot be forgotten in a list. CLI-only modules may still raise plain English."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from nmi_desk.core import errors
from nmi_desk.core.i18n import catalog

PACKAGE = Path(__file__).resolve().parent.parent / "nmi_desk"
# Modules only the command line reaches: their UserErrors may stay plain English strings.
CLI_ONLY = {"entry.py", "demo.py"}  # and every module of nmi_desk/cli/
CLI_ONLY_PATHS = {"sync/publish.py"}
MACHINERY = {"i18n.py", "errors.py"}  # they pass keys along; their own keys are checked below


def _imports_catalog_text(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "nmi_desk.core.i18n"
        and any(alias.name == "Text" for alias in node.names)
        for node in ast.walk(tree)
    )


def _uses() -> list[tuple[str, str | None, set[str] | None]]:
    """(where, key, parameter names) of every catalog text the code makes; key None when it is
    not a literal, parameters None when they are passed as **mapping."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        catalog_text = _imports_catalog_text(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            is_text = isinstance(func, ast.Name) and func.id == "Text" and catalog_text
            is_of = isinstance(func, ast.Attribute) and func.attr == "of"
            if not (is_text or is_of):
                continue
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            first = node.args[0] if node.args else None
            key = first.value if isinstance(first, ast.Constant) else None
            names = {k.arg for k in node.keywords}
            found.append((where, key, None if None in names else names))
    return found


USES = _uses()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_messages():
    keys = {key for _, key, _ in USES}
    assert len(keys) > 100
    assert {"errors.letter.print_missing", "errors.output.not_regular", "errors.db.busy"} <= keys


def test_every_key_is_a_literal_outside_the_machinery():
    dynamic = [
        w for w, key, _ in USES if key is None and Path(w.split(":")[0]).name not in MACHINERY
    ]
    assert dynamic == [], "give the catalog key as a literal, so this test can check it"


@pytest.mark.parametrize(("where", "key", "names"), [u for u in USES if u[1] is not None])
def test_each_key_is_in_both_catalogs_with_the_given_placeholders(where, key, names):
    nl, en = catalog("nl").get(key), catalog("en").get(key)
    assert nl is not None, f"{where}: {key} missing in nl.toml"
    assert en is not None, f"{where}: {key} missing in en.toml"
    assert _placeholders(nl) == _placeholders(en), f"{key}: nl and en differ in placeholders"
    if names is not None:
        assert _placeholders(en) == names, f"{where}: {key} is given {sorted(names)}"


@pytest.mark.parametrize("key", sorted(set(errors._OS_REASONS.values())))
def test_the_system_reasons_are_in_both_catalogs(key):
    assert catalog("nl").get(key) and catalog("en").get(key)


def test_every_error_key_in_a_catalog_is_in_the_other():
    nl = {k for k in catalog("nl") if k.startswith("errors.")}
    en = {k for k in catalog("en") if k.startswith("errors.")}
    assert nl == en
    for key in nl:
        assert _placeholders(catalog("nl")[key]) == _placeholders(catalog("en")[key]), key


def _user_error_classes(trees) -> set[str]:
    """UserError and the names of its subclasses anywhere in the package."""
    names = {"UserError"}
    while True:
        more = {
            node.name
            for tree in trees
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id in names for b in node.bases)
        }
        if more <= names:
            return names
        names |= more


def test_no_plain_english_user_error_outside_the_command_line():
    """A UserError that can reach the TUI carries a catalog key, not an English f-string."""
    trees = {
        path.relative_to(PACKAGE).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    classes = _user_error_classes(trees.values())
    assert {"DatabaseProblem", "WrongPassphrase", "DatabaseLocked"} <= classes
    plain = []
    for rel, tree in trees.items():
        if Path(rel).name in CLI_ONLY or rel in CLI_ONLY_PATHS or rel.startswith("cli/"):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in classes
                and node.args
                and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp))
            ):
                plain.append(f"{rel}:{node.lineno}")
    assert plain == [], "raise UserError.of('errors...', ...) instead of an English string"


def test_the_english_text_is_the_string_and_the_dutch_one_is_rendered():
    exc = errors.UserError.of("errors.output.folder", output="/tmp/x")
    assert str(exc) == "/tmp/x is a folder: give a file name"
    assert errors.user_text(exc, "nl") == "/tmp/x is een map: geef een bestandsnaam"
    assert errors.user_text(exc, "en") == str(exc)
    assert errors.user_text(errors.UserError("plain words"), "nl") == "plain words"


def test_a_stored_sync_error_comes_back_in_the_ui_language(desk):
    """The sync line after a restart reads the last error from the database: the catalog text
    is stored beside the English line, so the Dutch UI can still say it in Dutch."""
    from nmi_desk.core.i18n import Text
    from nmi_desk.sync.state import read_status, record_outcome

    engine = desk.engine()
    error = Text(
        "errors.sync.unreachable", target="sqlite:///central.db", reason=Text("errors.os.disk_full")
    )
    record_outcome(engine, "2026-03-10T09:00:00", error)
    stored = read_status(engine).last_error
    assert stored == "cannot reach sync target sqlite:///central.db: No space left on device"
    assert errors.user_text(stored, "nl") == (
        "synchronisatiedoel sqlite:///central.db is niet bereikbaar: de schijf is vol"
    )
    record_outcome(engine, "2026-03-10T09:05:00", "an older version's plain line")
    assert errors.user_text(read_status(engine).last_error, "nl") == "an older version's plain line"
    record_outcome(engine, "2026-03-10T09:10:00", None)
    assert read_status(engine).last_error is None
