// The CID page: one memory (or blob), checked here against the bytes the node sent.
// Nothing the node says is taken on trust: the CID is recomputed from the embedding and
// metadata, the inclusion proofs are climbed to the roots the node publishes, and a
// document's file is hashed against its content CID.

import { api, el, $, show, errorBox, cidLine, copyButton, bytes, when, short, rendered, isCid } from '/web/common.js';
import { checkRecord, parseJson, plain, sha256, hex } from '/web/verify.js';

const cid = (() => {
  const raw = location.pathname.replace(/^\/cid\//, '');
  try { return decodeURIComponent(raw); } catch { return raw; }
})();
const checks = [];

/** Draws the checks; `final` once no more will be added (the verdict is given only then). */
function drawChecks(final = false) {
  show($('#checks'), checks.map((c) => el('li', { class: c.ok === null ? 'pending' : c.ok ? 'ok' : 'bad', 'data-check': c.name },
    el('span', { class: 'mark', 'aria-hidden': 'true' }, c.ok === null ? '…' : c.ok ? '✓' : '✗'),
    el('div', {}, el('b', {}, c.name), el('span', { class: 'visually-hidden' }, c.ok === null ? ' (running)' : c.ok ? ' (passed)' : ' (failed)'),
      el('div', { class: 'detail' }, c.detail)))));
  const done = checks.filter((c) => c.ok !== null);
  const failed = done.filter((c) => !c.ok);
  const verdict = $('#verdict');
  if (!final || done.length < checks.length) verdict.textContent = 'Checking…';
  else if (failed.length) {
    verdict.className = 'error';
    verdict.textContent = `${failed.length} of ${checks.length} checks failed: do not trust what this node serves for ${cid}.`;
  } else {
    verdict.className = 'notice';
    verdict.textContent = `All ${checks.length} checks passed.` + (cid.startsWith('v1::')
      ? ' They cover the embedding and the metadata (and a document\'s file); the text is shown as the node stored it: the CID does not cover it.'
      : '');
  }
  document.body.dataset.verified = final && done.length === checks.length ? (failed.length ? 'bad' : 'ok') : '';
}

function kv(pairs) {
  return el('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

/** The record, the node's published roots and a proof made against the same roots. */
async function fetchAll() {
  for (let attempt = 0; ; attempt++) {
    const [recordText, proof, commitment] = await Promise.all([
      api(`/retrieve/${encodeURIComponent(cid)}`, { text: true }),
      api('/prove-memory', { body: { cid } }).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
      api('/commitment'),
    ]);
    const same = !proof || (proof.root_hex === commitment.root_hex && proof.root_v2_hex === commitment.root_v2_hex);
    // A write between the two reads moves the root; ask again rather than report a false red.
    if (same || attempt >= 2) return { recordText, proof, commitment };
  }
}

async function blobChecks(contentCid, info) {
  const check = { name: 'Document file matches its content CID', ok: null, detail: 'hashing…' };
  checks.push(check);
  drawChecks();
  try {
    const response = await fetch(`/blob/${encodeURIComponent(contentCid)}`);
    if (!response.ok) throw new Error(`the node answered ${response.status} for the file`);
    const got = 'sha256:' + hex(await sha256(new Uint8Array(await response.arrayBuffer())));
    check.ok = got === contentCid;
    check.detail = check.ok ? `SHA-256 of the ${bytes(info ? info.size : 0)} file is ${short(contentCid, 14)}` : `the file hashes to ${got}, not ${contentCid}`;
  } catch (e) {
    check.ok = false;
    check.detail = e.message;
  }
  drawChecks();
}

/** An Arweave transaction id (43 base64url characters), else null. */
const txId = (t) => (typeof t === 'string' && /^[A-Za-z0-9_-]{43}$/.test(t) ? t : null);

function arweaveLink(tx, url) {
  // The node's own record names its gateway; anything else only a checked id on arweave.net,
  // never a URL an ingester wrote into metadata.
  const href = url && /^https?:\/\//.test(url) && url.endsWith(`/${tx}`) ? url : `https://arweave.net/${tx}`;
  return el('span', {}, 'Arweave: ', el('a', { href, rel: 'noopener noreferrer' }, tx));
}

function archiveLine(info, meta) {
  const a = info && info.archive;
  if (a && a.state === 'uploaded' && txId(a.tx_id)) return arweaveLink(a.tx_id, a.url);
  if (meta && txId(meta.arweave_tx_id)) return arweaveLink(meta.arweave_tx_id, null);
  if (a && a.state === 'pending') return `Arweave: upload pending (${a.attempts} attempt(s)${a.last_error ? `; last error: ${a.last_error}` : ''})`;
  return 'Arweave: not archived (this node has no Arweave wallet)';
}

async function memoryPage() {
  let data;
  try {
    data = await fetchAll();
  } catch (e) {
    const hint = e.status === 404
      ? ' It may be on other nodes of the network, or in a private namespace (open those from the playground with your wallet).'
      : '';
    show($('#problem'), errorBox(`${e.message}${hint}`));
    show($('#record'), el('p', { class: 'hint' }, 'No record.'));
    $('#verdict').textContent = 'Nothing to verify.';
    document.body.dataset.verified = 'missing';
    return;
  }
  let record = null;
  try { record = plain(parseJson(data.recordText)); } catch { /* reported by the checks */ }
  if (record) {
    const meta = record.metadata || {};
    show($('#record'),
      record.text ? el('p', {}, record.text) : el('p', { class: 'hint' }, '(no text stored: the CID commits to the embedding and metadata)'),
      kv([
        ['CID', cidLine(cid)],
        ['Namespace', record.namespace],
        ['Stored', when(record.created_ms)],
        ['Model', record.model_version],
        ['Embedding', `${(record.embedding || []).length} float32 values`],
        ['Document', meta.content_cid ? el('span', {}, el('a', { href: `/blob/${encodeURIComponent(meta.content_cid)}` }, meta.filename || meta.source || 'file'), ' ', el('code', {}, short(meta.content_cid, 12))) : null],
      ]),
      el('h3', {}, 'Metadata'),
      el('pre', {}, JSON.stringify(meta, null, 2)),
      el('p', { class: 'hint' }, 'The text is shown as stored; the CID covers the embedding and the metadata, which the checks recompute.'));
  }
  try {
    checks.push(...await checkRecord({ cid, recordText: data.recordText, proof: data.proof, commitment: data.commitment }));
    drawChecks();
    const contentCid = record && record.metadata && record.metadata.content_cid;
    if (typeof contentCid === 'string' && isCid(contentCid) && contentCid.startsWith('sha256:')) {
      const info = await api(`/blob/${encodeURIComponent(contentCid)}/info`).catch(() => null);
      $('#record').append(el('p', {}, archiveLine(info, record.metadata)));
      await blobChecks(contentCid, info);
    }
  } catch (e) {
    // Whatever the node sent, the page ends with a verdict.
    checks.push({ name: 'Verification finished', ok: false, detail: `the node's answers could not be checked: ${e.message}` });
  }
  drawChecks(true);
}

async function blobPage() {
  try {
    const info = await api(`/blob/${encodeURIComponent(cid)}/info`);
    show($('#record'), kv([
      ['Content CID', el('span', {}, el('code', {}, cid), ' ', copyButton(cid))],
      ['Size', bytes(info.size)],
      ['Type', info.content_type],
      ['Namespace', info.namespace],
      ['Sealed', info.encrypted ? 'yes (ciphertext)' : 'no'],
      ['File', el('a', { href: `/blob/${encodeURIComponent(cid)}` }, 'open')],
      ['Archive', archiveLine(info, null)],
    ]));
    await blobChecks(cid, info);
    drawChecks(true);
  } catch (e) {
    show($('#problem'), errorBox(e));
    $('#verdict').textContent = 'Nothing to verify.';
    document.body.dataset.verified = 'missing';
  }
}

async function holders() {
  try {
    const h = await api(`/holders/${encodeURIComponent(cid)}`);
    if (!h.network) {
      show($('#holders'), el('p', {}, h.nodes[0].holds ? 'This node holds it. It is on no network, so it is the only holder.' : 'This node does not hold it.'));
      return;
    }
    show($('#holders'), el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Node'), el('th', {}, 'Address'), el('th', {}, 'Replica'), el('th', {}, 'Holds'))),
      el('tbody', {}, h.nodes.map((n) => el('tr', {},
        el('td', { title: n.hotkey }, short(n.hotkey, 6)),
        el('td', {}, n.axon),
        el('td', {}, n.replica ? 'yes' : '—'),
        el('td', { class: n.holds ? 'up' : 'down' }, n.holds === null ? 'no answer' : n.holds ? 'yes' : 'no')))))),
    el('p', { class: 'hint' }, 'Replicas are the live nodes nearest the CID (the DHT rule); every node holding a copy answers.'));
  } catch (e) {
    show($('#holders'), errorBox(e));
  }
}

$('#cid').textContent = short(cid, 12);
$('#cid').title = cid;
document.title = `Engram — ${short(cid, 8)}`;
rendered();
if (!isCid(cid)) {
  show($('#problem'), errorBox(`"${cid}" is not a CID: expected v1:: or sha256: followed by 64 lowercase hex characters.`));
  $('#verdict').textContent = 'Nothing to verify.';
  document.body.dataset.verified = 'missing';
} else if (cid.startsWith('sha256:')) {
  blobPage();
  show($('#holders'), el('p', { class: 'hint' }, 'Files are kept by the node that read them; Arweave holds the permanent copy.'));
} else {
  memoryPage();
  holders();
}
