"""Order-preserving key codec (SPEC §3): any value round-trips, numbers sort numerically, timestamps
chronologically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rem_db.storage.codec import decode_str, decode_value, encode_str, encode_value

MAX_SAFE = 2**53
NASTY = ["", ":", "a:b", "https://x.org/a:b?c=d", "/", "a/b/c", " ", "a b", " lead", "trail ", "\x00", "a\x00",
         "\x00a", "a\x00\x00b", "\x00\xff", "naïve", "日本語", "emoji 🦀", "\u200b", "\U0010ffff", "a\x01", "\xff"]

texts = st.text(alphabet=st.characters(codec="utf-8"))  # any encodable code point, NUL included
finite = st.floats(allow_nan=False, allow_infinity=False)
safe_ints = st.integers(min_value=-MAX_SAFE, max_value=MAX_SAFE)
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
    timezones=st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-14 * 60, 14 * 60)),
)


def iso_utc(moment: datetime) -> str:
    """The canonical form the index hands back: ISO-8601 UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# -- strings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", NASTY)
def test_nasty_strings_round_trip(text: str) -> None:
    encoded = encode_str(text)
    assert decode_str(encoded) == (text, len(encoded))
    value, end = decode_value(encode_value(text))
    assert value == text and end == len(encode_value(text))


@settings(deadline=None)
@given(texts, texts)
def test_string_components_round_trip_back_to_back(a: str, b: str) -> None:
    buf = encode_str(a) + encode_str(b) + b"tail"
    first, pos = decode_str(buf)
    second, end = decode_str(buf, pos)
    assert (first, second) == (a, b)
    assert buf[end:] == b"tail"


@settings(deadline=None)
@given(texts, texts)
def test_string_order_is_preserved_and_no_prefix_collides(a: str, b: str) -> None:
    ea, eb = encode_str(a), encode_str(b)
    assert (ea < eb) == (a < b)
    assert (ea == eb) == (a == b)
    if a != b:
        assert not ea.startswith(eb) and not eb.startswith(ea)
    assert (encode_value(a) < encode_value(b)) == (a < b)


# -- numbers ---------------------------------------------------------------------------------------
@settings(deadline=None)
@given(st.one_of(finite, safe_ints), st.one_of(finite, safe_ints))
def test_numbers_sort_numerically(a: float, b: float) -> None:
    ea, eb = encode_value(a), encode_value(b)
    assert (ea < eb) == (a < b)
    assert (ea == eb) == (a == b)


@settings(deadline=None)
@given(st.one_of(finite, safe_ints))
def test_numbers_round_trip(x: float) -> None:
    value, _ = decode_value(encode_value(x))
    assert value == x


@pytest.mark.parametrize("x", [0, -0.0, 1, -1, 2.5, -2.5, 1e-300, -1e300, 10**15, -(10**15), MAX_SAFE, -MAX_SAFE])
def test_number_examples_round_trip(x: float) -> None:
    assert decode_value(encode_value(x))[0] == x


def test_number_sort_examples() -> None:
    values = [10**15, -3, 0, 2.5, -0.5, 1, 1e-9, -(10**12), 7, 3.14159, 100, -1e20, 1e20, float("inf"),
              float("-inf"), 2]
    assert sorted(values, key=encode_value) == sorted(values)
    assert encode_value(0) == encode_value(-0.0) == encode_value(0.0)
    assert encode_value(5) == encode_value(5.0)


def test_large_integers_stay_distinct_and_ordered() -> None:
    """Integers beyond 2**53 (valid JSON integers, e.g. 64-bit ids) must not collapse onto one index key."""
    values = [2**53, 2**53 + 1, 2**62, 2**62 + 1, 2**63 - 1, -(2**63), -(2**63) + 1]
    encoded = [encode_value(v) for v in values]
    assert len(set(encoded)) == len(values)
    assert sorted(values, key=encode_value) == sorted(values)
    assert [decode_value(e)[0] for e in encoded] == values


# -- timestamps ------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(aware_datetimes, aware_datetimes)
def test_timestamps_sort_chronologically_across_offsets(a: datetime, b: datetime) -> None:
    ea, eb = encode_value(a.isoformat(), timestamp=True), encode_value(b.isoformat(), timestamp=True)
    assert (ea < eb) == (a < b)
    assert (ea == eb) == (a == b)


def test_same_instant_in_different_offsets_encodes_identically() -> None:
    forms = ["2024-03-01T10:00:00+02:00", "2024-03-01T08:00:00Z", "2024-03-01T08:00:00+00:00",
             "2024-03-01T03:30:00-04:30", "2024-03-01T08:00:00.000000Z"]
    assert len({encode_value(f, timestamp=True) for f in forms}) == 1
    ordered = ["2024-03-01T09:00:00+02:00", "2024-03-01T08:00:00Z", "2024-03-01T08:00:00.000001Z",
               "2024-03-01T04:00:01-04:00"]
    assert sorted(reversed(ordered), key=lambda s: encode_value(s, timestamp=True)) == ordered


@settings(max_examples=300, deadline=None)
@given(aware_datetimes)
def test_timestamps_round_trip_as_iso_utc(moment: datetime) -> None:
    value, _ = decode_value(encode_value(moment.isoformat(), timestamp=True))
    assert value == iso_utc(moment)


@pytest.mark.parametrize("text", [
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999Z",
    "2024-02-29T12:34:56.789012+05:30",
    "2550-06-01T12:00:00.999999Z",
    "5000-06-01T12:00:00.999999Z",
    "9999-12-31T23:59:59.999999Z",
    "0999-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
])
def test_timestamp_examples_round_trip(text: str) -> None:
    value, _ = decode_value(encode_value(text, timestamp=True))
    assert value == iso_utc(datetime.fromisoformat(text))


def test_naive_timestamps_are_utc_and_non_timestamps_stay_strings() -> None:
    assert encode_value("2024-01-01T00:00:00", timestamp=True) == encode_value("2024-01-01T00:00:00Z", timestamp=True)
    assert decode_value(encode_value("not a date", timestamp=True))[0] == "not a date"


# -- mixed -----------------------------------------------------------------------------------------
def test_type_order_null_false_true_number_timestamp_string() -> None:
    keys = [encode_value(None), encode_value(False), encode_value(True), encode_value(-1e300), encode_value(1e300),
            encode_value("0001-01-02T00:00:00Z", timestamp=True), encode_value("9999-01-01T00:00:00Z", timestamp=True),
            encode_value(""), encode_value("zzz")]
    assert keys == sorted(keys)
    for value in (None, False, True):
        assert decode_value(encode_value(value))[0] is value


def test_unindexable_values_are_refused() -> None:
    with pytest.raises(TypeError):
        encode_value(object())
