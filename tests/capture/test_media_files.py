"""A media file is complete under its final name before its rows are committed: an analysis worker may claim
a queued recording the moment its row is committed, and must find the whole file (it once found none, and
the recording was marked unanalysed as "file missing")."""

from __future__ import annotations

import pytest

from web_server.services.media_store import staged

DATA = b"\x1aE\xdf\xa3 a recording"


def test_the_file_is_in_place_while_the_rows_are_stored(tmp_path):
    with staged(tmp_path, "attempts/1/voice", ".webm", DATA) as file:
        assert (tmp_path / file.relative).read_bytes() == DATA  # what a worker reads after the commit
        assert not file.temporary.exists()
    assert (tmp_path / file.relative).read_bytes() == DATA
    assert [p.name for p in (tmp_path / "attempts/1/voice").iterdir()] == [file.final.name]


def test_a_failed_block_leaves_no_file(tmp_path):
    folder = "attempts/1/voice"
    with pytest.raises(RuntimeError, match="commit failed"), staged(tmp_path, folder, ".webm", DATA):
        raise RuntimeError("commit failed")
    assert list((tmp_path / folder).iterdir()) == []
