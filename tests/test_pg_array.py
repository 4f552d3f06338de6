"""Key lists bound to PostgreSQL as one array literal (store/pg_array.py) arrive as sent, and
anything a bare literal would misread (a comma, a quote, a space, the word NULL) still arrives
intact, bound as a list."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, text

from nmi_desk.store.engine import open_engine
from nmi_desk.store.pg_array import KeyArray, pg_array

CASES = [
    ["0b6f1c3e-6a52-4a8e-9b1d-2f4c5d6e7f80", "aow", "eindhoven-stadskantoor", "x.y:z_1"],
    ["a,b", 'quote"d', "back\\slash", "with space", "{brace}", "NULL", "null", "é"],
    ["NULL"],
    [],
]


@pytest.mark.parametrize("keys", CASES)
def test_key_lists_arrive_as_sent(pg_url, keys):
    engine = open_engine(pg_url)
    try:
        with engine.connect() as conn:
            stmt = text(
                "SELECT k FROM unnest(CAST(:u AS varchar[])) WITH ORDINALITY AS a(k, i) ORDER BY i"
            ).bindparams(bindparam("u", type_=KeyArray()))
            assert conn.execute(stmt, {"u": keys}).scalars().all() == keys
            ids = [3, 1, 2] if keys else []
            got = conn.exec_driver_sql(
                "SELECT k FROM unnest(%s::int[]) WITH ORDINALITY AS a(k, i) ORDER BY i",
                (pg_array(ids),),
            )
            assert got.scalars().all() == ids
    finally:
        engine.dispose()


def test_plain_keys_go_as_one_literal_and_others_as_a_list():
    assert pg_array(["aow", "zorg"]) == "{aow,zorg}"
    assert pg_array([5, 7]) == "{5,7}"
    assert pg_array(["aow", "NULL"]) == ["aow", "NULL"]  # a bare NULL would be a null
    assert pg_array(["a,b"]) == ["a,b"]
    assert pg_array([True]) == [True]  # a bool is no id
