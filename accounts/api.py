from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.exceptions import AppError
from core.net import client_ip
from core.parsers import StrictJSONParser
from core.permissions import PublicAPI

from .permissions import needs_second_factor
from .services import token_expires_at, token_issue


class LoginThrottle(AnonRateThrottle):
    """Attempts per client address (the trusted one, core.net: a rotated X-Forwarded-For is the same
    client) in the shared cache (Redis in production), so every process counts the same attempts."""

    scope = "login"

    def get_ident(self, request) -> str:
        return client_ip(request)


class TokenRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp_token = serializers.CharField(
        required=False, help_text="TOTP code; required for regulators and finance officers when 2FA is on"
    )


class ObtainTokenView(APIView):
    """POST username and password (and otp_token where 2FA applies) → {"token": ..., "expires": ...}.
    Each login replaces the person's previous token; it expires after settings.API_TOKEN_HOURS and dies
    on lock-out and password change (systems use a company's API key instead). Failed attempts count
    towards the same lockout as the login page (django-axes)."""

    permission_classes = [PublicAPI]
    authentication_classes = []
    throttle_classes = [LoginThrottle]
    # JSON as everywhere in the API (the schema documents only JSON); a login form's body is read too
    parser_classes = [StrictJSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=TokenRequest,
        responses=inline_serializer(
            "TokenResponse", {"token": serializers.CharField(), "expires": serializers.DateTimeField()}
        ),
    )
    def post(self, request: Request) -> Response:
        data = TokenRequest(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if user is None or not user.is_active:
            raise AppError(_("用户名或密码错误，或账户已被锁定。"))
        if settings.OTP_REQUIRED and needs_second_factor(user):
            token = data.validated_data.get("otp_token", "")
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if not token or device is None or not device.verify_token(token):
                message = _("需要有效的动态验证码。")
                raise AppError(message, errors={"otp_token": [message]})
        token = token_issue(user=user)
        return Response(
            {
                "token": token.key,
                "expires": serializers.DateTimeField().to_representation(token_expires_at(token)),
            }
        )
