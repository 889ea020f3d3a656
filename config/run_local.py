"""`make run`: the database schema and the demo, then the web server, a Celery
worker and beat, together in the foreground, on the embedded PostgreSQL and
Valkey unless DATABASE_URL and REDIS_URL are set. Ctrl-C (or SIGTERM) stops all
three, waits for them, then stops the embedded servers this run started."""
import os
import signal
import subprocess
import sys
import time

from config.embedded import services

PORT = os.environ.get("PORT", "8000")


def main() -> int:
    # Ctrl-C goes to the whole process group: the servers started below shut down on
    # their own, and this process waits for them before stopping the databases.
    with services():
        env = {**os.environ}
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        env.setdefault("PUBLIC_BASE_URL", f"http://localhost:{PORT}")
        py = sys.executable
        for step in (["migrate", "--noinput"], ["seed_demo"]):
            subprocess.run([py, "manage.py", *step], env=env, check=True)
        return serve(env, py)


def serve(env: dict, py: str) -> int:
    commands = {
        "web": [py, "manage.py", "runserver", "--noreload", f"127.0.0.1:{PORT}"],
        "worker": [py, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2",
                   "--without-gossip", "--without-mingle"],
        "beat": [py, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"],
    }
    # Only the web server's statements are bounded (PUENTE_STATEMENT_TIMEOUT_MS).
    procs = {name: subprocess.Popen(cmd, env={**env, "PUENTE_WEB_PROCESS": "1"} if name == "web" else env)
             for name, cmd in commands.items()}
    base = f"http://localhost:{PORT}"
    print(
        f"\nPuente is running (Ctrl-C stops everything):\n"
        f"  API        {base}/api/v1/\n"
        f"  API docs   {base}/api/v1/docs/   (ReDoc: {base}/api/v1/redoc/)\n"
        f"  Admin      {base}/admin/\n"
        f"  Health     {base}/healthz\n"
        f"  Demo logins (password 'puente-demo'): secretaria (secretariat), "
        f"pe.migraciones, cl.sermig (caseworkers), delegado.pe (committee member)\n"
        f"  Emails are written to var/mail/\n",
        flush=True,
    )

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with code {proc.returncode}; stopping the others.", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.5)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
