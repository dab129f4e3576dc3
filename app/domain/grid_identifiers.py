"""Grid identifiers (the meter point a site is registered under) and a site's supply points.

The identifier is what matches a site with its supplier's upstream site, so a typo must be caught at the
door: each country's scheme is checked for its shape and, where the scheme has one, its check digit. The
messages say which rule failed, because the person reading them is usually copying a number off a bill.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.errors import ErrorCode, Issue

DIRECTIONS: tuple[str, ...] = ("offtake", "injection", "bidirectional")

# The only direction mixes a grid connection can have: one meter both ways, or one meter per direction
# where there is injection. Compared as sorted tuples so the order of the points does not matter.
ALLOWED_SUPPLY_POINT_MIXES: frozenset[tuple[str, ...]] = frozenset(
    {("bidirectional",), ("offtake",), ("injection", "offtake")}
)

_MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
_CUPS_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_POD = re.compile(r"IT\d{3}E\d{8}")
_CUPS = re.compile(r"ES(?P<digits>\d{16})(?P<control>[A-Z]{2})(?:\d[A-Z])?")


def ean_check_digit(body: str) -> str:
    """GS1 modulo-10 check digit of an EAN body: weights 3, 1, 3, 1... from the rightmost body digit."""
    _require_digits(body, None)
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def mpan_check_digit(body: str) -> str:
    """Check digit of a GB MPAN core: the first 12 digits times the primes 3..43, sum mod 11 mod 10."""
    _require_digits(body, 12)
    return str(sum(int(digit) * prime for digit, prime in zip(body, _MPAN_PRIMES, strict=True)) % 11 % 10)


def cups_control_letters(digits: str) -> str:
    """The two control letters of a Spanish CUPS: R = the 16 digits mod 529, letters R // 23 and R % 23."""
    _require_digits(digits, 16)
    remainder = int(digits) % 529
    return _CUPS_LETTERS[remainder // 23] + _CUPS_LETTERS[remainder % 23]


def _require_digits(body: str, length: int | None) -> None:
    """The check-digit helpers are for building identifiers, so a wrong body is a programming error."""
    if not body.isdigit() or not body.isascii() or (length is not None and len(body) != length):
        raise ValueError(f"expected {length or 'some'} ASCII digits, got {body!r}")


def normalize_grid_identifier(identifier: str) -> str:
    """The stored form: without any whitespace (bills group digits) and in upper case (CUPS, POD)."""
    return "".join(identifier.split()).upper()


_Failure = tuple[ErrorCode, str]
"""A broken rule: its code and a message naming it."""


def _digits_rule(label: str, identifier: str, length: int) -> _Failure | None:
    """The shape rule shared by the all-digit schemes."""
    if not identifier.isascii() or not identifier.isdigit():
        return ErrorCode.INVALID_FORMAT, f"{label} has only digits (0-9); got {identifier!r}"
    if len(identifier) != length:
        return ErrorCode.INVALID_FORMAT, f"{label} has {length} digits; got {len(identifier)}"
    return None


def _check_ean(label: str, identifier: str) -> _Failure | None:
    if shape := _digits_rule(label, identifier, 18):
        return shape
    expected = ean_check_digit(identifier[:-1])
    if identifier[-1] != expected:
        return (
            ErrorCode.INVALID_CHECK_DIGIT,
            f"EAN check digit should be {expected} (GS1 modulo 10), got {identifier[-1]}",
        )
    return None


def _check_prm(label: str, identifier: str) -> _Failure | None:
    return _digits_rule(label, identifier, 14)


def _check_mprn(label: str, identifier: str) -> _Failure | None:
    return _digits_rule(label, identifier, 11)


def _check_mpan(label: str, identifier: str) -> _Failure | None:
    if not identifier.isascii() or not identifier.isdigit():
        return ErrorCode.INVALID_FORMAT, f"{label} has only digits (0-9); got {identifier!r}"
    if len(identifier) not in (13, 21):
        return (
            ErrorCode.INVALID_FORMAT,
            f"{label} has a 13-digit core (or 21 digits with the top line); got {len(identifier)} digits",
        )
    core = identifier[-13:]
    expected = mpan_check_digit(core[:12])
    if core[-1] != expected:
        return (
            ErrorCode.INVALID_CHECK_DIGIT,
            f"MPAN check digit should be {expected} (primes 3 to 43, mod 11, mod 10), got {core[-1]}",
        )
    return None


def _check_pod(label: str, identifier: str) -> _Failure | None:
    if not _POD.fullmatch(identifier):
        return (
            ErrorCode.INVALID_FORMAT,
            f"{label} is IT + 3 digits + E + 8 digits (e.g. IT001E12345678); got {identifier!r}",
        )
    return None


def _check_cups(label: str, identifier: str) -> _Failure | None:
    match = _CUPS.fullmatch(identifier)
    if match is None:
        return (
            ErrorCode.INVALID_FORMAT,
            f"{label} is ES + 16 digits + 2 control letters, optionally + a digit and a letter "
            f"(e.g. ES0021000000000000AA0F); got {identifier!r}",
        )
    expected = cups_control_letters(match["digits"])
    if match["control"] != expected:
        return (
            ErrorCode.INVALID_CHECK_DIGIT,
            f"CUPS control letters should be {expected} (16 digits modulo 529), got {match['control']}",
        )
    return None


def _append_ean_digit(body: str) -> str:
    return body + ean_check_digit(body)


@dataclass(frozen=True)
class _Scheme:
    """One country's identifier: its name in messages, its rules, and how to build one from digits."""

    label: str
    check: Callable[[str, str], _Failure | None]
    body_length: int
    build: Callable[[str], str]


_SCHEMES: dict[str, _Scheme] = {
    "BE": _Scheme("a Belgian EAN", _check_ean, 17, _append_ean_digit),
    "NL": _Scheme("a Dutch EAN", _check_ean, 17, _append_ean_digit),
    "LU": _Scheme("a Luxembourgish EAN", _check_ean, 17, _append_ean_digit),
    "FR": _Scheme("a French PRM", _check_prm, 14, str),
    "GB": _Scheme("a British MPAN", _check_mpan, 12, lambda body: body + mpan_check_digit(body)),
    "IE": _Scheme("an Irish MPRN", _check_mprn, 11, str),
    "IT": _Scheme("an Italian POD", _check_pod, 11, lambda body: f"IT{body[:3]}E{body[3:]}"),
    "ES": _Scheme("a Spanish CUPS", _check_cups, 16, lambda body: f"ES{body}{cups_control_letters(body)}"),
}

SUPPORTED_COUNTRIES: tuple[str, ...] = tuple(_SCHEMES)


def validate_grid_identifier(country: str, identifier: str, field: str) -> list[Issue]:
    """Issues with `identifier` as a grid identifier of `country` (ISO 3166 alpha-2); empty when valid.

    The identifier is checked in its normalized form (see `normalize_grid_identifier`), so grouping
    spaces and lower case are accepted; store the normalized form. The country code is case-insensitive."""
    scheme = _SCHEMES.get(country.strip().upper())
    if scheme is None:
        supported = ", ".join(SUPPORTED_COUNTRIES)
        return [Issue(ErrorCode.UNSUPPORTED, field, f"country {country!r} is not supported; use one of {supported}")]
    failure = scheme.check(scheme.label, normalize_grid_identifier(identifier))
    return [] if failure is None else [Issue(failure[0], field, failure[1])]


def make_valid_identifier(country: str, body_digits: str) -> str:
    """A valid identifier of `country` built around `body_digits`, computing its check characters.

    Bodies: BE/NL/LU 17 digits (+ EAN check digit), GB 12 digits (+ check digit: a 13-digit core),
    FR 14 digits, IE 11 digits, IT 11 digits (3 distributor + 8), ES 16 digits (+ control letters).
    For test data and demo sites, so a wrong country or body raises ValueError."""
    scheme = _SCHEMES.get(country.strip().upper())
    if scheme is None:
        raise ValueError(f"unsupported country {country!r}")
    _require_digits(body_digits, scheme.body_length)
    return scheme.build(body_digits)


def validate_supply_points(country: str, points: Sequence[tuple[str, str]], field: str = "supplyPoints") -> list[Issue]:
    """Issues with a site's supply points, given as (grid_identifier, direction) pairs.

    Paths are `{field}[i].gridIdentifier` and `{field}[i].direction` (the API's terms); a rule about the
    set as a whole is reported on `field`. Identifiers are compared in normalized form."""
    if not points:
        return [Issue(ErrorCode.REQUIRED, field, "a site needs at least one supply point")]
    issues: list[Issue] = []
    first_index: dict[str, int] = {}
    for index, (identifier, direction) in enumerate(points):
        at = f"{field}[{index}]"
        issues += validate_grid_identifier(country, identifier, f"{at}.gridIdentifier")
        if direction not in DIRECTIONS:
            issues.append(Issue(ErrorCode.INVALID, f"{at}.direction", f"must be one of {', '.join(DIRECTIONS)}"))
        normalized = normalize_grid_identifier(identifier)
        if normalized in first_index:
            issues.append(
                Issue(
                    ErrorCode.DUPLICATE,
                    f"{at}.gridIdentifier",
                    f"the same grid identifier as {field}[{first_index[normalized]}]",
                )
            )
        first_index.setdefault(normalized, index)
    directions = [direction for _, direction in points]
    if all(direction in DIRECTIONS for direction in directions):
        mix = tuple(sorted(directions))
        if mix not in ALLOWED_SUPPLY_POINT_MIXES:
            got = ", ".join(f"{count} {name}" for name, count in sorted(Counter(directions).items()))
            issues.append(
                Issue(
                    ErrorCode.INVALID,
                    field,
                    f"supply points are one bidirectional, one offtake, or one offtake plus one injection; got {got}",
                )
            )
    return issues
