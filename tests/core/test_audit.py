import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core import audit
from core.middleware import reset_request_id, set_request_id
from core.models import AppendOnlyError, AuditEvent
from institutions.services import institution_upsert
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "name": "审计测试融资担保有限公司",
    "region_id": "510104",
    "level": "county",
    "registered_capital": "20000.00",
    "paid_in_capital": "20000.00",
}


@pytest.fixture
def credit_code():
    return InstitutionFactory.build().credit_code


def test_create_and_update_are_recorded_with_actor_request_and_values(users, credit_code):
    token = set_request_id("req-audit-0001")
    try:
        institution, created = institution_upsert(
            actor=users["sc_regulator"], credit_code=credit_code, **FIELDS
        )
        institution_upsert(
            actor=users["sc_regulator"], credit_code=credit_code, **FIELDS | {"paid_in_capital": "25000.00"}
        )
        institution_upsert(
            actor=users["sc_regulator"], credit_code=credit_code, **FIELDS | {"paid_in_capital": "25000.00"}
        )
    finally:
        reset_request_id(token)
    events = list(audit.history(institution))
    assert created is True
    assert [e.action for e in events] == ["update", "create"]  # the unchanged third call records nothing
    update = events[0]
    assert update.changes == {"paid_in_capital": ["20000.00", "25000.00"]}
    assert (update.actor, update.actor_label, update.request_id) == (
        users["sc_regulator"],
        users["sc_regulator"].get_full_name(),
        "req-audit-0001",
    )
    assert events[1].changes["name"] == [None, "审计测试融资担保有限公司"]


def test_events_refuse_update_and_delete_in_python(users, chengdu_institution):
    event = audit.record(
        actor=users["admin"], action=audit.Action.UPDATE, instance=chengdu_institution, note="x"
    )
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(note="y")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE core_auditevent SET note = 'tampered'", "DELETE FROM core_auditevent"]
)
def test_the_database_refuses_update_and_delete(users, chengdu_institution, sql):
    audit.record(
        actor=users["admin"], action=audit.Action.UPDATE, instance=chengdu_institution, note="original"
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert list(AuditEvent.objects.values_list("note", flat=True)) == ["original"]


def test_audit_page_is_for_administrators_only(users, client_for, chengdu_institution):
    audit.record(
        actor=users["admin"], action=audit.Action.UPDATE, instance=chengdu_institution, note="查看测试"
    )
    page = client_for(users["admin"]).get("/audit/")
    assert page.status_code == 200
    assert "查看测试" in page.content.decode()
    for who in ("sc_regulator", "cd_filer", "sc_finance"):
        assert client_for(users[who]).get("/audit/").status_code == 403
    assert client_for(None).get("/audit/").status_code == 302


def test_audit_page_query_count_does_not_grow_with_rows(users, client_for, chengdu_institution):
    client = client_for(users["admin"])
    for i in range(3):
        audit.record(
            actor=users["admin"], action=audit.Action.UPDATE, instance=chengdu_institution, note=str(i)
        )
    with CaptureQueriesContext(connection) as few:
        client.get("/audit/")
    for i in range(40):
        audit.record(
            actor=users["admin"], action=audit.Action.UPDATE, instance=chengdu_institution, note=str(i)
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/audit/")
    assert len(many) == len(few)
