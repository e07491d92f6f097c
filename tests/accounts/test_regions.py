import pytest

from accounts.models import Region
from accounts.services import REGIONS_CSV, regions_load

pytestmark = pytest.mark.django_db


def test_all_of_china_is_loaded():
    assert Region.objects.count() == 3218
    assert Region.objects.filter(level="province").count() == 31
    assert Region.objects.filter(level="city").count() == 337


def test_hierarchy_follows_the_codes():
    jinjiang = Region.objects.get(code="510104")
    assert (jinjiang.name, jinjiang.parent_id, jinjiang.parent.parent_id) == ("锦江区", "510100", "510000")
    assert [r.code for r in jinjiang.lineage()] == ["510000", "510100", "510104"]
    assert jinjiang.full_name == "四川省成都市锦江区"
    # Municipalities have no city level: a Chongqing district hangs directly under the province.
    yuzhong = Region.objects.get(code="500103")
    assert (yuzhong.name, yuzhong.parent_id) == ("渝中区", "500000")
    assert Region.objects.subtree("510100").count() == 1 + Region.objects.filter(parent_id="510100").count()


def test_reload_is_idempotent():
    before = list(Region.objects.order_by("code").values_list("code", "name", "level", "parent_id"))
    assert regions_load() == 3218
    assert list(Region.objects.order_by("code").values_list("code", "name", "level", "parent_id")) == before


def test_reload_restores_an_edited_name():
    Region.objects.filter(code="510104").update(name="改名")
    regions_load(path=REGIONS_CSV)
    assert Region.objects.get(code="510104").name == "锦江区"
