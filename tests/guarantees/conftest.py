import pytest

from institutions.models import Bank

from .helpers import BANKS


@pytest.fixture
def banks(db):
    return [Bank.objects.create(name=name) for name in BANKS]
