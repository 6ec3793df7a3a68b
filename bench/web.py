"""Web API throughput: requests/s and p50/p99 latency of the worklist API under a bounded local
load, with a ratio against a static endpoint (``/api/health``) measured in the same run, and
the goals of issue #20 (500,000 items: a worklist page p99 < 100 ms, a filtered search p99 <
300 ms) marked met or missed.

What runs: ``reclaim serve`` in a child process on 127.0.0.1 (a free port; loopback only) over a
fresh SQLite home. The worklist comes from the real pipeline (the bundled example 837 + 835
uploaded through the API, so recovery builds and saves the items); those items are then
replicated with new keys to ``--items`` rows, so the query works on a worklist of realistic size.
The load: ``--concurrency`` client threads, each phase bounded by ``--requests`` and
``--seconds``, whichever comes first, split in three interleaved rounds (so a busy machine slows
every phase alike); p50 is the median of the rounds' medians, p99 the worst round's. The server
is stopped at the end.

    .venv/bin/python bench/web.py [--items 500000] [--requests 1500] [--seconds 20] [--concurrency 8] [--workers 1]

Seeding 500,000 items takes a few minutes (they go through the store's own upsert, in chunks);
``--items 50000`` is a quicker smoke run. On a shared, loaded machine the figures are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password-not-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(home: Path, base: str, token: str, items: int) -> int:
    """Upload the examples through the API, then replicate recovery's items to ``items`` rows."""
    import pyarrow as pa

    from reclaim.store import WorklistStore

    headers = {"Authorization": f"Bearer {token}"}
    for kind, path in (("claims", REPO / "examples/claims/recover-medicare.837"),
                       ("remits", REPO / "examples/remits/recover-medicare.835")):
        with path.open("rb") as fh:
            r = httpx.post(f"{base}/api/uploads", data={"kind": kind}, files={"file": (path.name, fh)}, headers=headers,
                           timeout=120)
        r.raise_for_status()
    import pyarrow.parquet as pq

    real = pa.concat_tables([pq.read_table(p) for p in home.glob("uploads/*/tables/recovery_items.parquet")])
    if real.num_rows == 0:
        raise SystemExit("the example remittance produced no worklist items")
    copies = []
    for n in range(1, max(0, items - real.num_rows) // real.num_rows + 2):
        copy = real.set_column(real.schema.get_field_index("item_id"), "item_id",
                               pa.array([f"b{n:05d}{i:06d}" for i in range(real.num_rows)]))
        for column in ("natural_key", "patient_control_number", "payer_claim_control_number"):
            # each copy its own claim: a search for a claim number finds that claim's items, as in a real office
            values = [None if v is None else f"{v}-{n}" for v in real.column(column).to_pylist()]
            copy = copy.set_column(copy.schema.get_field_index(column), column, pa.array(values, pa.string()))
        copies.append(copy)
    extra = pa.concat_tables(copies).slice(0, max(0, items - real.num_rows))
    store = WorklistStore(f"sqlite:///{home / 'reclaim.sqlite'}")
    for start in range(0, extra.num_rows, 50_000):
        store.upsert_items(extra.slice(start, 50_000), actor="bench")
    from sqlalchemy import func, select, text

    with store.engine.begin() as conn:
        # a worked worklist: a fifth in progress with an assignee, a tenth submitted
        conn.execute(text("UPDATE worklist_items SET status = 'in_progress', assignee = 'bench' WHERE id LIKE '%1'"))
        conn.execute(text("UPDATE worklist_items SET status = 'submitted' WHERE id LIKE '%2'"))
        conn.execute(text("ANALYZE"))
        from reclaim.store import items as items_table

        return conn.execute(select(func.count()).select_from(items_table)).scalar_one()


def first_page(base: str, headers: dict, query: str) -> tuple[str, str]:
    """(a claim number to search for, the keyset cursor of page 2)."""
    body = httpx.get(f"{base}/api/worklist?{query}", headers=headers, timeout=60).json()
    return body["rows"][len(body["rows"]) // 2]["patient_control_number"], body["next"]


def load(base: str, path: str, headers: dict, *, requests: int, seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    budget = iter(range(requests))

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if next(budget, None) is None:
                        return
                start = time.perf_counter()
                response = client.get(path)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    errors += response.status_code != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    return {"requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=1500, help="per phase, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase, at most")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()

    from reclaim.web import auth
    from reclaim.web.db import engine_for

    with tempfile.TemporaryDirectory(prefix="reclaim-bench-web-") as tmp:
        home = Path(tmp)
        url = f"sqlite:///{home / 'reclaim.sqlite'}"
        engine = engine_for(url)
        auth.add_user(engine, "bench", "manager", PASSWORD)
        token = auth.issue_token(engine, "bench", "bench", scope="write")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RECLAIM_HOME": str(home), "RECLAIM_DB_URL": url}
        server = subprocess.Popen([sys.executable, "-m", "reclaim", "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--workers", str(args.workers), "--quiet"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not start: " + server.stderr.read().decode()[-2000:])
            items = seed(home, base, token, args.items)
            headers = {"Authorization": f"Bearer {token}"}
            claim, page2 = first_page(base, headers, "limit=100")
            #: (label, path, headers, goal p99 ms)
            phases = [
                ("GET /api/health (baseline)", "/api/health", {}, None),
                ("GET /api/worklist?limit=100", "/api/worklist?limit=100", headers, 100),
                ("GET /api/worklist page 2 (keyset)", f"/api/worklist?limit=100&after={page2}", headers, 100),
                ("GET /api/worklist filtered+sorted", "/api/worklist?status=new&category=denial&sort=amount&limit=100",
                 headers, 300),
                ("GET /api/worklist?q=<claim number>", f"/api/worklist?q={claim}&limit=100", headers, 300),
                ("GET /api/me (auth only)", "/api/me", headers, None),
            ]
            print(f"reclaim web bench: {items} worklist items, {args.concurrency} client threads, {args.workers} server "
                  f"worker(s), each phase <= {args.requests} requests / {args.seconds:.0f} s, loopback {base}")
            print(f"{'endpoint':<36} {'requests':>8} {'errors':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs health':>10}"
                  f"  goal")
            # phases interleaved over rounds, so a busy neighbour on the machine slows all of them alike
            rounds = 3
            merged: dict[str, list[dict]] = {label: [] for label, *_ in phases}
            for _ in range(rounds):
                for label, path, hdrs, _goal in phases:
                    merged[label].append(load(base, path, hdrs, requests=args.requests // rounds,
                                              seconds=args.seconds / rounds, concurrency=args.concurrency))
            baseline = None
            for label, _, _, goal in phases:
                parts = merged[label]
                requests = sum(p["requests"] for p in parts)
                seconds = sum(p["requests"] / p["rps"] for p in parts if p["rps"])
                rps = requests / seconds if seconds else 0.0
                baseline = baseline or rps
                p50 = statistics.median(p["p50_ms"] for p in parts)
                p99 = max(p["p99_ms"] for p in parts)
                print(f"{label:<36} {requests:>8} {sum(p['errors'] for p in parts):>6} {rps:>9.1f} "
                      f"{p50:>8.1f} {p99:>8.1f} {rps / baseline:>9.2f}x  "
                      + ("" if goal is None else f"p99 < {goal} ms: {'met' if p99 < goal else 'MISSED'}"))
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
