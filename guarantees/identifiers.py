"""Moved to core.identifiers so that institutions (shareholders) hashes with the same function and key
without importing guarantees; kept here for the guarantee code and tests that import it."""

from core.identifiers import (  # noqa: F401
    CHECK_CHARS,
    WEIGHTS,
    id_check_char,
    id_last_four,
    id_number_hash,
    is_valid_id_number,
    masked_id,
    normalise_id_number,
)
