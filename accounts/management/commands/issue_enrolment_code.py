"""Issue a one-time code with which a person enrols their first second-factor device (production
bootstrap: the first administrator gets theirs here; later an administrator uses the user admin)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import enrolment_code_issue


class Command(BaseCommand):
    help = "Print a one-time second-factor enrolment code for USERNAME (earlier unused codes die; audited)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        self.stdout.write(enrolment_code_issue(actor=None, user=user))
