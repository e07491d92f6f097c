from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts.api import ObtainTokenView
from core import views as core_views
from core.permissions import public, signed_in

from . import views

handler404 = "core.views.page_not_found"  # JSON under /api/

api_v1 = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include("institutions.api.urls")),
    path("", include("guarantees.api.urls")),
    path("", include("reporting.api.urls")),
    path("", include("supervision.api.urls")),
    path("", include("guarantees.bank_batch_api")),
    path("", include("subsidies.api.urls")),
]

# The indicator, warning and threshold pages moved from /reporting/ to /supervision/ with the supervision
# app: old links and bookmarks redirect, query string kept (the target page checks who may open it).
moved_urls = [
    re_path(
        r"^reporting/(?P<rest>(?:indicators|warnings|thresholds)(?:/.*)?)$",
        public(RedirectView.as_view(url="/supervision/%(rest)s", permanent=True, query_string=True)),
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("inbox/", core_views.inbox, name="inbox"),
    path("inbox/counts/", core_views.menu_counts, name="menu_counts"),
    path(
        "favicon.ico", public(RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg")), name="favicon"
    ),
    path("accounts/", include("accounts.urls")),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("audit/", include("core.urls")),
    path("", include("institutions.urls")),
    path("guarantees/", include("guarantees.urls")),
    path("reporting/", include("reporting.urls")),
    path("supervision/", include("supervision.urls")),
    path("guarantees/bank-batches/", include("guarantees.bank_batch_urls")),
    path("subsidies/", include("subsidies.urls")),
    *moved_urls,
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # a page for people: the anonymous go to the login page (the schema itself answers API clients 401/403)
    path("api/docs/", signed_in(SpectacularRedocView.as_view(url_name="api-schema")), name="api-docs"),
    path(f"{settings.ADMIN_URL}", admin.site.urls),
]
