"""What ``pool_pre_ping`` (bot/db.py) costs a unit of work on PostgreSQL, in one run: the same
units of work (a ``SELECT 1`` in a transaction) with and without the pool's check, alternately,
twice (bench/README.md, bench-load runs 5-7).

    .venv/bin/python bench/pool_ping.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--units 3000]

Prints client CPU and wall milliseconds a unit of work each way.
"""

from __future__ import annotations

import argparse
import os
import time

from sqlalchemy import create_engine, text


def per_unit(url: str, ping: bool, units: int) -> tuple[float, float]:
    engine = create_engine(url, future=True, pool_pre_ping=ping, pool_size=2)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(units):
            with engine.begin() as connection:
                connection.execute(text("SELECT 1"))
        return (time.process_time() - cpu) / units * 1000, (time.perf_counter() - wall) / units * 1000
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--units", type=int, default=3000)
    args = parser.parse_args()
    for _ in range(2):
        for ping in (False, True):
            cpu, wall = per_unit(args.url, ping, args.units)
            print(f"pre_ping={ping}: {cpu:.3f} ms CPU, {wall:.3f} ms wall a unit of work ({args.units})")


if __name__ == "__main__":
    main()
