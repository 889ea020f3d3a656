"""``make bench``: every figure of docs/performance.md, end to end.

    .venv/bin/python -m bench.run [--scales 10k 100k 1m] [--sweeps-1m] [--no-sweeps] [--duration 20] [--soak 600]

For each scale: generate the dataset if it is missing or stale, clone it,
start gunicorn, run every endpoint, stop gunicorn, drop the clone. Then both
sweeps — the overdue handoffs against a backlog, the reminders over open
deadlines — at 100k, and at 1M too when ``1m`` is among the scales (or with
``--sweeps-1m``). With ``--soak SECONDS``, the soak run (every endpoint at
once from 200 clients) at the largest scale. Every table goes to ``var/bench/`` and all of them,
together, to ``var/bench/latest.md``, which is also printed.
"""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench import common, load, soak


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    # Debian's wrk: as root (CI, a fresh bench machine) it is installed; anyone else is told how.
    if Path("/usr/bin/apt-get").exists() and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", nargs="+", default=["10k", "100k"], choices=list(common.SCALES))
    parser.add_argument("--no-sweeps", action="store_true", help="skip both sweeps")
    parser.add_argument("--sweeps-1m", action="store_true", help="both sweeps at 1M too, whatever the scales")
    parser.add_argument("--sweep-seconds", type=float, default=900, help="stop the overdue sweep after this")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--soak", type=int, default=0, metavar="SECONDS",
                        help="then every endpoint at once from 200 clients for this long, at the largest scale")
    args = parser.parse_args(argv)

    ensure_wrk()
    written = []
    for scale in args.scales:
        written.append(load.run(load.parse_args(["--cases", str(common.SCALES[scale]), "--seed", str(args.seed),
                                                 "--duration", str(args.duration)])))
        # Statistics one call at a time, in a process of its own (Django set up for that dataset).
        subprocess.run([sys.executable, "-m", "bench.statistics", "--cases", str(common.SCALES[scale]),
                        "--seed", str(args.seed)], cwd=common.ROOT, check=True)
        written.append(common.OUT_DIR / f"statistics-{scale}.md")
    if args.soak:
        largest = max(args.scales, key=common.SCALES.__getitem__)
        written.append(soak.run(soak.parse_args(["--cases", str(common.SCALES[largest]), "--seed", str(args.seed),
                                                 "--duration", str(args.soak)])))
    sizes = [] if args.no_sweeps else [100_000] + (
        [1_000_000] if args.sweeps_1m or "1m" in args.scales else [])
    for size in sizes:
        # Each in a process of its own: Django is set up for one database per
        # process, and the memory measured must be the sweep's alone.
        python = [sys.executable, "-m"]
        subprocess.run([*python, "bench.sweep", "--pending", str(size), "--seed", str(args.seed),
                        "--max-seconds", str(args.sweep_seconds)], cwd=common.ROOT, check=True)
        written.append(common.OUT_DIR / f"sweep-{common.scale_label(size)}.md")
        # The pass under tracemalloc once, at 100k: at 1M it takes several times the sweep.
        subprocess.run([*python, "bench.reminder_sweep", "--deadlines", str(size), "--seed", str(args.seed),
                        *([] if size <= 100_000 else ["--no-trace"])], cwd=common.ROOT, check=True)
        written.append(common.OUT_DIR / f"reminder-sweep-{common.scale_label(size)}.md")
    text = "\n\n".join(path.read_text() for path in written)
    (common.OUT_DIR / "latest.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
