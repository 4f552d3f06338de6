"""One way through the house: domain and store modules never import Textual, and the
start-up fast path (today's rows) does not import SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

UI_FREE = [
    "nmi_desk.cli",
    "nmi_desk.cli_clients",
    "nmi_desk.clients",
    "nmi_desk.config",
    "nmi_desk.desk",
    "nmi_desk.demo",
    "nmi_desk.doctor",
    "nmi_desk.names",
    "nmi_desk.referrals",
    "nmi_desk.reference_db",
    "nmi_desk.refdata",
    "nmi_desk.sessions",
    "nmi_desk.stats",
    "nmi_desk.store.connect",
    "nmi_desk.store.engine",
    "nmi_desk.store.migrations",
    "nmi_desk.store.models",
    "nmi_desk.sync.clients_pull",
    "nmi_desk.validation",
    "nmi_desk.visits",
]


def _modules_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", UI_FREE)
def test_domain_and_store_modules_do_not_import_textual(module):
    loaded = _modules_after_import(module)
    assert "textual" not in loaded


@pytest.mark.parametrize("module", ["nmi_desk.visits", "nmi_desk.store.connect", "nmi_desk.desk"])
def test_the_start_up_read_path_stays_off_sqlalchemy(module):
    loaded = _modules_after_import(module)
    assert "sqlalchemy" not in loaded
    assert "sqlmodel" not in loaded
