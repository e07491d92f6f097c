"""API authentication: a company's API key (`Authorization: Api-Key gpk_…`) or a person's token
(`Authorization: Token …`) that expires after settings.API_TOKEN_HOURS."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

# Imported by DRF's settings while Django is still loading: models and services are imported when used.

LAST_USE_EVERY = timedelta(minutes=1)  # "last used" is written at most once a minute per key


class ExpiringTokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        from .services import token_expires_at

        user, token = super().authenticate_credentials(key)
        if token_expires_at(token) <= timezone.now():
            raise exceptions.AuthenticationFailed(_("令牌已过期，请重新获取。"))
        return user, token


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """request.user is the key's own user (the company's approver role, for the key's institution),
    request.auth the key: core.permissions.Authority lets it call only views of its scopes."""

    keyword = "Api-Key"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("API 密钥格式不正确。"))
        try:
            text = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("API 密钥无效。")) from None
        from .models import ApiKey
        from .services import secret_hash

        key = ApiKey.objects.select_related("user").filter(key_hash=secret_hash(text)).first()
        if key is None or key.revoked_at is not None or not key.user.is_active:
            raise exceptions.AuthenticationFailed(_("API 密钥无效或已吊销。"))
        now = timezone.now()
        if key.last_used_at is None or key.last_used_at < now - LAST_USE_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key.user, key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The schema names the key header, so generated clients can send it."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A company's API key: `Api-Key gpk_…` (scopes: filings, indicators, guarantees)",
        }
