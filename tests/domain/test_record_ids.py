"""Ids a caller gives: only whole numbers that fit the id columns name a record."""

from __future__ import annotations

from typing import Any

import pytest

from domain.db import MAX_ID, record_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (MAX_ID, MAX_ID),
        (7.0, 7),
        ("42", 42),
        ("2147483647", MAX_ID),
        (0, None),
        (-3, None),
        (MAX_ID + 1, None),
        (2**70, None),
        (1e308, None),
        (float("inf"), None),
        (float("nan"), None),
        (2.5, None),
        (True, None),
        ("", None),
        (" 42", None),
        ("-1", None),
        ("4e2", None),
        ("2147483648", None),
        ("9" * 5000, None),
        ("٣", None),  # a digit, but not an ASCII one
        (None, None),
        ([1], None),
        ({"id": 1}, None),
    ],
)
def test_record_id(value: Any, expected: int | None) -> None:
    assert record_id(value) == expected
