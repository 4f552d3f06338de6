"""Sync credentials: TLS with certificate and host-name check for every host that is not this
machine, whatever the URL says, and no password in any saved URL, config file, app_meta or
message. Loopback only: a remote server is either a name that is never contacted (the
connection parameters are checked) or a fake server on 127.0.0.1 that the test declares
remote."""

from __future__ import annotations

import socket
import struct
import threading

import pytest
from sqlalchemy import text

from nmi_desk.core.errors import UserError
from nmi_desk.store import engine as store_engine
from nmi_desk.store.engine import pg_connect_params
from nmi_desk.sync import resolve_target, run_sync
from nmi_desk.sync.target import open_central

REMOTE = "db.nmi.example"  # never resolved: parameters only


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://nmi:pw@{REMOTE}/central",
        f"postgresql+psycopg://nmi@{REMOTE}:6432/central?application_name=desk",
        f"postgresql+psycopg://nmi@/central?host={REMOTE}",  # empty URL host, remote host=
        f"postgresql+psycopg://nmi@localhost/central?host={REMOTE}",
        f"postgresql+psycopg://nmi@127.0.0.1/central?host=127.0.0.1,{REMOTE}",
        "postgresql+psycopg://nmi@localhost/central?hostaddr=192.0.2.7",
        "postgresql+psycopg://nmi@[2001:db8::5]/central",
    ],
)
def test_a_remote_host_gets_verify_full_with_the_system_ca_store(url, monkeypatch):
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    params = pg_connect_params(url)
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == "system"
    assert params["prepare_threshold"] is None  # transaction-mode poolers


def test_a_configured_ca_file_is_kept(monkeypatch):
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    params = pg_connect_params(
        f"postgresql+psycopg://nmi@{REMOTE}/central?sslrootcert=/etc/nmi/ca.pem"
    )
    assert (params["sslmode"], params["sslrootcert"]) == ("verify-full", "/etc/nmi/ca.pem")


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_a_weaker_sslmode_for_a_remote_host_is_refused(mode):
    with pytest.raises(UserError, match=f"sslmode={mode} is not allowed"):
        pg_connect_params(f"postgresql+psycopg://nmi:pw@{REMOTE}/central?sslmode={mode}")
    with pytest.raises(UserError, match="not allowed"):
        pg_connect_params(f"postgresql+psycopg://nmi@/central?host={REMOTE}&sslmode={mode}")


def test_pghost_in_the_environment_counts(monkeypatch):
    monkeypatch.setenv("PGHOST", REMOTE)
    assert pg_connect_params("postgresql+psycopg://nmi@/central")["sslmode"] == "verify-full"
    monkeypatch.setenv("PGSSLMODE", "disable")
    with pytest.raises(UserError):
        pg_connect_params("postgresql+psycopg://nmi@/central")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nmi@127.0.0.1:5432/central?sslmode=disable",
        "postgresql+psycopg://nmi@localhost/central",
        "postgresql+psycopg://nmi@[::1]/central",
        "postgresql+psycopg://nmi@/central?host=/var/run/postgresql",
        "postgresql+psycopg://nmi@127.0.0.2/central",
    ],
)
def test_loopback_and_unix_sockets_may_stay_plain(url, monkeypatch):
    monkeypatch.delenv("PGHOST", raising=False)
    monkeypatch.delenv("PGHOSTADDR", raising=False)
    params = pg_connect_params(url)
    assert params.get("sslmode") in (None, "disable")


class FakePostgres:
    """A tiny server on 127.0.0.1 that speaks the start of the PostgreSQL protocol: it refuses
    TLS ('N'), asks for a cleartext password, and records what arrives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.events: list[str] = []
        self.passwords: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                self.events.append("connect")
                try:
                    self._talk(conn)
                except (OSError, struct.error):
                    pass

    def _read(self, conn, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def _talk(self, conn) -> None:
        while True:
            (length,) = struct.unpack("!i", self._read(conn, 4))
            body = self._read(conn, length - 4)
            (code,) = struct.unpack("!i", body[:4])
            if code == 80877103:  # SSLRequest
                self.events.append("ssl-request")
                conn.sendall(b"N")
                continue
            if code == 80877104:  # GSSENCRequest
                conn.sendall(b"N")
                continue
            self.events.append("startup")
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            kind = self._read(conn, 1)
            (length,) = struct.unpack("!i", self._read(conn, 4))
            payload = self._read(conn, length - 4)
            if kind == b"p":
                self.passwords.append(payload.rstrip(b"\0"))
            error = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"
            conn.sendall(b"E" + struct.pack("!i", len(error) + 4) + error)
            return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def fake_server():
    server = FakePostgres()
    yield server
    server.close()


@pytest.fixture
def declared_remote(monkeypatch):
    """The test's stand-in for another machine: 127.0.0.1 counts as remote."""
    monkeypatch.setattr(store_engine, "is_local_host", lambda host: False)
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)


def _open(url: str) -> str:
    with pytest.raises(UserError) as caught:
        open_central(resolve_target(url, ""))
    return str(caught.value)


def test_the_fake_server_does_get_a_plaintext_password_from_a_local_plain_url(fake_server):
    """The control: without the rule (loopback may be plain) the password does arrive."""
    _open(f"postgresql+psycopg://nmi:TopSecret1@127.0.0.1:{fake_server.port}/c?sslmode=disable")
    assert fake_server.passwords == [b"TopSecret1"]


@pytest.mark.parametrize(
    "query",
    ["", "?application_name=desk", "?host=127.0.0.1&port={port}"],
)
def test_a_remote_server_without_tls_never_sees_the_password(fake_server, declared_remote, query):
    where = f"127.0.0.1:{fake_server.port}" if "host=" not in query else ""
    url = f"postgresql+psycopg://nmi:TopSecret1@{where}/c{query.format(port=fake_server.port)}"
    message = _open(url)
    assert fake_server.passwords == []
    assert "ssl-request" in fake_server.events and "startup" not in fake_server.events
    assert "TopSecret1" not in message
    assert len(message.splitlines()) == 1 and message.startswith("cannot reach sync target")


def test_sslmode_disable_for_a_remote_server_is_refused_before_connecting(
    fake_server, declared_remote
):
    message = _open(
        f"postgresql+psycopg://nmi:TopSecret1@127.0.0.1:{fake_server.port}/c?sslmode=disable"
    )
    assert "sslmode=disable is not allowed" in message
    assert fake_server.events == [] and fake_server.passwords == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nmi:UserInfoPw7@127.0.0.1:{port}/c?sslmode=disable",
        "postgresql+psycopg://nmi@127.0.0.1:{port}/c?sslmode=disable&password=QueryPw55",
        "postgresql+psycopg://nmi@127.0.0.1:{port}/c?sslpassword=KeyPw33&password=QueryPw55&sslmode=disable",
    ],
)
def test_no_password_lands_in_config_app_meta_or_the_message(desk, fake_server, url):
    target = resolve_target(url.format(port=fake_server.port), "")
    with pytest.raises(UserError) as caught:
        run_sync(desk.engine(), target, desk.now)
    desk.settings.sync_target = target.saved
    desk.save_settings()
    with desk.engine().connect() as c:
        meta = " ".join(v for (v,) in c.execute(text("SELECT value FROM app_meta")))
    shown = (str(caught.value), target.shown, target.saved, meta)
    config = desk.paths.config.read_text()
    for secret in ("UserInfoPw7", "QueryPw55", "KeyPw33"):
        assert all(secret not in s for s in shown), shown
        assert secret not in config
    assert fake_server.passwords  # the password was really used for the run
