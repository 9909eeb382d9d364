// The Mine page: a phone rents a miner from the gateway that serves this page.
//
// The sr25519 identity is made or imported here and kept in this browser's storage only: it
// signs the stop request and is never sent. Payment is x402 v2: the gateway answers 402 with
// its price in the PAYMENT-REQUIRED header, the wallet (EIP-1193, `window.ethereum`) signs an
// EIP-3009 transferWithAuthorization for exactly that as EIP-712 typed data, and the request is
// repeated with PAYMENT-SIGNATURE; the gateway settles it on the chain before the miner starts.
// The page then follows the session until the miner serves, with its score on the network.

import { el, $, show, errorBox, when, short, copyButton, rendered } from '/web/common.js';
import { hex, keypairFromSeedHex, keypairFromMnemonic, keypairFromUri } from '/web/keys.js';
import { sha256 } from '/web/verify.js';

const STORE = 'engram.mine.key';
const EVERY_MS = 2000;
let keypair = null;
let tiers = [];
let maxHours = 720;
let timer = null;

const usdc = (micros) => `${(Number(micros) / 1e6).toFixed(2)} USDC`;
const b64json = (v) => btoa(JSON.stringify(v));
const unb64json = (s) => JSON.parse(atob(s));

/** A request to the gateway that serves this page (the raw response: 402s carry headers). */
function call(path, { method = 'GET', body, headers = {} } = {}) {
  return fetch(path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The JSON of a response, or an Error with the gateway's message and reason. */
async function json(r) {
  const text = await r.text();
  let v = {};
  try { v = JSON.parse(text); } catch { v = { error: text }; }
  if (!r.ok) {
    const e = new Error(`${r.status}: ${v.error || r.statusText}${v.detail ? ` (${v.detail})` : ''}`);
    e.status = r.status;
    throw e;
  }
  return v;
}

// ---- identity

async function useKey(secret) {
  const s = secret.trim();
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(s)) keypair = await keypairFromSeedHex(s.replace(/^0x/, ''));
  else if (s.startsWith('//')) keypair = await keypairFromUri(s);
  else keypair = await keypairFromMnemonic(s);
  localStorage.setItem(STORE, s);
  drawKey();
  refresh();
}

function drawKey() {
  $('#pay').disabled = !keypair;
  if (!keypair) {
    show($('#key-state'), el('p', { class: 'hint' }, 'No key yet.'));
    show($('#sessions'), el('p', { class: 'hint' }, 'Make or import a key to see your miners.'));
    return;
  }
  show($('#key-state'),
    el('p', {}, 'Hotkey ', el('code', { id: 'hotkey' }, keypair.ss58), ' ', copyButton(keypair.ss58)),
    el('p', { class: 'hint' }, 'Kept in this browser only. Write down your mnemonic or seed if you want it elsewhere.'));
}

$('#key-new').addEventListener('click', async () => {
  if (keypair && !confirm('Replace this key? Miners it started can then only be stopped by it.')) return;
  const seed = new Uint8Array(32);
  crypto.getRandomValues(seed);
  await useKey(hex(seed));
});
$('#key-load').addEventListener('click', async () => {
  try {
    await useKey($('#key-secret').value);
    $('#key-secret').value = '';
  } catch (e) {
    show($('#key-state'), errorBox(e));
  }
});
$('#key-forget').addEventListener('click', () => {
  if (keypair && !confirm('Forget this key? Miners it started can then only be stopped by it.')) return;
  localStorage.removeItem(STORE);
  keypair = null;
  drawKey();
});

// ---- tiers and price

function chosen() {
  const t = document.querySelector('input[name="tier"]:checked');
  return t ? tiers.find((x) => x.tier === t.value) : null;
}

function hours() {
  const h = Number($('#hours').value);
  return Number.isInteger(h) && h >= 1 && h <= maxHours ? h : null;
}

function drawPrice() {
  const t = chosen(), h = hours();
  show($('#price'), el('b', {}, t && h ? usdc(t.usdc_micros_per_hour * h) : '—'));
}

async function loadTiers() {
  const v = await json(await call('/tiers'));
  tiers = v.tiers;
  maxHours = v.max_hours;
  $('#hours').max = String(maxHours);
  show($('#tiers'), el('legend', {}, 'Size'), ...tiers.map((t, i) => el('label', { class: 'tier' },
    el('input', { type: 'radio', name: 'tier', value: t.tier, checked: i === 0, onchange: drawPrice }),
    ` ${t.tier}: ${t.cpu_millis / 1000} vCPU, ${t.memory_mib / 1024} GiB, ${t.storage_gib} GiB disk — ${usdc(t.usdc_micros_per_hour)}/h`)));
  drawPrice();
}
$('#hours').addEventListener('input', drawPrice);

// ---- paying with x402 v2 through the wallet

/** The wallet's account on the chain the requirement names. */
async function walletFor(requirement) {
  const wallet = window.ethereum;
  if (!wallet) throw new Error('no wallet in this browser: open the page in a wallet app or with a wallet extension');
  const [from] = await wallet.request({ method: 'eth_requestAccounts' });
  const want = Number(requirement.network.split(':')[1]);
  const have = Number(await wallet.request({ method: 'eth_chainId' }));
  if (have !== want) {
    try {
      await wallet.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: `0x${want.toString(16)}` }] });
    } catch {
      throw new Error(`your wallet is on chain ${have}; switch it to chain ${want} and try again`);
    }
  }
  return { wallet, from, chainId: want };
}

/** The PAYMENT-SIGNATURE header value paying `required` (the decoded PAYMENT-REQUIRED). */
async function sign(required) {
  const requirement = required.accepts.find((a) => a.scheme === 'exact' && a.network.startsWith('eip155:'));
  if (!requirement) throw new Error('the gateway asks for a payment this page cannot make');
  const { wallet, from, chainId } = await walletFor(requirement);
  const nonce = new Uint8Array(32);
  crypto.getRandomValues(nonce);
  const authorization = {
    from,
    to: requirement.payTo,
    value: requirement.amount,
    validAfter: '0',
    validBefore: String(Math.floor(Date.now() / 1000) + requirement.maxTimeoutSeconds),
    nonce: `0x${hex(nonce)}`,
  };
  const typed = {
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' }, { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' },
      ],
      TransferWithAuthorization: [
        { name: 'from', type: 'address' }, { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' }, { name: 'validAfter', type: 'uint256' },
        { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
      ],
    },
    primaryType: 'TransferWithAuthorization',
    domain: { name: requirement.extra.name, version: requirement.extra.version, chainId, verifyingContract: requirement.asset },
    message: authorization,
  };
  const signature = await wallet.request({ method: 'eth_signTypedData_v4', params: [from, JSON.stringify(typed)] });
  return b64json({ x402Version: 2, payload: { authorization, signature }, accepted: requirement, resource: required.resource });
}

/** A paid request: ask, read the price, have the wallet sign it, ask again with the payment. */
async function paid(path, body, say) {
  const first = await call(path, { method: 'POST', body });
  if (first.status !== 402) return { session: await json(first), settlement: null };
  const required = unb64json(first.headers.get('PAYMENT-REQUIRED'));
  say(`Price: ${usdc(required.accepts[0].amount)}. Confirm the payment in your wallet…`);
  const payment = await sign(required);
  say('Settling the payment on the chain…');
  const r = await call(path, { method: 'POST', body, headers: { 'PAYMENT-SIGNATURE': payment } });
  const v = await json(r);
  if (r.status === 202) return { session: null, settlement: null, pending: v };
  const settled = r.headers.get('PAYMENT-RESPONSE');
  return { session: v, settlement: settled ? unb64json(settled) : null };
}

$('#pay').addEventListener('click', async () => {
  const t = chosen(), h = hours();
  const say = (text) => show($('#buy-out'), el('p', { class: 'notice' }, text));
  if (!keypair || !t || !h) {
    show($('#buy-out'), errorBox(new Error(`pick a size and 1–${maxHours} hours`)));
    return;
  }
  $('#pay').disabled = true;
  try {
    const { session, settlement, pending } = await paid('/sessions', { hotkey: keypair.ss58, tier: t.tier, hours: h }, say);
    if (pending) {
      say(`Payment sent in transaction ${short(pending.transaction, 10)}; the miner starts once the chain has it.`);
      refresh();
      return;
    }
    show($('#buy-out'), el('p', { class: 'notice', id: 'paid' },
      settlement ? [`Paid ${usdc(settlement.amount)} in transaction `, el('code', {}, short(settlement.transaction, 10)), '. '] : null,
      `Miner ${short(session.id, 8)} is starting.`));
    refresh();
  } catch (e) {
    show($('#buy-out'), errorBox(e));
  } finally {
    $('#pay').disabled = !keypair;
  }
});

// ---- the owner's sessions

async function stop(id, out) {
  const nonce = Date.now();
  const bodyHash = hex(await sha256('{}'));
  const signature = keypair.sign(`${nonce}:sessions/${id}:${bodyHash}`);
  try {
    await json(await call(`/sessions/${id}`, {
      method: 'DELETE', body: { hotkey: keypair.ss58, nonce, signature: `0x${hex(signature)}` },
    }));
    refresh();
  } catch (e) {
    show(out, errorBox(e));
  }
}

async function topup(id, out) {
  try {
    await paid(`/sessions/${id}/topup`, { hours: 1 }, (text) => show(out, el('p', { class: 'notice' }, text)));
    show(out);
    refresh();
  } catch (e) {
    show(out, errorBox(e));
  }
}

function score(m) {
  if (!m || !m.network) return '—';
  const n = m.network;
  return `uid ${n.uid}, weight ${Number(n.weight).toFixed(3)}, incentive ${n.incentive === null ? '—' : Number(n.incentive).toFixed(3)}`;
}

function drawSession(s) {
  const out = el('div', { 'aria-live': 'polite' });
  const live = s.state === 'provisioning' || s.state === 'running';
  return el('li', { 'data-session': s.id, 'data-state': s.state },
    el('p', {}, el('b', {}, `${s.tier} miner`), ' ', el('span', { class: 'badge state' }, s.state),
      ` ${s.hours} h paid, until ${when(s.expires_ms)}`),
    s.reason ? el('p', { class: 'hint' }, s.reason) : null,
    s.miner ? el('p', { class: 'meta' }, 'Serves at ', el('code', {}, s.miner.endpoint),
      s.miner.alive ? ' (up)' : ' (down)', ' as ', el('code', {}, short(s.miner.hotkey, 8))) : null,
    s.miner ? el('p', { class: 'meta' }, 'Score: ', el('span', { class: 'score' }, score(s.miner))) : null,
    live ? el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary shrink topup', onclick: () => topup(s.id, out) }, '+1 hour'),
      el('button', { type: 'button', class: 'secondary shrink stop', onclick: () => stop(s.id, out) }, 'Stop')) : null,
    out);
}

async function refresh() {
  clearTimeout(timer);
  if (!keypair) return;
  try {
    const v = await json(await call(`/sessions/hotkey/${keypair.ss58}`));
    show($('#sessions'), v.sessions.length
      ? el('ul', { class: 'results' }, ...v.sessions.map(drawSession))
      : el('p', { class: 'hint' }, 'No miners yet.'));
  } catch (e) {
    show($('#sessions'), errorBox(e));
  }
  timer = setTimeout(refresh, EVERY_MS);
}

async function start() {
  try {
    await loadTiers();
  } catch (e) {
    show($('#tiers'), errorBox(e));
  }
  const saved = localStorage.getItem(STORE);
  if (saved) {
    try { await useKey(saved); } catch { localStorage.removeItem(STORE); }
  }
  drawKey();
  rendered();
}

start();
