from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print the current two-factor code for the demo staff logins (local settings only)."

    def handle(self, *args: object, **options: object) -> None:
        from allauth.mfa.totp.internal.auth import (
            format_hotp_value,
            hotp_value,
            yield_hotp_counters_from_time,
        )

        if not settings.DEMO_TOTP_SECRET:
            raise CommandError("There is no demo TOTP secret in these settings.")
        counter = next(iter(yield_hotp_counters_from_time()))
        self.stdout.write(format_hotp_value(hotp_value(settings.DEMO_TOTP_SECRET, counter)))
