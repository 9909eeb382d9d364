"""`engram cloud gateway` end to end: a real gateway process paid through x402 by the official
`x402` client (the payer's wallet), settling on a real local chain (anvil + Circle's USDC from
tests/evm.py), provisioning real `engram serve` miners. Nothing is mocked: every refusal is a
real signed payment the gateway must turn down, and every balance is read from the chain."""

from __future__ import annotations

import base64
import copy
import json
import os
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

import pytest
import requests
from bittensor_wallet import Keypair as BtKeypair
from eth_account import Account
from x402 import x402ClientSync
from x402.http import x402HTTPClientSync
from x402.http.clients.requests import wrapRequestsWithPayment
from x402.mechanisms.evm.exact import register_exact_evm_client

from conftest import engram_bin, free_port
from evm import (
    ACCOUNT_KEYS,
    ACCOUNTS,
    BASE_SEPOLIA_CHAIN_ID,
    Anvil,
    balance_of,
    deploy_usdc,
    mint,
    transfer_with_authorization,
)

PAYER, SETTLER, PAY_TO, BROKE = ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[2], ACCOUNTS[3]
LITE_PER_HOUR = 50_000  # 0.05 USDC
OWNER = BtKeypair.create_from_uri("//Alice")
MALLORY = BtKeypair.create_from_uri("//Mallory")


def b64json(value: Dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def unb64json(value: str) -> Dict[str, Any]:
    decoded: Dict[str, Any] = json.loads(base64.b64decode(value))
    return decoded


class Gateway:
    """A running `engram cloud gateway`; `stop()` checks that it was still alive."""

    def __init__(
        self, state: Path, rpc: str, token: str, network: Optional[str] = None, extra: Sequence[str] = ()
    ) -> None:
        self.state = state
        state.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        key_file = state / "settler.key"
        key_file.write_text(ACCOUNT_KEYS[1])
        self.log = state / f"gateway-{self.port}.log"
        self.proc = subprocess.Popen(
            [
                engram_bin(),
                "--data-dir",
                str(state / "data"),
                *(["--network", network] if network else []),
                "cloud",
                "gateway",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--rpc",
                rpc,
                "--chain-id",
                str(BASE_SEPOLIA_CHAIN_ID),
                "--token",
                token,
                "--pay-to",
                PAY_TO,
                "--key-file",
                str(key_file),
                "--state-dir",
                str(state / "gateway"),
                *extra,
            ],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited ({self.proc.returncode}):\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"the gateway did not answer within 60 s:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        assert self.proc.poll() is None, f"the gateway died during the tests:\n{self.log.read_text()}"
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


class Env:
    def __init__(self, chain: Anvil, token: str, gateway: Gateway) -> None:
        self.chain = chain
        self.token = token
        self.gateway = gateway

    @property
    def url(self) -> str:
        return self.gateway.url

    def balance(self, who: str) -> int:
        return balance_of(self.chain.url, self.token, who)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    # base-sepolia's chain id, so that v1 clients (which know networks by name) can pay too.
    with Anvil(chain_id=BASE_SEPOLIA_CHAIN_ID) as chain:
        token = deploy_usdc(chain.url)
        mint(chain.url, token, PAYER, 10_000_000)
        state = tmp_path_factory.mktemp("gateway")
        gateway = Gateway(state, chain.url, token)
        e = Env(chain, token, gateway)
        try:
            yield e
        finally:
            e.gateway.stop()
            stop_miners(state)


def stop_miners(state: Path) -> None:
    """Kills the miners a gateway in `state` left running (they outlive it by design), each only
    if its pid is still that miner: its command line names its own directory."""
    path = state / "gateway" / "sessions.json"
    if not path.exists():
        return
    for s in json.loads(path.read_text())["sessions"].values():
        miner = s.get("miner") or {}
        pid, where = miner.get("pid"), miner.get("dir")
        if not pid or not where:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if where.encode() in cmdline:
            os.kill(pid, signal.SIGKILL)


def payer(env: Env, key: str = ACCOUNT_KEYS[0]) -> x402ClientSync:
    """The official client as a wallet sets it up. Its spend controls know only the public USDC
    deployments, so they are off: the tests also sign altered requirements (another chain) that
    the gateway, not the client, must refuse."""
    client = x402ClientSync()
    register_exact_evm_client(client, Account.from_key(key))
    client.set_spend_controls(False)
    return client


def paying_session(env: Env, key: str = ACCOUNT_KEYS[0]) -> requests.Session:
    return wrapRequestsWithPayment(requests.Session(), payer(env, key))


def signed_delete(url: str, key: BtKeypair, session_id: str) -> requests.Response:
    """DELETE /sessions/{id} as a signed request: `{nonce}:sessions/{id}:{sha256 of the rest}`."""
    import hashlib

    nonce = int(time.time() * 1000)
    body_hash = hashlib.sha256(b"{}").hexdigest()
    message = f"{nonce}:sessions/{session_id}:{body_hash}"
    signature = "0x" + key.sign(message.encode()).hex()
    return requests.delete(
        f"{url}/sessions/{session_id}",
        json={"hotkey": key.ss58_address, "nonce": nonce, "signature": signature},
        timeout=30,
    )


def wait_for(check: Callable[[], Optional[Dict[str, Any]]], what: str, timeout: float = 90) -> Dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got is not None:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def running(env: Env, session_id: str) -> Dict[str, Any]:
    def check() -> Optional[Dict[str, Any]]:
        s: Dict[str, Any] = requests.get(f"{env.url}/sessions/{session_id}", timeout=10).json()
        assert s["state"] in ("provisioning", "running"), s
        return s if s["state"] == "running" else None

    return wait_for(check, f"session {session_id} to run")


def serves(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def test_health_and_tiers(env: Env) -> None:
    h = requests.get(f"{env.url}/health", timeout=10).json()
    assert h["network"] == f"eip155:{BASE_SEPOLIA_CHAIN_ID}"
    assert h["pay_to"] == PAY_TO and h["settler"] == SETTLER and h["provider"] == "local"
    tiers = requests.get(f"{env.url}/tiers", timeout=10).json()["tiers"]
    assert [(t["tier"], t["usdc_micros_per_hour"]) for t in tiers] == [
        ("lite", 50_000),
        ("standard", 100_000),
        ("pro", 180_000),
    ]


def test_an_unpaid_request_gets_the_price_in_both_x402_generations(env: Env) -> None:
    r = requests.post(
        f"{env.url}/sessions", json={"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 3}, timeout=10
    )
    assert r.status_code == 402
    v2 = unb64json(r.headers["PAYMENT-REQUIRED"])
    assert v2["x402Version"] == 2
    req = v2["accepts"][0]
    assert (req["scheme"], req["network"], req["amount"]) == ("exact", "eip155:84532", str(3 * LITE_PER_HOUR))
    assert (req["asset"], req["payTo"], req["extra"]) == (env.token, PAY_TO, {"name": "USD Coin", "version": "2"})
    v1 = r.json()
    assert v1["x402Version"] == 1
    assert (v1["accepts"][0]["network"], v1["accepts"][0]["maxAmountRequired"]) == ("base-sepolia", "150000")


@pytest.mark.parametrize(
    "body, message",
    [
        ({"tier": "lite", "hours": 1}, "hotkey"),
        ({"hotkey": "5notanaddress", "tier": "lite", "hours": 1}, "hotkey"),
        ({"hotkey": OWNER.ss58_address, "tier": "huge", "hours": 1}, "tier"),
        ({"hotkey": OWNER.ss58_address, "hours": 1}, "tier"),
        ({"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 0}, "hours"),
        ({"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 721}, "hours"),
        ({"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 1.5}, "hours"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_requests_are_refused_before_any_payment(env: Env, body: Any, message: str) -> None:
    before = env.balance(PAYER)
    r = paying_session(env).post(f"{env.url}/sessions", json=body, timeout=30)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]
    assert env.balance(PAYER) == before


def test_a_paid_session_runs_a_real_miner_until_its_owner_stops_it(env: Env) -> None:
    payer_before, pay_to_before = env.balance(PAYER), env.balance(PAY_TO)
    r = paying_session(env).post(
        f"{env.url}/sessions", json={"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 2}, timeout=60
    )
    assert r.status_code == 201, r.text
    settled = unb64json(r.headers["PAYMENT-RESPONSE"])
    assert settled["success"] is True and settled["payer"] == PAYER
    assert settled["network"] == "eip155:84532" and len(settled["transaction"]) == 66
    assert env.balance(PAYER) == payer_before - 2 * LITE_PER_HOUR
    assert env.balance(PAY_TO) == pay_to_before + 2 * LITE_PER_HOUR
    created = r.json()
    assert created["hours"] == 2 and created["payments"][0]["transaction"] == settled["transaction"]
    assert created["expires_ms"] - created["created_ms"] == 2 * 3_600_000

    s = running(env, created["id"])
    miner = s["miner"]
    assert miner["alive"] and serves(miner["endpoint"])
    assert miner["hotkey"] != OWNER.ss58_address  # the miner's own key; the owner's stays on the phone
    nodes = requests.get(f"{env.url}/nodes", timeout=10).json()["nodes"]
    assert any(n["session"] == created["id"] and n["endpoint"] == miner["endpoint"] for n in nodes)
    mine = requests.get(f"{env.url}/sessions/hotkey/{OWNER.ss58_address}", timeout=10).json()["sessions"]
    assert created["id"] in [x["id"] for x in mine]

    # A paid top-up extends it.
    r = paying_session(env).post(f"{env.url}/sessions/{created['id']}/topup", json={"hours": 1}, timeout=60)
    assert r.status_code == 200, r.text
    topped = r.json()
    assert topped["hours"] == 3 and len(topped["payments"]) == 2
    assert topped["expires_ms"] == created["expires_ms"] + 3_600_000
    assert env.balance(PAYER) == payer_before - 3 * LITE_PER_HOUR

    # Only its owner may stop it, with a valid signature.
    r = signed_delete(env.url, MALLORY, created["id"])
    assert r.status_code == 403, r.text
    forged = requests.delete(
        f"{env.url}/sessions/{created['id']}",
        json={"hotkey": OWNER.ss58_address, "nonce": int(time.time() * 1000), "signature": "0x" + "00" * 64},
        timeout=10,
    )
    assert forged.status_code == 401, forged.text
    assert "does not verify" in forged.json()["error"]
    assert serves(miner["endpoint"])
    r = signed_delete(env.url, OWNER, created["id"])
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "stopped"
    assert not serves(miner["endpoint"])
    assert signed_delete(env.url, OWNER, created["id"]).status_code == 409
    assert requests.post(f"{env.url}/sessions/{created['id']}/topup", json={"hours": 1}, timeout=10).status_code == 409


def sign_for(
    env: Env, required_header: Optional[str], body: Optional[Dict[str, Any]], key: str = ACCOUNT_KEYS[0]
) -> Dict[str, str]:
    """The payment header the official client makes for a (possibly altered) 402."""
    client = payer(env, key)
    http = x402HTTPClientSync(client)
    required = http.get_payment_required_response(
        lambda name: required_header if name == "PAYMENT-REQUIRED" else None, body
    )
    headers: Dict[str, str] = http.encode_payment_signature_header(client.create_payment_payload(required))
    return headers


def offer(env: Env, hours: int = 1) -> requests.Response:
    return requests.post(
        f"{env.url}/sessions", json={"hotkey": OWNER.ss58_address, "tier": "lite", "hours": hours}, timeout=10
    )


def altered_v2(env: Env, change: Callable[[Dict[str, Any]], None]) -> str:
    required = unb64json(offer(env).headers["PAYMENT-REQUIRED"])
    change(required["accepts"][0])
    return b64json(required)


def altered_v1(env: Env, change: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
    body: Dict[str, Any] = copy.deepcopy(offer(env).json())
    change(body["accepts"][0])
    return body


def pay_with(url: str, headers: Dict[str, str]) -> requests.Response:
    """POST /sessions for a lite hour with a payment header made beforehand."""
    return requests.post(
        f"{url}/sessions",
        json={"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 1},
        headers=headers,
        timeout=60,
    )


def sent_by_settler(env: Env) -> int:
    return int(env.chain.w3.eth.get_transaction_count(SETTLER))


def refused(env: Env, headers: Dict[str, str], reason: str) -> None:
    """The payment is refused with `reason`, nothing moves, the settler sends nothing (no gas
    spent on it) and no session starts."""
    balances = env.balance(PAYER), env.balance(PAY_TO)
    sent = sent_by_settler(env)
    sessions = requests.get(f"{env.url}/sessions/hotkey/{OWNER.ss58_address}", timeout=10).json()["sessions"]
    r = pay_with(env.url, headers)
    assert r.status_code == 402, r.text
    assert r.json()["error"] == reason, r.json()
    assert r.json()["detail"]
    assert unb64json(r.headers["PAYMENT-REQUIRED"])["error"] == reason
    settlement = r.headers.get("PAYMENT-RESPONSE") or r.headers["X-PAYMENT-RESPONSE"]
    assert unb64json(settlement)["success"] is False
    assert (env.balance(PAYER), env.balance(PAY_TO)) == balances
    assert sent_by_settler(env) == sent
    after = requests.get(f"{env.url}/sessions/hotkey/{OWNER.ss58_address}", timeout=10).json()["sessions"]
    assert len(after) == len(sessions)


def test_short_wrong_recipient_wrong_chain_and_forged_payments_are_refused(env: Env) -> None:
    def short(r: Dict[str, Any]) -> None:
        r["amount"] = str(LITE_PER_HOUR - 1)

    def elsewhere(r: Dict[str, Any]) -> None:
        r["payTo"] = BROKE

    def mainnet(r: Dict[str, Any]) -> None:
        r["network"] = "eip155:8453"

    refused(env, sign_for(env, altered_v2(env, short), None), "invalid_exact_evm_payload_authorization_value_mismatch")
    refused(env, sign_for(env, altered_v2(env, elsewhere), None), "invalid_exact_evm_payload_recipient_mismatch")
    refused(env, sign_for(env, altered_v2(env, mainnet), None), "network_mismatch")

    # v1 (X-PAYMENT): a payment whose window closes before it could settle.
    def one_second(r: Dict[str, Any]) -> None:
        r["maxTimeoutSeconds"] = 1

    refused(
        env, sign_for(env, None, altered_v1(env, one_second)), "invalid_exact_evm_payload_authorization_valid_before"
    )

    # The right requirement, the authorization altered after signing.
    good = sign_for(env, offer(env).headers["PAYMENT-REQUIRED"], None)
    payment = unb64json(good["PAYMENT-SIGNATURE"])
    signature = payment["payload"]["signature"]
    payment["payload"]["signature"] = signature[:-2] + ("1c" if signature.endswith("1b") else "1b")
    refused(env, {"PAYMENT-SIGNATURE": b64json(payment)}, "invalid_exact_evm_payload_signature")
    refused(env, {"PAYMENT-SIGNATURE": "not base64 at all"}, "invalid_payload")

    # A payer without the funds: the chain is asked before anything is sent.
    broke = sign_for(env, offer(env).headers["PAYMENT-REQUIRED"], None, key=ACCOUNT_KEYS[3])
    refused(env, broke, "invalid_exact_evm_insufficient_balance")


def test_a_v1_payment_pays_once_and_its_replay_is_refused(env: Env) -> None:
    headers = sign_for(env, None, offer(env).json())
    assert list(headers) == ["X-PAYMENT"]
    before = env.balance(PAYER)
    r = pay_with(env.url, headers)
    assert r.status_code == 201, r.text
    assert unb64json(r.headers["X-PAYMENT-RESPONSE"])["success"] is True
    assert env.balance(PAYER) == before - LITE_PER_HOUR
    refused(env, headers, "invalid_exact_evm_nonce_already_used")
    assert signed_delete(env.url, OWNER, r.json()["id"]).status_code == 200


def buy(env: Env, tier: str = "lite", hours: int = 1) -> Dict[str, Any]:
    r = paying_session(env).post(
        f"{env.url}/sessions", json={"hotkey": OWNER.ss58_address, "tier": tier, "hours": hours}, timeout=60
    )
    assert r.status_code == 201, r.text
    return running(env, r.json()["id"])


def test_sessions_survive_a_restart_and_end_when_their_time_is_up(env: Env) -> None:
    keep, due, crashed = buy(env, "standard"), buy(env), buy(env)

    env.gateway.stop()
    # The miners are paid for: they keep serving while the gateway is down.
    assert all(serves(s["miner"]["endpoint"]) for s in (keep, due, crashed))
    # While it is down, one session's paid time runs out…
    path = env.gateway.state / "gateway" / "sessions.json"
    state = json.loads(path.read_text())
    state["sessions"][due["id"]]["expires_ms"] = int(time.time() * 1000) - 1
    path.write_text(json.dumps(state))
    # …and another's miner dies (a crash, a reboot of the machine).
    os.kill(crashed["miner"]["pid"], signal.SIGKILL)

    env.gateway = Gateway(env.gateway.state, env.chain.url, env.token)
    again = requests.get(f"{env.url}/sessions/{keep['id']}", timeout=10).json()
    assert again["state"] == "running" and again["payments"] == keep["payments"]
    assert again["miner"]["alive"] and again["miner"]["pid"] == keep["miner"]["pid"]
    assert serves(keep["miner"]["endpoint"])

    def expired() -> Optional[Dict[str, Any]]:
        s: Dict[str, Any] = requests.get(f"{env.url}/sessions/{due['id']}", timeout=10).json()
        return s if s["state"] == "expired" else None

    ended = wait_for(expired, "the due session to expire", timeout=30)
    assert ended["reason"] == "the paid time ran out"
    assert not serves(due["miner"]["endpoint"])

    def restarted() -> Optional[Dict[str, Any]]:
        s: Dict[str, Any] = requests.get(f"{env.url}/sessions/{crashed['id']}", timeout=10).json()
        m = s.get("miner") or {}
        return s if s["state"] == "running" and m.get("alive") and m["pid"] != crashed["miner"]["pid"] else None

    back = wait_for(restarted, "the crashed miner to be started again", timeout=60)
    # The same miner: same hotkey, same data directory; a new process.
    assert back["miner"]["hotkey"] == crashed["miner"]["hotkey"]
    assert back["miner"]["dir"] == crashed["miner"]["dir"]
    assert serves(back["miner"]["endpoint"])
    for s in (keep, crashed):
        assert signed_delete(env.url, OWNER, s["id"]).status_code == 200


def test_one_authorization_sent_twice_at_once_pays_once(env: Env) -> None:
    headers = sign_for(env, offer(env).headers["PAYMENT-REQUIRED"], None)
    before, sent = env.balance(PAYER), sent_by_settler(env)
    body = {"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 1}
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda _: requests.post(f"{env.url}/sessions", json=body, headers=headers, timeout=60),
                range(2),
            )
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 402], [a.text for a in answers]
    replay = next(a for a in answers if a.status_code == 402)
    assert replay.json()["error"] == "invalid_exact_evm_nonce_already_used"
    assert env.balance(PAYER) == before - LITE_PER_HOUR
    assert sent_by_settler(env) == sent + 1
    paid = next(a for a in answers if a.status_code == 201).json()
    assert signed_delete(env.url, OWNER, paid["id"]).status_code == 200


def test_limits_at_their_edges(env: Env) -> None:
    # 720 hours is the most one payment buys: asked for (402 with its price), not refused.
    r = offer(env, hours=720)
    assert r.status_code == 402
    assert unb64json(r.headers["PAYMENT-REQUIRED"])["accepts"][0]["amount"] == str(720 * LITE_PER_HOUR)
    # A body over 16 KiB is refused in the same JSON shape as every other refusal.
    big = {"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 1, "pad": "x" * (16 * 1024)}
    r = requests.post(f"{env.url}/sessions", json=big, timeout=10)
    assert r.status_code == 413 and "error" in r.json()
    fits = {"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 1}
    fits["pad"] = "x" * (16 * 1024 - len(json.dumps({**fits, "pad": ""})))
    assert len(json.dumps(fits)) == 16 * 1024
    assert requests.post(f"{env.url}/sessions", data=json.dumps(fits), timeout=10).status_code == 402


def test_on_a_network_the_miner_registers_its_own_hotkey_and_serves(env: Env, devnet: str, tmp_path: Path) -> None:
    gateway = Gateway(tmp_path, env.chain.url, env.token, network=devnet)
    try:
        r = paying_session(env).post(
            f"{gateway.url}/sessions", json={"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 1}, timeout=60
        )
        assert r.status_code == 201, r.text
        s = running(Env(env.chain, env.token, gateway), r.json()["id"])
        registry = json.loads((Path(devnet) / "registry.json").read_text())
        neurons = {n["hotkey"]: n for n in registry["neurons"]}
        assert s["miner"]["hotkey"] in neurons
        assert neurons[s["miner"]["hotkey"]]["axon"] == s["miner"]["endpoint"]
        assert OWNER.ss58_address not in neurons
        assert signed_delete(gateway.url, OWNER, s["id"]).status_code == 200
    finally:
        gateway.stop()
        stop_miners(tmp_path)


def test_the_mine_page_pays_with_a_wallet_and_follows_the_miner(env: Env, devnet: str, tmp_path: Path) -> None:
    """The phone's flow in a real browser: a key made in the page, a tier picked, the payment
    signed by an EIP-1193 wallet (here a wallet that signs with eth_account outside the page, as
    a wallet app does), the miner followed until it serves with its standing on the network,
    then stopped with the page's own sr25519 signature."""
    from playwright.sync_api import sync_playwright
    from test_web import PHONE, SHOTS, Watched, chromium_path, wait_until

    gateway = Gateway(tmp_path, env.chain.url, env.token, network=devnet)
    signer = Account.from_key(ACCOUNT_KEYS[0])
    asked: list[str] = []

    def wallet(method: str, params_json: str) -> str:
        asked.append(method)
        params = json.loads(params_json)
        if method == "eth_requestAccounts":
            return json.dumps([PAYER])
        if method == "eth_chainId":
            return json.dumps(hex(BASE_SEPOLIA_CHAIN_ID))
        if method == "eth_signTypedData_v4":
            assert params[0] == PAYER
            signed = signer.sign_typed_data(full_message=json.loads(params[1]))
            return json.dumps("0x" + bytes(signed.signature).hex())
        raise ValueError(f"the wallet does not do {method}")

    before = env.balance(PAYER), env.balance(PAY_TO)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
            w = Watched(browser, viewport=PHONE)
            page = w.page
            page.expose_function("engramTestWallet", wallet)
            page.add_init_script(
                "window.ethereum = { request: async ({ method, params }) =>"
                " JSON.parse(await window.engramTestWallet(method, JSON.stringify(params || []))) };"
            )
            page.goto(gateway.url + "/")
            page.wait_for_selector("body[data-ready='1']", state="attached")
            page.click("#key-new")
            page.wait_for_selector("#hotkey")
            hotkey = page.inner_text("#hotkey")
            assert hotkey.startswith("5") and len(hotkey) == 48
            page.check("input[name='tier'][value='lite']")
            page.fill("#hours", "2")
            assert page.inner_text("#price") == "0.10 USDC"
            page.click("#pay")
            page.wait_for_selector("#paid", timeout=60_000)
            assert asked[-1] == "eth_signTypedData_v4"
            assert (env.balance(PAYER), env.balance(PAY_TO)) == (
                before[0] - 2 * LITE_PER_HOUR,
                before[1] + 2 * LITE_PER_HOUR,
            )
            wait_until(page, "!!document.querySelector(\"li[data-state='running'] .score\")", timeout_s=90)
            shown = " ".join(page.inner_text("li[data-state='running']").split())
            assert "(up)" in shown and "Score: uid " in shown, shown
            session = requests.get(f"{gateway.url}/sessions/hotkey/{hotkey}", timeout=10).json()["sessions"][0]
            assert session["miner"]["endpoint"] in shown and serves(session["miner"]["endpoint"])
            page.screenshot(path=str(SHOTS / "mine.png"), full_page=True)

            # The key survives a reload (it lives in this browser), and it stops the miner.
            page.reload()
            page.wait_for_selector("body[data-ready='1']", state="attached")
            assert page.inner_text("#hotkey") == hotkey
            page.wait_for_selector("li[data-state='running'] button.stop")
            page.click("li[data-state='running'] button.stop")
            page.wait_for_selector("li[data-state='stopped']", timeout=30_000)
            assert not serves(session["miner"]["endpoint"])
            w.close(allow="status of 402")  # the unpaid first ask, which the browser logs
            browser.close()
    finally:
        gateway.stop()
        stop_miners(tmp_path)


def test_a_payment_someone_else_settled_first_counts_and_costs_the_gateway_nothing(env: Env) -> None:
    """Anyone who sees an authorization may submit it (here the payer's own wallet does); the
    funds still reach the pay-to address, so it is paid: the session starts with that
    transaction, and the gateway sends none."""
    headers = sign_for(env, offer(env).headers["PAYMENT-REQUIRED"], None)
    payload = unb64json(headers["PAYMENT-SIGNATURE"])["payload"]
    receipt = transfer_with_authorization(
        env.chain.url, env.token, payload["authorization"], payload["signature"], sender=ACCOUNTS[4]
    )
    sent = sent_by_settler(env)
    r = pay_with(env.url, headers)
    assert r.status_code == 201, r.text
    assert unb64json(r.headers["PAYMENT-RESPONSE"])["transaction"] == "0x" + bytes(receipt["transactionHash"]).hex()
    assert sent_by_settler(env) == sent
    assert signed_delete(env.url, OWNER, r.json()["id"]).status_code == 200


def test_a_settlement_still_in_flight_becomes_its_session_after_a_restart(env: Env, tmp_path: Path) -> None:
    """The chain stops mining: the paid request answers 202 with the transaction, the same
    payment again is still pending (not a replay), the gateway restarts with the transfer in
    the mempool, and once a block is mined the session appears and its miner serves."""
    gateway = Gateway(tmp_path, env.chain.url, env.token, extra=["--settle-wait-s", "2"])
    w3 = env.chain.w3
    try:
        headers = sign_for(env, offer(env).headers["PAYMENT-REQUIRED"], None)
        body = {"hotkey": OWNER.ss58_address, "tier": "lite", "hours": 1}
        w3.provider.make_request("evm_setAutomine", [False])
        try:
            r = requests.post(f"{gateway.url}/sessions", json=body, headers=headers, timeout=60)
            assert r.status_code == 202, r.text
            pending = r.json()
            assert pending["status"] == "settlement_pending" and len(pending["transaction"]) == 66
            again = requests.post(f"{gateway.url}/sessions", json=body, headers=headers, timeout=60)
            assert again.status_code == 202 and again.json()["transaction"] == pending["transaction"]
            assert requests.get(f"{gateway.url}/sessions/{pending['session']}", timeout=10).status_code == 404
            gateway.stop()
            gateway = Gateway(tmp_path, env.chain.url, env.token, extra=["--settle-wait-s", "2"])
        finally:
            w3.provider.make_request("evm_setAutomine", [True])
            w3.provider.make_request("evm_mine", [])

        def started() -> Optional[Dict[str, Any]]:
            r = requests.get(f"{gateway.url}/sessions/{pending['session']}", timeout=10)
            s: Dict[str, Any] = r.json()
            return s if r.status_code == 200 and s["state"] == "running" else None

        s = wait_for(started, "the pending payment's session", timeout=60)
        assert s["payments"][0]["transaction"] == pending["transaction"]
        assert serves(s["miner"]["endpoint"])
        assert signed_delete(gateway.url, OWNER, s["id"]).status_code == 200
    finally:
        gateway.stop()
        stop_miners(tmp_path)


def test_a_gateway_refuses_to_start_on_a_wrong_token_domain_or_a_busy_state_directory(env: Env, tmp_path: Path) -> None:
    def start_fails(state: Path, *extra: str) -> str:
        with pytest.raises(RuntimeError) as failed:
            Gateway(state, env.chain.url, env.token, extra=extra)
        return str(failed.value)

    assert "EIP-712 domain" in start_fails(tmp_path / "a", "--token-name", "Fake Coin")
    busy = Gateway(tmp_path / "b", env.chain.url, env.token)
    try:
        assert "in use by another gateway" in start_fails(tmp_path / "b")
    finally:
        busy.stop()
