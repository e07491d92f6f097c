import datetime as dt

import pytest

from institutions.models import GovListBatch, GovListEntry
from tests.factories import InstitutionFactory


@pytest.fixture
def gov_list():
    """gov_list(institution, published_on, action="include") → a confirmed batch with one entry."""

    def make(institution, published_on: dt.date, action="include"):
        batch = GovListBatch.objects.create(
            region_id=institution.region_id[:2] + "0000",
            title="名单",
            published_on=published_on,
            status="confirmed",
        )
        GovListEntry.objects.create(batch=batch, institution=institution, action=action)
        return batch

    return make


@pytest.fixture
def wenzhou_institution(db):
    return InstitutionFactory(region_id="330302", level="county", name="温州测试融资担保有限公司")


@pytest.fixture
def jiaxing_institution(db):
    return InstitutionFactory(region_id="330402", level="county", name="嘉兴测试融资担保有限公司")
