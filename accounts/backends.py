"""Password sign-in against the user table (Django's ModelBackend); the signed-in user of each web
request is read with their institution, which the page header names on every page (one query less)."""

from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    def get_user(self, user_id):
        from .models import User

        user = User._default_manager.select_related("institution").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
