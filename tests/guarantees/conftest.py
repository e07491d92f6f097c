import pytest

from institutions.models import Bank

from .helpers import BANKS


@pytest.fixture
def banks(db):
    return [Bank.objects.create(name=name) for name in BANKS]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Batches keep what was sent: under a temporary MEDIA_ROOT in tests."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
