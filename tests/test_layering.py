"""One way through the house. Statically: the import-linter contracts in pyproject.toml (the
domain and store never import the TUI, Textual or the CLI; the store never imports the
domain; the TUI has no SQL of its own), which also see imports inside functions. At run time:
importing a domain module loads no Textual, and the start-up fast path (today's rows) loads no
SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_layer_contracts_hold(monkeypatch, capsys):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "Contracts: 4 kept, 0 broken." in report


UI_FREE = [
    "nmi_desk.cli.app",
    "nmi_desk.cli.clients",
    "nmi_desk.domain.clients",
    "nmi_desk.core.config",
    "nmi_desk.domain.desk",
    "nmi_desk.domain.demo",
    "nmi_desk.domain.doctor",
    "nmi_desk.core.names",
    "nmi_desk.domain.referrals",
    "nmi_desk.domain.reference.db",
    "nmi_desk.domain.reference.files",
    "nmi_desk.domain.sessions",
    "nmi_desk.domain.stats.compute",
    "nmi_desk.store.connect",
    "nmi_desk.store.engine",
    "nmi_desk.store.migrations",
    "nmi_desk.store.models",
    "nmi_desk.sync.clients_pull",
    "nmi_desk.core.validation",
    "nmi_desk.domain.visits",
]


def _modules_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", UI_FREE)
def test_domain_and_store_modules_do_not_import_textual(module):
    loaded = _modules_after_import(module)
    assert "textual" not in loaded


@pytest.mark.parametrize("module", ["nmi_desk.domain.visits", "nmi_desk.store.connect", "nmi_desk.domain.desk"])
def test_the_start_up_read_path_stays_off_sqlalchemy(module):
    loaded = _modules_after_import(module)
    assert "sqlalchemy" not in loaded
    assert "sqlmodel" not in loaded
