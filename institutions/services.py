from django.db import transaction

from core import audit

from .models import Institution


@transaction.atomic
def institution_upsert(*, actor, credit_code: str, **fields) -> tuple[Institution, bool]:
    """Create the institution with this credit code, or update the fields that differ; audited.
    Returns (institution, created). Re-running with the same values changes nothing."""
    institution = Institution.objects.select_for_update().filter(credit_code=credit_code).first()
    if institution is None:
        institution = Institution(credit_code=credit_code, **fields)
        institution.full_clean()
        institution.save()
        audit.record(actor=actor, action=audit.Action.CREATE, instance=institution)
        return institution, True
    before = audit.snapshot(institution)
    for name, value in fields.items():
        setattr(institution, name, value)
    institution.full_clean()
    after = audit.snapshot(institution)
    if after != before:
        institution.save()
        audit.record(actor=actor, action=audit.Action.UPDATE, instance=institution, before=before)
    return institution, False
