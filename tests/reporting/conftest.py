import datetime as dt

import pytest

from institutions.models import Licence


@pytest.fixture(autouse=True)
def licensed(request):
    """Only licensed institutions must file: the shared test institutions hold a licence in force
    (issued 2015) whenever a reporting test uses them."""
    for name, number in (("chengdu_institution", "川A990001"), ("mianyang_institution", "川B990002")):
        if name in request.fixturenames:
            Licence.objects.create(
                number=number,
                institution=request.getfixturevalue(name),
                issuing_authority="四川省地方金融监督管理局",
                issued_on=dt.date(2015, 1, 1),
            )
