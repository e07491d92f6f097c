"""Audit gaps closed: every export (who, which file, filters), every failed or locked-out login, every
change in /admin/ (a filer moved to another company included, third-party model admins too)."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone, translation

from accounts.models import User
from core.models import AuditEvent
from core.stored_text import Message, show, store
from tests.factories import TEST_PASSWORD
from tests.test_exports_formula_safe import (  # noqa: F401  (fixtures)
    export_views,
    export_walk,
    hostile,
    hostile_records,
)

pytestmark = pytest.mark.django_db


def test_every_export_is_audited_with_who_what_and_filters(users, export_walk):  # noqa: F811
    walk = export_walk
    regulator = walk["institutions:export"][0]
    filer = walk["reporting:excel_download"][0]
    public = walk["institutions:public_register"][0]
    assert export_views() == set(walk)  # a new export view must be walked here too
    for name, (client, url) in walk.items():
        before = AuditEvent.objects.filter(action="export").count()
        assert client.get(url).status_code == 200, name
        events = list(AuditEvent.objects.filter(action="export").order_by("-id")[:1])
        assert AuditEvent.objects.filter(action="export").count() == before + 1, name
        event = events[0]
        assert event.changes["path"] == url.split("?")[0], name
        who = {regulator: "sc_regulator", filer: "cd_filer", public: None}[client]
        assert event.actor_id == (users[who].pk if who else None), name
    csv_event = AuditEvent.objects.filter(action="export", object_repr="filings-2025Q2.csv").get()
    assert (csv_event.actor_id, csv_event.changes["filters"]) == (
        users["sc_regulator"].pk,
        {"period": ["2025Q2"]},
    )
    assert AuditEvent.objects.filter(action="export", actor__isnull=True).first().actor_label == "匿名"


def test_failed_logins_are_audited_known_or_not(users):
    client = Client()
    client.post("/accounts/login/", {"username": "t_cd_reg", "password": "wrong"})
    client.post("/accounts/login/", {"username": "ghost", "password": "wrong"})
    client.post("/api/v1/auth/token/", {"username": "t_cd_filer", "password": "wrong"})
    events = AuditEvent.objects.filter(action="login_failed").order_by("id")
    assert [(e.object_repr, e.object_id, e.changes["path"]) for e in events] == [
        ("t_cd_reg", str(users["cd_regulator"].pk), "/accounts/login/"),
        ("ghost", "", "/accounts/login/"),
        ("t_cd_filer", str(users["cd_filer"].pk), "/api/v1/auth/token/"),
    ]
    assert {e.changes["ip"] for e in events} == {"127.0.0.1"}


def test_a_lock_out_is_audited(users, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "t_my_reg", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "t_my_reg", "password": TEST_PASSWORD}).status_code
        == 429
    )
    locked = AuditEvent.objects.filter(action="locked_out").first()  # one for each refused attempt too
    assert (locked.object_repr, locked.object_id) == ("t_my_reg", str(users["my_regulator"].pk))


@pytest.fixture
def admin_client(db):
    root = User.objects.create_superuser("root", "root@example.invalid", TEST_PASSWORD)
    client = Client()
    client.force_login(root)
    return client, root


def test_moving_a_user_to_another_institution_in_the_admin_is_audited(
    admin_client, users, chengdu_institution, mianyang_institution
):
    client, root = admin_client
    filer = users["cd_filer"]
    filer.date_joined = timezone.localtime(filer.date_joined).replace(microsecond=0)
    filer.save()
    page = client.get(f"/admin/accounts/user/{filer.pk}/change/")
    form = page.context["adminform"].form
    data = {
        k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions")
    }
    data.update(
        username=filer.username,
        role="filer",
        institution=mianyang_institution.pk,
        region="",
        is_active="on",
        date_joined_0=timezone.localtime(filer.date_joined).strftime("%Y-%m-%d"),
        date_joined_1=timezone.localtime(filer.date_joined).strftime("%H:%M:%S"),
        last_login_0="",
        last_login_1="",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    data.pop("is_staff", None)
    data.pop("is_superuser", None)
    response = client.post(f"/admin/accounts/user/{filer.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(User), action="update"
    ).get()
    assert (event.actor_id, event.object_id, event.changes) == (
        root.pk,
        str(filer.pk),
        {"institution": [chengdu_institution.pk, mianyang_institution.pk]},
    )
    assert "password" not in str(AuditEvent.objects.values_list("changes", flat=True))


def test_a_change_in_a_third_party_model_admin_is_audited(admin_client):
    client, root = admin_client
    response = client.post("/admin/auth/group/add/", {"name": "审阅组"})
    assert response.status_code == 302
    group = Group.objects.get(name="审阅组")
    event = AuditEvent.objects.get(action="create", actor=root)
    assert (event.content_type.model_class(), event.object_id, event.object_repr, show(event.note)) == (
        Group,
        str(group.pk),
        "审阅组",
        "管理后台",
    )
    with translation.override("en"):
        assert show(event.note) == "Admin site"
    deleted = client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert AuditEvent.objects.filter(action="delete", actor=root, object_id=str(group.pk)).count() == 1


def test_bulk_delete_that_bypasses_the_audit_is_off_in_every_admin(admin_client):
    client, _root = admin_client
    page = client.get("/admin/auth/group/")
    assert "delete_selected" not in page.content.decode()


def test_a_third_party_bulk_action_is_audited_with_its_rows(admin_client):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    client, root = admin_client
    every = IntervalSchedule.objects.create(every=1, period="hours")
    tasks = [
        PeriodicTask.objects.create(name=f"任务{i}", task="core.tasks.relay", interval=every, enabled=False)
        for i in range(2)
    ]
    response = client.post(
        "/admin/django_celery_beat/periodictask/",
        {"action": "enable_tasks", "_selected_action": [t.pk for t in tasks]},
    )
    assert response.status_code == 302
    assert PeriodicTask.objects.filter(pk__in=[t.pk for t in tasks], enabled=True).count() == 2
    event = AuditEvent.objects.get(actor=root, note=store(Message("管理后台批量操作")))
    assert (event.content_type.model_class(), event.action) == (PeriodicTask, "update")
    assert event.changes == {"admin_action": "enable_tasks", "objects": [str(t.pk) for t in tasks]}
