from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from core.demo import DEMO_API_CLIENT_ID, DemoLogin, load_demo_data
from outcomes.demo import demo_carer_survey_link


def format_logins(logins: list[DemoLogin]) -> str:
    width = max(len(login.kind) for login in logins)
    lines = [f"Demo logins (password for all: {settings.DEMO_PASSWORD}):"]
    for login in logins:
        mfa = "  + 6-digit code from `make totp`" if login.mfa else ""
        lines.append(f"  {login.kind:<{width}}  {login.email}{mfa}")
    lines.append(
        f"  {'API client credentials':<{width}}  {DEMO_API_CLIENT_ID} / {settings.DEMO_PASSWORD}"
    )
    link = demo_carer_survey_link()
    if link:
        lines.append(f"  {'Family carer survey (no login)':<{width}}  {link}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Load the demo organisations, staff, budget holders and representative (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = load_demo_data()
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(format_logins(logins))
