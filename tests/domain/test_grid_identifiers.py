"""Grid identifiers per country: valid ones pass, a wrong check character or length is named."""

from __future__ import annotations

import pytest

from app.domain.grid_identifiers import (
    SUPPORTED_COUNTRIES,
    cups_control_letters,
    ean_check_digit,
    make_valid_identifier,
    mpan_check_digit,
    normalize_grid_identifier,
    validate_grid_identifier,
)
from app.errors import ErrorCode, Issue

# Valid identifiers, with their check characters worked out by hand in the comments.
VALID = [
    # 5 4 1 4 4 8 8 2 0 0 4 4 1 5 9 2 2, weights 3,1,.. from the right: sum 131 -> check 9
    ("BE", "541448820044159229"),
    ("NL", "871687000000000016"),
    ("LU", "541453000000000013"),
    ("FR", "12345678901234"),
    # 1*3+2*5+3*7+4*13+5*17+6*19+7*23+8*29+9*31+0*37+1*41+2*43 = 1084; 1084 mod 11 = 6
    ("GB", "1234567890126"),
    ("GB", "051234561234567890126"),  # full 21-digit MPAN: profile 05, MTC 123, LLFC 456, then the core
    ("IE", "10012345678"),
    ("IT", "IT001E12345678"),
    # 21000000000000 mod 529 = 43 = 1 * 23 + 20 -> letters [1] R and [20] C
    ("ES", "ES0021000000000000RC"),
    ("ES", "ES0021000000000000RC0F"),
]


@pytest.mark.parametrize(("country", "identifier"), VALID)
def test_valid_identifier_is_accepted(country: str, identifier: str) -> None:
    assert validate_grid_identifier(country, identifier, "gridIdentifier") == []


def test_spaces_and_case_are_normalized_before_checking() -> None:
    assert normalize_grid_identifier(" 5414 4882 0044 1592 29 ") == "541448820044159229"
    assert normalize_grid_identifier("es0021000000000000rc0f") == "ES0021000000000000RC0F"
    assert validate_grid_identifier("be", "5414 4882 0044 1592 29", "f") == []
    assert validate_grid_identifier("ES", "es 0021 0000 0000 0000 rc", "f") == []


@pytest.mark.parametrize(
    ("country", "identifier", "message"),
    [
        ("BE", "541448820044159227", "EAN check digit should be 9 (GS1 modulo 10), got 7"),
        ("NL", "871687000000000017", "EAN check digit should be 6 (GS1 modulo 10), got 7"),
        ("LU", "541453000000000010", "EAN check digit should be 3 (GS1 modulo 10), got 0"),
        ("GB", "1234567890127", "MPAN check digit should be 6"),
        ("GB", "051234561234567890120", "MPAN check digit should be 6"),
        ("ES", "ES0021000000000000AA", "CUPS control letters should be RC (16 digits modulo 529), got AA"),
        ("ES", "ES0021000000000000CR0F", "CUPS control letters should be RC"),
    ],
)
def test_wrong_check_character_is_refused_naming_the_rule(country: str, identifier: str, message: str) -> None:
    [issue] = validate_grid_identifier(country, identifier, "supplyPoints[0].gridIdentifier")
    assert issue.code is ErrorCode.INVALID_CHECK_DIGIT
    assert issue.field == "supplyPoints[0].gridIdentifier"
    assert message in issue.message


@pytest.mark.parametrize(
    ("country", "identifier", "message"),
    [
        ("BE", "54144882004415922", "a Belgian EAN has 18 digits; got 17"),
        ("NL", "8716870000000000161", "a Dutch EAN has 18 digits; got 19"),
        ("LU", "54145300000000001X", "a Luxembourgish EAN has only digits"),
        ("FR", "1234567890123", "a French PRM has 14 digits; got 13"),
        ("GB", "123456789012", "a British MPAN has a 13-digit core"),
        ("GB", "12345678901234", "a British MPAN has a 13-digit core"),
        ("IE", "1001234567", "an Irish MPRN has 11 digits; got 10"),
        ("IT", "IT001E1234567", "an Italian POD is IT + 3 digits + E + 8 digits"),
        ("IT", "IT001E12345678A", "an Italian POD is IT + 3 digits + E + 8 digits"),
        ("IT", "FR001E12345678", "an Italian POD is IT + 3 digits + E + 8 digits"),
        ("ES", "ES002100000000000RC", "a Spanish CUPS is ES + 16 digits + 2 control letters"),
        ("ES", "ES0021000000000000RC00", "a Spanish CUPS is ES + 16 digits + 2 control letters"),
        ("ES", "ES0021000000000000R1", "a Spanish CUPS is ES + 16 digits + 2 control letters"),
    ],
)
def test_wrong_shape_is_refused_naming_the_rule(country: str, identifier: str, message: str) -> None:
    [issue] = validate_grid_identifier(country, identifier, "f")
    assert issue.code is ErrorCode.INVALID_FORMAT
    assert message in issue.message


def test_powernaut_placeholder_is_not_a_belgian_ean() -> None:
    """seeds/004 creates a site with grid_identifier "EAN1234567890": a placeholder, not an EAN."""
    assert validate_grid_identifier("BE", "EAN1234567890", "f") == [
        Issue(ErrorCode.INVALID_FORMAT, "f", "a Belgian EAN has only digits (0-9); got 'EAN1234567890'")
    ]


@pytest.mark.parametrize("country", ["DE", "US", "", "BEL"])
def test_unsupported_country_is_refused(country: str) -> None:
    [issue] = validate_grid_identifier(country, "541448820044159229", "country")
    assert issue.code is ErrorCode.UNSUPPORTED
    assert "BE, NL, LU, FR, GB, IE, IT, ES" in issue.message


def test_check_digit_helpers_match_known_values() -> None:
    assert ean_check_digit("400638133393") == "1"  # EAN-13 4006381333931, the usual GS1 example
    assert mpan_check_digit("123456789012") == "6"
    assert cups_control_letters("0021000000000000") == "RC"


@pytest.mark.parametrize("country", SUPPORTED_COUNTRIES)
def test_made_identifiers_are_valid(country: str) -> None:
    body_length = {"BE": 17, "NL": 17, "LU": 17, "GB": 12, "FR": 14, "IE": 11, "IT": 11, "ES": 16}[country]
    for seed in range(50):
        body = str(seed * 7919 + 10**body_length // 3)[-body_length:].zfill(body_length)
        assert validate_grid_identifier(country, make_valid_identifier(country, body), "f") == []


def test_make_valid_identifier_refuses_a_wrong_body() -> None:
    with pytest.raises(ValueError):
        make_valid_identifier("BE", "123")
    with pytest.raises(ValueError):
        make_valid_identifier("DE", "12345678901234567")
