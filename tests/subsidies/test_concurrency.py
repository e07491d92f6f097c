"""Two finance officers deciding the same application at the same moment, on PostgreSQL with real
connections: exactly one decision is recorded, the other officer gets a conflict."""

import threading

import pytest
from django.db import connection, connections

from core.exceptions import AppError
from subsidies import services
from subsidies.choices import Status
from subsidies.models import Application, ApplicationStep, Scheme

from . import helpers as h

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
]


def test_two_officers_at_once_give_exactly_one_decision():
    inst = h.institution("500113")
    filer, approver = h.company_users(inst)
    h.guarantee(inst, amount=300, fee_rate="0.018")
    scheme = Scheme.objects.get(code="banan-fee-subsidy")
    reviewer, one, two = h.finance("500113"), h.finance("500113"), h.finance("500113")
    app = services.application_create(actor=filer, scheme=scheme, institution=inst, year=2025)
    services.application_submit(actor=approver, application=app)
    app = services.application_review(actor=reviewer, application=app)

    barrier = threading.Barrier(2)
    outcomes = []

    def decide(officer, approve):
        try:
            stale = Application.objects.get(pk=app.pk)  # both read it before either decides
            barrier.wait()
            services.application_decide(actor=officer, application=stale, approve=approve, reason="并发测试")
            outcomes.append(("ok", approve))
        except AppError as exc:
            outcomes.append((exc.code, approve))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(one, True)),
        threading.Thread(target=decide, args=(two, False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o[0] for o in outcomes) == ["conflict", "ok"]
    winner = next(approve for code, approve in outcomes if code == "ok")
    final = Application.objects.get(pk=app.pk)
    assert final.status == (Status.APPROVED if winner else Status.REJECTED)
    assert (
        ApplicationStep.objects.filter(application=app, to_status__in=["approved", "rejected"]).count() == 1
    )
