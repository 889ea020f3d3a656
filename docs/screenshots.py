"""Screenshots of the secretariat's admin for docs/secretariat-guide.md.

Starts throw-away embedded PostgreSQL and Valkey servers with the demo data, the
development server on a loopback port, drives the system Chromium with
Playwright and saves PNGs under docs/img/. Run from the repository root:

    python3 -m venv /tmp/docs-venv && /tmp/docs-venv/bin/pip install -r requirements-docs.txt
    /tmp/docs-venv/bin/python docs/screenshots.py

Needs Chromium at /usr/bin/chromium (Playwright's own browser download is
not used). The project's Python is .venv/bin/python unless PUENTE_PYTHON says
otherwise.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cases.demo.credentials import DEMO_PASSWORD, DEMO_TOTP_CODE_COMMAND  # noqa: E402  (plain constants)

IMG = ROOT / "docs" / "img"
PYTHON = os.environ.get("PUENTE_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# A second, draft meeting, so the docket has something to propose while it is prepared.
EXTRA = """
import datetime
from django.utils import timezone
from cases.models import User
from committee import services
from committee.models import Committee
committee = Committee.objects.get(code="comite-binacional")
if not committee.meetings.filter(title="Sesión extraordinaria").exists():
    start = (timezone.now() + datetime.timedelta(days=5)).replace(hour=14, minute=0, second=0, microsecond=0)
    services.meeting_create(actor=User.objects.get(username="secretaria"), committee=committee,
                            title="Sesión extraordinaria", starts_at=start,
                            ends_at=start + datetime.timedelta(hours=2), time_zone="America/Lima",
                            mode="online", video_link="https://reuniones.comite-binacional.example.org/extra")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, **kwargs):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="puente-docs-"))
    workdir.chmod(0o755)  # started by root, PostgreSQL runs as another user and must reach its folder
    embedded = [PYTHON, "-m", "config.embedded", "--root", str(workdir)]
    started = subprocess.run([*embedded, "start"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    urls = dict(line.split("=", 1) for line in started.splitlines() if "_URL=" in line)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "1",
           "EMAIL_URL": "consolemail://", **urls}
    try:
        serve_and_shoot(env)
    finally:
        subprocess.run([*embedded, "stop"], cwd=ROOT, check=False)


def serve_and_shoot(env: dict) -> None:
    manage(env, "migrate", "--noinput", stdout=subprocess.DEVNULL)
    manage(env, "seed_demo", stdout=subprocess.DEVNULL)
    manage(env, "shell", "-c", EXTRA, stdout=subprocess.DEVNULL)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(base + "/healthz")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="es-PE", timezone_id="America/Lima",
                                    extra_http_headers={"Accept-Language": "es"})
            page.goto(base + "/admin/login/")
            page.fill("#id_username", "secretaria")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("input[type=submit]")
            # The demo accounts' second factor: the code of the published demo secret (README.md).
            code_command = DEMO_TOTP_CODE_COMMAND.replace(".venv/bin/python", PYTHON)
            page.fill("#id_code", subprocess.check_output(code_command, shell=True, cwd=ROOT, text=True).strip())
            page.click("#second-factor-form input[type=submit]")
            shots(page, base)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def shot(page, name: str, full_page: bool = True) -> None:
    path = IMG / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print("saved", path.relative_to(ROOT))


def open_meeting(page, base: str, title: str) -> None:
    page.goto(base + "/admin/committee/meeting/")
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_load_state()


def shots(page, base: str) -> None:
    page.goto(base + "/admin/")
    shot(page, "dashboard")

    page.goto(base + "/admin/committee/meeting/")
    shot(page, "meetings", full_page=False)

    open_meeting(page, base, "II Sesión ordinaria del Comité Binacional")
    shot(page, "meeting-scheduled")

    open_meeting(page, base, "Sesión extraordinaria")
    shot(page, "meeting-draft")
    page.click("text=Propuestas")
    page.wait_for_load_state()
    shot(page, "docket")

    open_meeting(page, base, "II Sesión ordinaria del Comité Binacional")
    meeting_url = page.url.rsplit("/change/", 1)[0]
    page.goto(meeting_url + "/agenda/print/?lang=es")
    shot(page, "print-agenda-es")

    open_meeting(page, base, "I Sesión ordinaria del Comité Binacional")
    meeting_url = page.url.rsplit("/change/", 1)[0]
    page.goto(meeting_url + "/minutes/print/?lang=es")
    shot(page, "print-minutes-es")
    page.goto(meeting_url + "/minutes/print/?lang=en")
    shot(page, "print-minutes-en")

    page.goto(base + "/admin/committee/actionitem/?overdue=yes")
    shot(page, "action-items-overdue", full_page=False)


if __name__ == "__main__":
    sys.exit(main())
