"""``make bench``: every figure of docs/performance.md, end to end.

    .venv/bin/python -m bench.run [--scales 10k 100k 1m] [--sweep 100000] [--duration 20]

For each scale: generate the dataset if it is missing or stale, clone it,
start gunicorn, run every endpoint, stop gunicorn, drop the clone. Then the
overdue sweep against its backlog. Every table goes to ``var/bench/`` and
all of them, together, to ``var/bench/latest.md``, which is also printed.
"""
import argparse
import os
import shutil
import subprocess
from pathlib import Path

from bench import common, load, sweep


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
    parser.add_argument("--sweep", type=int, default=100_000, help="overdue backlog for the sweep; 0 to skip")
    parser.add_argument("--sweep-seconds", type=float, default=120)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    ensure_wrk()
    written = []
    for scale in args.scales:
        written.append(load.run(load.parse_args(["--cases", str(common.SCALES[scale]), "--seed", str(args.seed),
                                                 "--duration", str(args.duration)])))
    if args.sweep:
        sweep.main(["--pending", str(args.sweep), "--seed", str(args.seed),
                    "--max-seconds", str(args.sweep_seconds)])
        written.append(common.OUT_DIR / f"sweep-{common.scale_label(args.sweep)}.md")
    text = "\n\n".join(path.read_text() for path in written)
    (common.OUT_DIR / "latest.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
