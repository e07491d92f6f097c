import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from core.permissions import signed_in
from core.roles import is_admin, is_company_user

from . import services
from .forms import ApiKeyForm
from .models import ApiKey

ENROLMENT_SESSION_KEY = "otp_enrolment_for"


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "/"


def _qr_data_uri(text: str) -> str:
    buf = BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@signed_in
def otp(request):
    """Second factor: verify a code at every login. The first enrolment of a device needs a one-time
    enrolment code from an administrator first (`manage.py issue_enrolment_code`, or the user admin's
    action): until it is given the TOTP secret is neither created nor shown, so a stolen password alone
    cannot enrol the thief's own device."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setup = device is None
    context = {"setup": setup, "next": _safe_next(request)}
    if setup and request.session.get(ENROLMENT_SESSION_KEY) != user.pk:
        if request.method == "POST" and services.enrolment_code_redeem(
            user=user, code=request.POST.get("enrolment_code", "")
        ):
            request.session[ENROLMENT_SESSION_KEY] = user.pk
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()  # a fresh secret
            return redirect(f"{request.path}?next={context['next']}")
        if request.method == "POST":
            messages.error(request, _("绑定授权码无效或已失效。"))
        return render(request, "registration/otp.html", {**context, "needs_code": True})
    if setup:
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "authenticator"}
        )
    if request.method == "POST":
        token = request.POST.get("token", "").strip()
        if device.verify_token(token):
            if setup:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                request.session.pop(ENROLMENT_SESSION_KEY, None)
            otp_login(request, device)
            messages.success(request, _("双因素验证已通过。"))
            return redirect(_safe_next(request))
        messages.error(request, _("验证码不正确或已过期，请重新输入。"))
    if setup:
        context.update(qr=_qr_data_uri(device.config_url), secret=base64.b32encode(device.bin_key).decode())
    return render(request, "registration/otp.html", context)


# --- API tokens and keys: one page lists both and revokes them ----------------------------------------


@signed_in
def credentials(request):
    """A person's own API token (expiry; revoke) and the company's API keys (the approver creates and
    revokes them; the key is shown once). Administrators see every token and every key."""
    user = request.user
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "revoke_token":
            token = get_object_or_404(_tokens_for(user), user_id=_int(request.POST.get("user")))
            services.token_revoke(actor=user, token=token)
            messages.success(request, _("令牌已吊销。"))
            return redirect("accounts:credentials")
        if action == "revoke_key":
            key = get_object_or_404(ApiKey.objects.for_user(user, "change"), pk=_int(request.POST.get("key")))
            services.api_key_revoke(actor=user, key=key)
            messages.success(request, _("API 密钥已吊销。"))
            return redirect("accounts:credentials")
        if action == "create_key":
            if not (user.institution_id and services.may_manage_api_keys(user, user.institution_id)):
                raise PermissionDenied
            form = ApiKeyForm(request.POST)
            if form.is_valid():
                key, new_key = services.api_key_create(
                    actor=user,
                    institution=user.institution,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                )
                messages.success(request, _("API 密钥已创建，请立即复制保存：它只显示这一次。"))
        else:
            form = ApiKeyForm()
    else:
        form = ApiKeyForm()
    may_create = bool(user.institution_id) and services.may_manage_api_keys(user, user.institution_id)
    keys = ApiKey.objects.for_user(user).select_related("institution", "created_by")
    context = {
        "tokens": [
            (t, services.token_expires_at(t))
            for t in _tokens_for(user).select_related("user").order_by("user")
        ],
        "keys": keys if (is_admin(user) or is_company_user(user)) else ApiKey.objects.none(),
        "may_create": may_create,
        "may_revoke_keys": is_admin(user) or may_create,
        "form": form,
        "new_key": new_key,
        "hours": settings.API_TOKEN_HOURS,
    }
    return render(request, "registration/credentials.html", context)


def _tokens_for(user):
    return Token.objects.all() if is_admin(user) else Token.objects.filter(user=user)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None
