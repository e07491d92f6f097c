from django.contrib.auth import views as auth_views
from django.urls import path

from core.permissions import public, signed_in

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", public(auth_views.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("otp/", views.otp, name="otp"),
    path(
        "password/", signed_in(auth_views.PasswordChangeView.as_view(success_url="/")), name="password_change"
    ),
]
