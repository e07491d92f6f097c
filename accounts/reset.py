"""Password reset by mail: a one-time link (Django's token: it dies once the password changes, and after
settings.PASSWORD_RESET_TIMEOUT), rate-limited per client address and per mailbox in the shared cache,
every request and every completed reset in the audit trail. The second factor still applies after it."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from core import audit
from core.net import client_ip
from core.stored_text import Message

HOUR = 60 * 60


def _over_limit(key: str) -> bool:
    """Count one attempt under `key`; True when the hour's allowance is used up."""
    cache.add(key, 0, HOUR)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, HOUR)
        count = 1
    return count > settings.PASSWORD_RESET_PER_HOUR


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/reset_form.html"
    email_template_name = "registration/reset_email.txt"
    subject_template_name = "registration/reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        email = request.POST.get("email", "").strip().lower()
        mailbox = hashlib.sha256(email.encode()).hexdigest()[:32]
        by_address = _over_limit(f"pwreset:ip:{client_ip(request)}")
        by_mailbox = _over_limit(f"pwreset:mail:{mailbox}")
        if by_address or by_mailbox:
            audit.record_event(
                actor=None,
                action=audit.Action.SECURITY,
                what=email[:300],
                note=Message("重置密码请求过于频繁，已拒绝"),
                changes={"ip": client_ip(request)},
            )
            message = _("重置请求过于频繁，请一小时后再试。")
            return render(
                request, self.template_name, {"form": self.get_form(), "refused": message}, status=429
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        users = list(form.get_users(email))
        for user in users:
            audit.record_event(
                actor=None,
                action=audit.Action.SECURITY,
                what=str(user),
                instance=user,
                note=Message("请求重置密码，已发送邮件"),
                changes={"ip": client_ip(self.request)},
            )
        if not users:
            audit.record_event(
                actor=None,
                action=audit.Action.SECURITY,
                what=email[:300],
                note=Message("请求重置密码：无此邮箱的有效账户"),
                changes={"ip": client_ip(self.request)},
            )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record_event(
            actor=form.user,
            action=audit.Action.SECURITY,
            what=str(form.user),
            instance=form.user,
            note=Message("通过邮件链接重置密码"),
            changes={"ip": client_ip(self.request)},
        )
        return response
