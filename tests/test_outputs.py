"""Every file the user names is written whole or not at all, and only over a regular file."""

from __future__ import annotations

import os
import stat

import pytest

from nmi_desk.core.errors import UserError
from nmi_desk.core.outputs import write_output


def test_writes_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    assert write_output(str(target), "a,b\n") == str(target)
    assert target.read_text() == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_replaces_a_regular_file_whole(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    write_output(str(target), b"new")
    assert target.read_bytes() == b"new"


def test_private_output_is_owner_only(tmp_path):
    target = tmp_path / "letter.pdf"
    write_output(str(target), b"%PDF", private=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_symlink_is_refused_and_its_target_untouched(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with pytest.raises(UserError, match="is a link"):
        write_output(str(link), "x")
    assert real.read_text() == "keep" and link.is_symlink()


def test_a_device_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # a device-like target that a test may create (never a real device)
    with pytest.raises(UserError, match="not a regular file"):
        write_output(str(fifo), "x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize(
    "name, message",
    [("", "give a file name"), ("missing/out.csv", "does not exist"), ("x" * 300, "too long")],
)
def test_bad_names_are_one_line(tmp_path, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=message):
        write_output(name, "x")


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        write_output(str(tmp_path), "x")


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old")

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(UserError, match="No space left on device"):
        write_output(str(target), "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
