"""The cloud-mining gateway's request costs, against its own cheapest request in the same run.

A real `engram cloud gateway` on a local chain (anvil + Circle's USDC, python/tests/evm.py), the
official x402 client as payer: GET /health (the baseline), an unpaid POST /sessions (402 with
the price), a paid one (verify, chain checks, send, mined, recorded: 201) and the time from 201
until the session's miner serves. Run by scripts/bench-gateway.sh (`make bench-gateway`) after a
build; prints the CPU model with every result."""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "python" / "tests"), str(ROOT / "python")]

import requests  # noqa: E402
import test_gateway as tg  # noqa: E402
from evm import BASE_SEPOLIA_CHAIN_ID, Anvil, deploy_usdc, mint  # noqa: E402

ROUNDS = 10


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def timed(f: Callable[[], object]) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    with Anvil(chain_id=BASE_SEPOLIA_CHAIN_ID) as chain:
        token = deploy_usdc(chain.url)
        mint(chain.url, token, tg.PAYER, 100_000_000)
        state = Path(tempfile.mkdtemp(prefix="engram-gateway-bench-"))
        gateway = tg.Gateway(state, chain.url, token)
        env = tg.Env(chain, token, gateway)
        health: List[float] = []
        unpaid: List[float] = []
        paid: List[float] = []
        serving: List[float] = []
        try:
            for _ in range(ROUNDS):
                health.append(
                    timed(lambda: requests.get(f"{gateway.url}/health", timeout=10))
                )
                unpaid.append(timed(lambda: tg.offer(env)))
                headers = tg.sign_for(
                    env, tg.offer(env).headers["PAYMENT-REQUIRED"], None
                )
                start = time.perf_counter()
                r = tg.pay_with(gateway.url, headers)
                paid.append(time.perf_counter() - start)
                assert r.status_code == 201, r.text
                start = time.perf_counter()
                session = tg.running(env, r.json()["id"])
                serving.append(time.perf_counter() - start)
                assert (
                    tg.signed_delete(gateway.url, tg.OWNER, session["id"]).status_code
                    == 200
                )
        finally:
            gateway.stop()
            tg.stop_miners(state)
    base = statistics.median(health)
    print(
        f"CPU: {cpu_model()}; {ROUNDS} rounds; medians, ratio to GET /health in the same run"
    )
    for name, xs in [
        ("GET /health (baseline)", health),
        ("POST /sessions unpaid -> 402", unpaid),
        (
            "POST /sessions paid -> 201 (verify, chain checks, send, mined, recorded)",
            paid,
        ),
        ("201 -> miner serving (engram serve started, /health answers)", serving),
    ]:
        m = statistics.median(xs)
        print(f"{name:75} {1000 * m:9.1f} ms  {m / base:8.1f}x")


if __name__ == "__main__":
    main()
