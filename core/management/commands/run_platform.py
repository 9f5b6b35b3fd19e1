"""`make run`: migrate, load demo data, then run web, a Celery worker and Celery beat
together until Ctrl-C, which stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.demo import load_demo_data
from core.management.commands.demo_data import format_logins


class Command(BaseCommand):
    help = "Run the whole platform locally (web, worker, beat) with demo data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--no-demo", action="store_true", help="Skip loading demo data.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date.")
        logins = [] if options["no_demo"] else load_demo_data()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", options["addr"]],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
            ],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "-l", "info"],
        }
        processes = {
            name: subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
            for name, command in commands.items()
        }
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            self.style.SUCCESS(f"\nThe platform is running at http://{options['addr']}/")
            + "\n  Health: /healthz   API docs: /api/v1/docs/   Admin: /admin/"
            + "\n  Staff sign-in asks for a code: run `make totp` in another terminal."
            + f"\n  Email is printed here (backend: {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]})."
            + "\n  Press Ctrl-C to stop web, worker and beat.\n"
        )
        if logins:
            self.stdout.write(format_logins(logins) + "\n")
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
            from core import embedded

            embedded.shutdown()
            self.stdout.write("Stopped web, worker and beat.")
