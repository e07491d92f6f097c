"""Natural persons' resident ID numbers (居民身份证号码, GB 11643-1999): checksum, keyed hash, last four.

Pure: no ORM, no settings. The portal never stores an ID number: a client keeps the HMAC-SHA256 of the
number under a key separate from SECRET_KEY (settings.PII_HASH_KEY), which lets the regulator find one
borrower across companies without being able to read the number back, plus its last four characters
for people to recognise a row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by Σ digit·weight mod 11


def normalise_id_number(value: str) -> str:
    """Trimmed, with a lower-case check character x made upper-case."""
    return value.strip().upper()


def id_check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def is_valid_id_number(value: str) -> bool:
    """18 characters: 17 digits with a real birth date at positions 7–14, and the GB 11643 check
    character (0–9 or X). The 15-digit numbers of before 1999 are not accepted."""
    number = normalise_id_number(value)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return id_check_char(number[:17]) == number[17]


def id_number_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 of the normalised number, 64 hex characters. The same number and key always give
    the same hash, so a borrower can be grouped across institutions; without the key it cannot be
    reversed by trying every possible number (there are only about 10^11 of them)."""
    return hmac.new(key, normalise_id_number(value).encode("ascii"), hashlib.sha256).hexdigest()


def id_last_four(value: str) -> str:
    return normalise_id_number(value)[-4:]


def masked_id(last_four: str) -> str:
    """How an ID number is shown anywhere in the portal: 14 stars and the last four."""
    return "*" * 14 + last_four
