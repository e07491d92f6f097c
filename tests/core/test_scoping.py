"""The visibility choke point as a full matrix: role × jurisdiction × record owner → exact visible ids."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from core.scoping import can_change, can_change_in, can_see, region_level, subtree_prefix
from institutions.models import GovListBatch, GovListEntry, Institution, Notice, Shareholder
from reporting.models import FieldDefinition, Filing, FilingVersion, ReportTemplate
from supervision.models import Threshold
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owners(chengdu_institution, mianyang_institution):
    """Record owners in five places: a Chengdu county, a Mianyang county, Sichuan province itself,
    Chengdu city itself and a county in Zhejiang."""
    return {
        "cd": chengdu_institution,
        "my": mianyang_institution,
        "sc": InstitutionFactory(region_id="510000", level="province", name="四川省测试融资担保有限公司"),
        "cdcity": InstitutionFactory(region_id="510100", level="city", name="成都市测试融资担保有限公司"),
        "zj": InstitutionFactory(region_id="330106", level="county", name="杭州测试融资担保有限公司"),
    }


# Who sees whose records, by owner key.
EXPECTED = {
    "admin": {"cd", "my", "sc", "cdcity", "zj"},
    "sc_regulator": {"cd", "my", "sc", "cdcity"},
    "cd_regulator": {"cd", "cdcity"},
    "my_regulator": {"my"},
    "sc_finance": {"cd", "my", "sc", "cdcity"},
    "cd_finance": {"cd", "cdcity"},
    "cd_filer": {"cd"},
    "cd_approver": {"cd"},
    "my_filer": {"my"},
    "zj_regulator": {"zj"},
    "anonymous": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_institutions_visible_by_role_and_jurisdiction(who, users, owners):
    user = AnonymousUser() if who == "anonymous" else users[who]
    expected = {owners[k].pk for k in EXPECTED[who]}
    assert set(Institution.objects.for_user(user).values_list("pk", flat=True)) == expected
    for key, institution in owners.items():
        assert can_see(user, institution) is (key in EXPECTED[who])


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_rows_reached_through_institution_follow_the_same_rule(who, users, owners):
    """A model two joins away (filing version → filing → institution) gets the same answer."""
    template = ReportTemplate.objects.get(version=1)
    versions = {}
    for key, institution in owners.items():
        filing = Filing.objects.create(institution=institution, year=2025, quarter=2, template=template)
        versions[key] = FilingVersion.objects.create(filing=filing, number=1, values={"total_assets": "1.00"})
    user = AnonymousUser() if who == "anonymous" else users[who]
    expected = {versions[k].pk for k in EXPECTED[who]}
    assert set(FilingVersion.objects.for_user(user).values_list("pk", flat=True)) == expected
    assert set(Filing.objects.for_user(user).values_list("institution_id", flat=True)) == {
        owners[k].pk for k in EXPECTED[who]
    }


def test_county_regulator_sees_only_its_county(owners):
    county = UserFactory(username="t_jj_reg", role="regulator", region_id="510104")
    assert set(Institution.objects.for_user(county).values_list("pk", flat=True)) == {owners["cd"].pk}


def test_inactive_user_sees_nothing(users, owners):
    regulator = users["sc_regulator"]
    regulator.is_active = False
    regulator.save()
    assert list(Institution.objects.for_user(regulator)) == []


def test_company_user_of_branch_does_not_see_parent(owners):
    branch = InstitutionFactory(
        region_id="510104",
        level="county",
        kind="branch",
        parent=owners["sc"],
        name="四川省测试融资担保有限公司成都分公司",
    )
    filer = UserFactory(username="t_branch_filer", role="filer", institution=branch)
    assert set(Institution.objects.for_user(filer).values_list("pk", flat=True)) == {branch.pk}


def test_public_sees_only_published_records(users, owners):
    draft = GovListBatch.objects.create(region_id="510000", title="草拟批次")
    published = GovListBatch.objects.create(
        region_id="510000", title="2025年第一批", status="confirmed", published_on=dt.date(2025, 3, 1)
    )
    GovListEntry.objects.create(batch=draft, institution=owners["cd"])
    shown = GovListEntry.objects.create(batch=published, institution=owners["my"])
    anonymous = AnonymousUser()
    assert list(GovListBatch.objects.for_user(anonymous)) == [published]
    assert list(GovListEntry.objects.for_user(anonymous)) == [shown]
    # A regulator sees published rows anywhere plus everything in its jurisdiction.
    assert set(GovListBatch.objects.for_user(users["zj_regulator"])) == {published}
    assert set(GovListBatch.objects.for_user(users["cd_regulator"])) == {published}
    assert set(GovListBatch.objects.for_user(users["sc_regulator"])) == {draft, published}


def test_reference_data_is_visible_to_everyone(users):
    anonymous = AnonymousUser()
    assert FieldDefinition.objects.for_user(anonymous).count() == 75
    assert FieldDefinition.objects.for_user(users["my_filer"]).count() == 75


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("510000", "province", "51"),
        ("510100", "city", "5101"),
        ("510104", "county", "510104"),
        ("500000", "province", "50"),
        ("500101", "county", "500101"),
    ],
)
def test_region_codes_name_their_parents(code, level, prefix):
    assert region_level(code) == level
    assert subtree_prefix(code) == prefix


# --- change: who may change which rows (for_user(user, "change"), and can_change_in without a row) ----

# Registered items: the regulators of the jurisdiction (and administrators); nobody else.
CHANGED_BY_REGULATORS = {
    "admin": {"cd", "my", "sc", "cdcity", "zj"},
    "sc_regulator": {"cd", "my", "sc", "cdcity"},
    "cd_regulator": {"cd", "cdcity"},
    "my_regulator": {"my"},
    "zj_regulator": {"zj"},
}
# Company data (shareholders, managers, agreements): the company's own users as well.
CHANGED_WITH_COMPANY = {
    **CHANGED_BY_REGULATORS,
    "cd_filer": {"cd"},
    "cd_approver": {"cd"},
    "my_filer": {"my"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_registered_items_are_changed_by_the_regulators_of_the_jurisdiction(who, users, owners):
    user = AnonymousUser() if who == "anonymous" else users[who]
    expected = CHANGED_BY_REGULATORS.get(who, set())
    changeable = set(Institution.objects.for_user(user, "change").values_list("pk", flat=True))
    assert changeable == {owners[k].pk for k in expected}
    for key, institution in owners.items():
        assert can_change(user, institution) is (key in expected)
        assert can_change_in(user, Institution, region=institution.region_id) is (key in expected)


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_company_data_is_changed_by_the_company_too(who, users, owners):
    rows = {
        k: Shareholder.objects.create(institution=i, name="股东", share_ratio="0.5")
        for k, i in owners.items()
    }
    user = AnonymousUser() if who == "anonymous" else users[who]
    expected = CHANGED_WITH_COMPANY.get(who, set())
    changeable = set(Shareholder.objects.for_user(user, "change").values_list("pk", flat=True))
    assert changeable == {rows[k].pk for k in expected}
    for key, institution in owners.items():
        allowed = can_change_in(
            user, Shareholder, region=institution.region_id, institution_id=institution.pk
        )
        assert allowed is (key in expected)


def test_what_everyone_reads_is_changed_only_within_the_jurisdiction(users):
    """A published notice of the province is public; its regulators and finance bureau edit it. A city
    threshold is everyone's to read; the regulators above and of the city change it, a nationwide one
    only administrators."""
    notice = Notice.objects.create(
        region_id="510000", kind="cancel", title="公告", issuing_body="x", status="published"
    )
    city, nationwide = (
        Threshold.objects.create(
            code=code,
            indicator="leverage",
            comparator="<=",
            value="10",
            severity="breach",
            scope="all",
            region_code=region,
            effective_from=dt.date(2025, 1, 1),
            source="测试",
        )
        for code, region in (("T-CD", "510100"), ("T-CN", ""))
    )
    anonymous = AnonymousUser()
    assert can_see(anonymous, notice) and not can_change(anonymous, notice)
    editors = {who for who, user in users.items() if can_change(user, notice)}
    assert editors == {"admin", "sc_regulator", "sc_finance"}
    city_editors = {who for who, user in users.items() if can_change(user, city)}
    assert city_editors == {"admin", "sc_regulator", "cd_regulator"}
    assert {who for who, user in users.items() if can_change(user, nationwide)} == {"admin"}
    for who, user in users.items():
        assert can_see(user, city) and can_see(user, nationwide)
        assert can_change_in(user, Threshold, region="510100") is (who in city_editors)
        assert can_change_in(user, Notice, region="510000") is (who in editors)
