"""Every main page of each role once, in a real browser, through axe-core (0 critical or serious
violations) with a screenshot: the pages the journeys do not pass through (lists, boards, dashboards,
public pages), at desktop width and, for the filer, at phone width."""

import pytest

from reporting.periods import Period
from supervision.models import WarningCase

from .world import history_before, people_and_institution

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_main_page_passes_axe(visit):
    from supervision.services.compute import institution_indicators_compute

    inst, users = people_and_institution()
    history_before(inst, users, Period(2026, 3))
    institution_indicators_compute(institution_id=inst.pk)
    case = WarningCase.objects.filter(institution=inst).first()
    filing = inst.filings.order_by("-year", "-quarter").first()
    regulator = visit("b_sc_reg")
    pages = [
        "/",
        "/institutions/",
        f"/institutions/{inst.pk}/",
        "/reporting/filings/",
        "/reporting/review/",
        f"/reporting/filings/{filing.pk}/",
        "/reporting/completeness/",
        "/reporting/rules/",
        "/reporting/notifications/",
        "/supervision/indicators/",
        f"/supervision/indicators/filing/{filing.pk}/",
        "/supervision/warnings/",
        "/supervision/thresholds/",
        "/govlist/",
        "/notices/",
        "/agreements/",
    ]
    if case:
        pages.append(f"/supervision/warnings/{case.pk}/")
    for path in pages:
        regulator.go(path, path.strip("/").replace("/", "-") or "home")
    filer = visit("b_filer", width=390)
    for path in ("/", "/reporting/filings/", "/institutions/own/", "/supervision/indicators/"):
        filer.go(path, "phone-" + (path.strip("/").replace("/", "-") or "home"))
    public = visit(None)
    for path in ("/accounts/login/", "/public/register/", "/public/govlist/", "/public/notices/"):
        public.go(path, path.strip("/").replace("/", "-"))
