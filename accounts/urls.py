from django.contrib.auth import views as auth_views
from django.urls import path

from core.permissions import public, signed_in

from . import reset, views

app_name = "accounts"

urlpatterns = [
    path("login/", public(auth_views.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("otp/", views.otp, name="otp"),
    path(
        "password/", signed_in(auth_views.PasswordChangeView.as_view(success_url="/")), name="password_change"
    ),
    path("password/reset/", public(reset.PasswordResetView.as_view()), name="password_reset"),
    path(
        "password/reset/sent/",
        public(auth_views.PasswordResetDoneView.as_view(template_name="registration/reset_done.html")),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        public(reset.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        public(
            auth_views.PasswordResetCompleteView.as_view(template_name="registration/reset_complete.html")
        ),
        name="password_reset_complete",
    ),
    path("credentials/", views.credentials, name="credentials"),
]
