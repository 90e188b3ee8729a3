"""Phone normalisation: E.164 digits, Brazil's 9th digit, landlines, groups, invalid input."""

from __future__ import annotations

import pytest

from whaticket.utils.phone import is_group_id, normalize_group_id, normalize_number


@pytest.mark.parametrize(
    "raw",
    [
        "5511987654321",
        "+5511987654321",
        "+55 (11) 98765-4321",
        "55 11 98765 4321",
        "005511987654321",
        "11987654321",
        "(11) 98765-4321",
        "011987654321",
        "551187654321",  # old 8-digit mobile with country code
        "1187654321",  # old 8-digit mobile, local
        "+55 11 8765-4321",
        "5511987654321@s.whatsapp.net",
        "5511987654321:7@s.whatsapp.net",
    ],
)
def test_brazilian_mobile_forms_are_one_number(raw):
    assert normalize_number(raw) == "5511987654321"


@pytest.mark.parametrize("first", "6789")
def test_ninth_digit_added_for_every_mobile_range(first):
    assert normalize_number(f"5521{first}1234567") == f"55219{first}1234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("551133334444", "551133334444"),
        ("(11) 3333-4444", "551133334444"),
        ("+55 21 2222-3333", "552122223333"),
        ("554155556666", "554155556666"),
        ("555142223333", "555142223333"),
    ],
)
def test_landlines_keep_twelve_digits(raw, expected):
    assert normalize_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 415 555 2671", "14155552671"),
        ("14155552671", "14155552671"),
        ("447911123456", "447911123456"),
        ("+44 7911 123456", "447911123456"),
        ("0044 7911 123456", "447911123456"),
    ],
)
def test_foreign_numbers(raw, expected):
    assert normalize_number(raw) == expected


def test_default_region_reads_local_numbers():
    assert normalize_number("(415) 555-2671", default_region="US") == "14155552671"
    assert normalize_number("07911 123456", default_region="GB") == "447911123456"


@pytest.mark.parametrize(
    "raw", ["", "   ", "abc", "123", "+55 11 1234", "55 11 98765-43a1", "+", "0000", "551112345678"]
)
def test_invalid_numbers_raise(raw):
    with pytest.raises(ValueError):
        normalize_number(raw)


def test_non_string_raises():
    with pytest.raises(ValueError):
        normalize_number(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("120363025246125486", "120363025246125486"),
        ("120363025246125486@g.us", "120363025246125486"),
        ("5511987654321-1612345678", "5511987654321-1612345678"),
        ("5511987654321-1612345678@g.us", "5511987654321-1612345678"),
    ],
)
def test_group_ids_are_kept_as_given(raw, expected):
    assert is_group_id(raw)
    assert normalize_group_id(raw) == expected
    assert normalize_number(raw) == expected


def test_phone_formatting_dash_is_not_a_group():
    assert not is_group_id("98765-4321")
    assert not is_group_id("5511987654321")


def test_group_id_without_digits_raises():
    with pytest.raises(ValueError):
        normalize_group_id("@g.us")
