import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.permissions import signed_in


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "/"


def _qr_data_uri(text: str) -> str:
    buf = BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@signed_in
def otp(request):
    """Second factor: set up a TOTP device on first use, then verify a code at every login."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    setup = device is None
    if setup:
        device, _created = TOTPDevice.objects.get_or_create(
            user=request.user, confirmed=False, defaults={"name": "authenticator"}
        )
    if request.method == "POST":
        token = request.POST.get("token", "").strip()
        if device.verify_token(token):
            if setup:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("双因素验证已通过。"))
            return redirect(_safe_next(request))
        messages.error(request, _("验证码不正确或已过期，请重新输入。 (Invalid or expired code.)"))
    context = {"setup": setup, "next": _safe_next(request)}
    if setup:
        context.update(qr=_qr_data_uri(device.config_url), secret=base64.b32encode(device.bin_key).decode())
    return render(request, "registration/otp.html", context)
