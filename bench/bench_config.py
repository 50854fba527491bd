"""How long loading sites.toml takes, next to what tomllib alone takes to parse it.

    uv run python bench/bench_config.py [--sites 10000 20000 100000]

Every crawl subprocess pays this: loading must stay linear in the number of sites.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tomllib
from pathlib import Path

from monitor import config as siteconfig


def write(path: Path, n: int) -> None:
    schedules = ["daily", "every 6h", "0 3 * * *", "every 30m"]
    lines = ['[defaults]\nschedule = "daily"\n',
             '[alerts]\non = "major"\n[alerts.slack]\nwebhook_url = "${SLACK_WEBHOOK_URL}"\n']
    for i in range(n):
        lines.append(f'[[sites]]\nname = "site-{i}"\nurl = "https://host{i % 5000}.example/'
                     f'privacy/{i}"\nschedule = "{schedules[i % 4]}"\n'
                     + ('remove = [".cookie-banner", "nav"]\n' if i % 3 == 0 else "")
                     + ('notify = ["slack"]\n' if i % 10 == 0 else ""))
    path.write_text("\n".join(lines))


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, nargs="+", default=[10_000, 20_000, 100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sites:
            path = Path(tmp) / f"sites-{n}.toml"
            write(path, n)
            text = path.read_text()
            parse = best(lambda text=text: tomllib.loads(text))
            load = best(lambda path=path: siteconfig.load(path))
            print(f"{n:>7} sites ({len(text) / 1e6:.1f} MB): tomllib {parse:.2f} s, "
                  f"monitor config.load {load:.2f} s ({load / parse:.2f}x tomllib)")


if __name__ == "__main__":
    main()
