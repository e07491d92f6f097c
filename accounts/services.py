import csv
import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from core import audit
from core.permissions import require
from core.roles import Role, is_admin
from core.stored_text import Message

from .models import ApiKey, ApiKeyScope, EnrolmentCode, Region, User

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions.csv"
_LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}


@transaction.atomic
def regions_load(*, path: Path = REGIONS_CSV) -> int:
    """Insert or update every region of the file (idempotent); returns the number of rows in the file."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (_LEVEL_ORDER[r["level"]], r["code"]))
    # Parents first, so each batch's foreign keys already exist.
    for level in _LEVEL_ORDER:
        batch = [
            Region(code=r["code"], name=r["name"], level=level, parent_id=r["parent_code"] or None)
            for r in rows
            if r["level"] == level
        ]
        Region.objects.bulk_create(
            batch,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "level", "parent"],
        )
    return len(rows)


# --- second factor: enrolment codes ----------------------------------------------------------------


def secret_hash(secret: str) -> str:
    """The stored form of a code or key: random and long, so a plain SHA-256 is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def enrolment_code_issue(*, actor, user: User) -> str:
    """A new one-time enrolment code for `user`; returns the code, to be handed over out of band. Earlier
    unused codes die, and so do the user's devices (a lost phone: the person enrols anew with the code).
    Administrators only (the system itself: the management command)."""
    require(actor, is_admin)
    now = timezone.now()
    devices = TOTPDevice.objects.filter(user=user).delete()[0]
    EnrolmentCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    code = "-".join(secrets.token_hex(2).upper() for _ in range(4))  # e.g. 3F9A-0C12-88DE-71B4
    EnrolmentCode.objects.create(
        user=user,
        code_hash=secret_hash(code),
        issued_by=actor if getattr(actor, "pk", None) else None,
        expires_at=now + timedelta(hours=settings.OTP_ENROLMENT_CODE_HOURS),
    )
    audit.record_event(
        actor=actor or "系统 (manage.py)",
        action=audit.Action.SECURITY,
        what=str(user),
        instance=user,
        note=Message("签发双因素绑定授权码"),
        changes={"devices_removed": devices},
    )
    return code


@transaction.atomic
def enrolment_code_redeem(*, user: User, code: str) -> bool:
    """Use up `user`'s code if it is valid (one time, before it expires); audited either way."""
    normalised = code.strip().upper()
    used = EnrolmentCode.objects.filter(
        user=user, code_hash=secret_hash(normalised), used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    audit.record_event(
        actor=user,
        action=audit.Action.SECURITY,
        what=str(user),
        instance=user,
        note=Message("使用绑定授权码") if used else Message("绑定授权码无效"),
    )
    return bool(used)


# --- a person's API token ---------------------------------------------------------------------------


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """A new token for `user`, replacing the old one (a token login rotates it)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_expires_at(token: Token):
    return token.created + timedelta(hours=settings.API_TOKEN_HOURS)


def may_revoke_token(actor, token: Token) -> bool:
    return is_admin(actor) or token.user_id == actor.pk


@transaction.atomic
def token_revoke(*, actor, token: Token) -> None:
    require(actor, may_revoke_token, token)
    audit.record_event(
        actor=actor,
        action=audit.Action.SECURITY,
        what=str(token.user),
        instance=token.user,
        note=Message("吊销 API 令牌"),
    )
    token.delete()


def tokens_drop(*, username: str) -> int:
    """Delete the user's token (on lock-out, on a password change); returns how many."""
    return Token.objects.filter(user__username=username).delete()[0]


# --- a company's API keys ---------------------------------------------------------------------------

KEY_PREFIX = "gpk"


def may_manage_api_keys(actor, institution_id: int) -> bool:
    """The company's approver creates and revokes its keys (an administrator may revoke any)."""
    return is_admin(actor) or (
        actor.is_authenticated and actor.role == Role.APPROVER and actor.institution_id == institution_id
    )


@transaction.atomic
def api_key_create(*, actor, institution, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A named key for the institution; returns the key and its text (shown once, then only its hash)."""
    require(actor, may_manage_api_keys, institution.pk)
    unknown = set(scopes) - set(ApiKeyScope.values)
    if unknown or not scopes:
        raise ValueError(f"unknown scopes {sorted(unknown)}")
    prefix = secrets.token_hex(4)
    text = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    user = User(
        username=f"apikey-{prefix}",
        last_name="API密钥·",
        first_name=name[:100],
        role=Role.APPROVER,
        institution=institution,
    )
    user.set_unusable_password()
    user.save()
    key = ApiKey.objects.create(
        institution=institution,
        name=name,
        prefix=prefix,
        key_hash=secret_hash(text),
        scopes=sorted(set(scopes)),
        user=user,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(actor=actor, action=audit.Action.CREATE, instance=key, note=Message("创建 API 密钥"))
    return key, text


@transaction.atomic
def api_key_revoke(*, actor, key: ApiKey) -> None:
    require(actor, may_manage_api_keys, key.institution_id)
    before = audit.snapshot(key)
    if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        User.objects.filter(pk=key.user_id).update(is_active=False)
        key.refresh_from_db()
        audit.record(
            actor=actor,
            action=audit.Action.TRANSITION,
            instance=key,
            before=before,
            note=Message("吊销 API 密钥"),
        )
