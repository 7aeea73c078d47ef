"""Byte sizes as files write them (`maxResponseSize`): read, refused with a reason, written back."""

from __future__ import annotations

from typing import Any

import pytest

from engine.core.sizes import SizeError, describe_size, format_size, parse_size


@pytest.mark.parametrize(
    ("written", "size"),
    [("512KiB", 524288), ("1.5KiB", 1536), ("10mib", 10485760), ("2GB", 2 * 10**9), (100, 100)],
)
def test_sizes_read_as_bytes(written: Any, size: int) -> None:
    assert parse_size(written) == size


@pytest.mark.parametrize(
    ("written", "says"),
    [
        (0, "at least 1 byte"),
        (True, "expected a size"),
        ("1.5B", "whole number of bytes"),
        ("5GiB", "at most 4GiB"),
        (10**400, "at most 4GiB"),
        ("ten MB", "expected a size"),
        (1.5, "expected a size"),
    ],
)
def test_bad_sizes_say_what_is_wrong(written: Any, says: str) -> None:
    with pytest.raises(SizeError, match=says):
        parse_size(written)


@pytest.mark.parametrize("written", ["2MiB", "5MB", "1GB", "3KiB", 1536])
def test_a_size_is_written_back_as_it_was_read(written: Any) -> None:
    assert format_size(parse_size(written)) == written


def test_messages_show_sizes_as_files_write_them() -> None:
    assert [describe_size(n) for n in (10 * 1024**2, 5 * 10**6, 1536)] == [
        "10 MiB",
        "5 MB",
        "1536 bytes",
    ]
