"""The local EVM chain of tests/evm.py (anvil + Circle's USDC) against the official x402 client:
what the x402 package signs for the exact EVM scheme settles on the chain once, and only once."""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, Iterator

import pytest
from eth_account import Account
from web3.exceptions import ContractLogicError
from x402 import NoMatchingRequirementsError, x402ClientSync
from x402.http import x402HTTPClientSync
from x402.mechanisms.evm.exact import register_exact_evm_client

from evm import (
    ACCOUNT_KEYS,
    ACCOUNTS,
    BASE_SEPOLIA_CHAIN_ID,
    Anvil,
    authorization_state,
    balance_of,
    deploy_usdc,
    mint,
    transfer_with_authorization,
)

PAYER, GATEWAY, PAY_TO = ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[2]
PRICE = 10_000  # 0.01 USDC


def b64json(value: Dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def unb64json(value: str) -> Dict[str, Any]:
    decoded: Dict[str, Any] = json.loads(base64.b64decode(value))
    return decoded


def payer_client(network: str, token: str) -> x402ClientSync:
    """The x402 client of account #0, as a payer sets it up. Its spend controls refuse tokens it
    does not know by default (a local USDC is one), so the token is allowed explicitly."""
    client = x402ClientSync()
    register_exact_evm_client(client, Account.from_key(ACCOUNT_KEYS[0]))
    client.set_spend_controls({"allowed_assets": [{"network": network, "asset": token}]})
    return client


def settle_and_check(chain: Anvil, token: str, payload: Dict[str, Any]) -> None:
    """Submits the authorization of an exact EVM payload as the gateway; the price moves from
    the payer to PAY_TO, and the same authorization is refused a second time."""
    authorization = payload["authorization"]
    assert authorization["from"] == PAYER
    assert authorization["to"] == PAY_TO
    assert authorization["value"] == str(PRICE)
    assert not authorization_state(chain.url, token, PAYER, authorization["nonce"])

    transfer_with_authorization(chain.url, token, authorization, payload["signature"], sender=GATEWAY)

    assert balance_of(chain.url, token, PAYER) == 1_000_000 - PRICE
    assert balance_of(chain.url, token, PAY_TO) == PRICE
    assert balance_of(chain.url, token, GATEWAY) == 0
    assert authorization_state(chain.url, token, PAYER, authorization["nonce"])

    with pytest.raises(ContractLogicError, match="authorization is used or canceled"):
        transfer_with_authorization(chain.url, token, authorization, payload["signature"], sender=GATEWAY)
    assert balance_of(chain.url, token, PAYER) == 1_000_000 - PRICE
    assert balance_of(chain.url, token, PAY_TO) == PRICE


@pytest.fixture
def chain() -> Iterator[Anvil]:
    with Anvil(chain_id=31337) as node:
        yield node
    assert not node.alive()


def test_x402_v2_exact_payment_settles_once(chain: Anvil) -> None:
    token = deploy_usdc(chain.url)
    mint(chain.url, token, PAYER, 1_000_000)
    assert balance_of(chain.url, token, PAYER) == 1_000_000

    requirement = {
        "scheme": "exact",
        "network": chain.network,
        "asset": token,
        "amount": str(PRICE),
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "extra": {"name": "USD Coin", "version": "2"},
    }
    # The 402 as a v2 server sends it: base64 JSON in the PAYMENT-REQUIRED header.
    header = b64json(
        {
            "x402Version": 2,
            "error": "Payment required",
            "resource": {"url": "http://127.0.0.1/paid", "mimeType": "application/json"},
            "accepts": [requirement],
        }
    )
    client = payer_client(chain.network, token)
    http = x402HTTPClientSync(client)
    required = http.get_payment_required_response(lambda name: header if name == "PAYMENT-REQUIRED" else None)
    payment = http.encode_payment_signature_header(client.create_payment_payload(required))

    # What the gateway receives in PAYMENT-SIGNATURE.
    assert list(payment) == ["PAYMENT-SIGNATURE"]
    sent = unb64json(payment["PAYMENT-SIGNATURE"])
    assert sent["x402Version"] == 2
    assert sent["accepted"] == requirement
    assert sent["payload"]["authorization"]["validAfter"] == "0"

    settle_and_check(chain, token, sent["payload"])


def test_x402_client_refuses_unknown_token_by_default(chain: Anvil) -> None:
    token = deploy_usdc(chain.url)
    client = x402ClientSync()
    register_exact_evm_client(client, Account.from_key(ACCOUNT_KEYS[0]))
    required = x402HTTPClientSync(client).get_payment_required_response(
        lambda name: None,
        {
            "x402Version": 1,
            "accepts": [
                {
                    "scheme": "exact",
                    "network": "base-sepolia",
                    "maxAmountRequired": str(PRICE),
                    "resource": "http://127.0.0.1/paid",
                    "payTo": PAY_TO,
                    "maxTimeoutSeconds": 60,
                    "asset": token,
                    "extra": {"name": "USD Coin", "version": "2"},
                }
            ],
        },
    )
    with pytest.raises(NoMatchingRequirementsError, match="spend_controls"):
        client.create_payment_payload(required)


def test_x402_v1_exact_payment_on_base_sepolia_chain_id() -> None:
    # The v1 client knows networks by name only: "base-sepolia" signs for chain id 84532.
    with Anvil(chain_id=BASE_SEPOLIA_CHAIN_ID) as chain:
        token = deploy_usdc(chain.url)
        mint(chain.url, token, PAYER, 1_000_000)
        body = {
            "x402Version": 1,
            "error": "X-PAYMENT header is required",
            "accepts": [
                {
                    "scheme": "exact",
                    "network": "base-sepolia",
                    "maxAmountRequired": str(PRICE),
                    "resource": "http://127.0.0.1/paid",
                    "description": "",
                    "mimeType": "application/json",
                    "payTo": PAY_TO,
                    "maxTimeoutSeconds": 60,
                    "asset": token,
                    "extra": {"name": "USD Coin", "version": "2"},
                }
            ],
        }
        client = payer_client("base-sepolia", token)
        http = x402HTTPClientSync(client)
        # The 402 as a v1 server sends it: the JSON body, no PAYMENT-REQUIRED header.
        required = http.get_payment_required_response(lambda name: None, body)
        payment = http.encode_payment_signature_header(client.create_payment_payload(required))

        assert list(payment) == ["X-PAYMENT"]
        sent = unb64json(payment["X-PAYMENT"])
        assert (sent["x402Version"], sent["scheme"], sent["network"]) == (1, "exact", "base-sepolia")
        settle_and_check(chain, token, sent["payload"])
