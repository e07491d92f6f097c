import pytest

from guarantees.identifiers import (
    id_check_char,
    id_last_four,
    id_number_hash,
    is_valid_id_number,
    masked_id,
)


@pytest.mark.parametrize(
    "number, valid",
    [
        ("11010519491231002X", True),  # GB 11643's own example
        ("11010519491231002x", True),  # a lower-case check character is the same number
        (" 11010519491231002X ", True),
        ("110105194912310021", False),  # wrong check character
        ("110105194902300020", False),  # 30 February is no birth date (the check character is right)
        ("11010519491231002", False),  # 17 characters
        ("110105491231002", False),  # the 15-digit numbers of before 1999
        ("1101051949123100AX", False),
        ("", False),
    ],
)
def test_resident_id_checksum(number, valid):
    assert is_valid_id_number(number) is valid


def test_check_character_of_the_standard_example():
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("11010519490230002") == "0"  # Σ digit·weight = 155, 155 mod 11 = 1


def test_keyed_hash_is_stable_and_depends_on_the_key():
    expected = "e7e0eb61ae93a5d9c2f43cd2056a34d92ff70ef7a296f76090e36c880b9f26bb"
    assert id_number_hash("11010519491231002X", b"test-key") == expected
    assert id_number_hash("11010519491231002x ", b"test-key") == expected
    assert id_number_hash("11010519491231002X", b"other-key") != expected


def test_last_four_and_mask():
    assert id_last_four("11010519491231002x") == "002X"
    assert masked_id("002X") == "**************002X"
