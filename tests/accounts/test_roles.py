import pytest
from django.db import IntegrityError, transaction

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "region", "with_institution"),
    [
        ("regulator", None, False),  # a regulator needs a jurisdiction
        ("finance", None, True),  # ... and cannot belong to a company
        ("regulator", "510100", True),
        ("filer", None, False),  # a company user needs its institution
        ("approver", "510100", True),  # ... and no jurisdiction
        ("admin", "510000", False),  # an administrator is bound to neither
    ],
)
def test_a_role_is_held_only_within_its_jurisdiction_or_institution(
    role, region, with_institution, chengdu_institution
):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            username=f"bad_{role}",
            role=role,
            region_id=region,
            institution=chengdu_institution if with_institution else None,
        )


def test_valid_bindings_are_accepted(chengdu_institution):
    User.objects.create(username="ok_reg", role="regulator", region_id="510104")
    User.objects.create(username="ok_filer", role="approver", institution=chengdu_institution)
    User.objects.create(username="ok_admin", role="admin")
    assert User.objects.filter(username__startswith="ok_").count() == 3
