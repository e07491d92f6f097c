"""The client's address, as far as it can be trusted.

Behind `settings.TRUSTED_PROXY_COUNT` reverse proxies (nginx, a load balancer), each appends the address
it received the request from to X-Forwarded-For, so the client is the entry that many places from the
right; anything further left was written by the client and is ignored. With no proxy (0, the default)
the header is ignored altogether and the socket's address counts. The login lockout (django-axes) and
the token endpoint's throttle both key on this, so rotating the header cannot get round either."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    return hops[-proxies] if len(hops) >= proxies else (hops[0] if hops else remote)
