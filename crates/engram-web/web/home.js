// The playground page: store text, PDFs, web pages and images; search by meaning; page
// through every memory; open a private namespace with keys that stay in this page.

import { api, el, $, show, errorBox, cidLine, rendered, isCid } from '/web/common.js';

// ---- the namespace in use ----------------------------------------------------------------

/** `null` for the public namespace, else {name, keypair, key} held only in this page. */
let ns = null;
let keys = null; // the key module, loaded when a private namespace is first opened

async function auth() {
  if (!ns) return {};
  return keys.namespaceAuth(ns.keypair, ns.name, Date.now());
}

const readText = (file) => file.text();

async function openNamespace() {
  const out = $('#ns-out');
  const name = $('#ns-name').value.trim();
  const wallet = $('#ns-wallet').files[0];
  const keyFile = $('#ns-key').files[0];
  try {
    if (!name || name === 'public') throw new Error('Name the private namespace to open (any name but "public").');
    if (!wallet) throw new Error('Choose the wallet file that owns the namespace (its hotkey signs every request).');
    if (!(globalThis.crypto && crypto.subtle)) {
      throw new Error('Private namespaces need the browser\'s cryptography, which it gives only to secure pages: '
        + 'open the app over https, or on this machine as http://127.0.0.1 or http://localhost.');
    }
    keys = keys || await import('/web/keys.js');
    const keypair = await keys.loadWallet(await readText(wallet));
    let key = null;
    if (keyFile) {
      key = (await readText(keyFile)).trim();
      if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new Error(`${keyFile.name} is not a key file: expected 64 hex characters (engram keys new --out FILE).`);
      key = key.toLowerCase();
    }
    // Prove the wallet works before saying so: the node checks the signature.
    const a = await keys.namespaceAuth(keypair, name, Date.now());
    await api('/list', { body: { limit: 1, ...a } });
    ns = { name, keypair, key };
    show($('#ns-state'), `Private namespace `, el('b', {}, name), ` as `, el('code', {}, keypair.ss58),
      key ? ' — sealed memories are decrypted here.' : ' — no encryption key: sealed memories stay sealed.',
      ' ', el('button', { type: 'button', class: 'small', onclick: closeNamespace }, 'Close'),
      el('p', { class: 'hint' }, 'Text stored from this page goes to the node, which embeds it (with noise on the vector) and keeps it '
        + 'readable to the node\'s operator; only you can list or search it. To keep a text from the node too, seal it on your '
        + `machine: engram --node ${location.origin} ingest TEXT --namespace ${name} --wallet W --encrypt KEY.`));
    show(out);
    $('#ns-open').open = false;
    browse(0);
  } catch (e) {
    show(out, errorBox(e));
  }
}

function closeNamespace() {
  ns = null;
  $('#ns-wallet').value = '';
  $('#ns-key').value = '';
  show($('#ns-state'), 'Public: everything stored here is readable by anyone, for good.');
  browse(0);
}

// ---- helpers ------------------------------------------------------------------------------

function parseMeta(raw, what = 'Metadata') {
  raw = raw.trim();
  if (!raw) return {};
  let v;
  try { v = JSON.parse(raw); } catch (e) { throw new Error(`${what} is not JSON: ${e.message}`); }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} must be a JSON object like {"source": "notes"}.`);
  return v;
}

/** A filter value as the CLI reads it: numbers, booleans and null typed, anything else text. */
function filterValue(v) {
  if (/^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)$/.test(v)) return JSON.parse(v);
  return v;
}

/** `key=value, key2=value2` (or a JSON object) as a metadata filter; undefined when empty. */
function parseFilter(raw) {
  raw = raw.trim();
  if (!raw) return undefined;
  if (raw.startsWith('{')) return parseMeta(raw, 'The filter');
  const out = {};
  for (const part of raw.split(',')) {
    const i = part.indexOf('=');
    if (i < 1) throw new Error(`Filter "${part.trim()}" is not key=value.`);
    out[part.slice(0, i).trim()] = filterValue(part.slice(i + 1).trim());
  }
  return out;
}

function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(',', 2)[1] || '');
    r.onerror = () => reject(new Error(`cannot read ${file.name}: ${r.error}`));
    r.readAsDataURL(file);
  });
}

/** Runs `task` with its form's button disabled, showing errors in `out`. */
async function busy(form, out, task) {
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  const label = button.textContent;
  button.textContent = 'Working…';
  try {
    await task();
  } catch (e) {
    out.prepend(errorBox(e));
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

/** The text and metadata to show for a record: decrypted when sealed and the key is open. */
async function readable(rec) {
  const sealed = rec.metadata && (rec.metadata.engram_encrypted || rec.metadata._enc);
  if (typeof sealed !== 'string') return { text: rec.text, metadata: rec.metadata, note: null };
  if (!ns || !ns.key) return { text: null, metadata: rec.metadata, note: 'sealed — open the namespace with its encryption key to read it' };
  try {
    const open = await keys.decryptMemory(ns.key, sealed);
    return { text: open.text, metadata: open.metadata, note: 'decrypted in this page' };
  } catch (e) {
    return { text: null, metadata: rec.metadata, note: `cannot decrypt with this key: ${e.message}` };
  }
}

/** One record as a list item; `space` is the private namespace it was read from, if any. */
async function recordItem(rec, space, extra = []) {
  const r = await readable(rec);
  const text = r.text || '';
  const preview = text.length > 400 ? `${text.slice(0, 400)}…` : text;
  const meta = Object.fromEntries(Object.entries(r.metadata || {}).filter(([k]) => k !== 'text' && k !== 'engram_encrypted' && k !== '_enc'));
  return el('li', {},
    el('div', { class: 'meta' }, ...extra, el('span', { class: 'badge' }, space ? `namespace ${space}` : 'public'),
      r.note ? el('span', { class: 'badge' }, r.note) : null),
    preview ? el('p', {}, preview) : el('p', { class: 'hint' }, '(no text stored)'),
    Object.keys(meta).length ? el('pre', {}, JSON.stringify(meta)) : null,
    cidLine(rec.cid, { link: !space }));
}

// ---- store --------------------------------------------------------------------------------

function storedLine(label, cid, stored = true) {
  return el('div', { class: 'notice' }, el('b', {}, label), stored ? ' stored: ' : ' was already stored: ', cidLine(cid, { link: !ns }));
}

function privateDocuments() {
  if (!ns) return;
  throw new Error('Private documents are sealed on your machine before they leave it, and sealing embeds the text first, '
    + 'which needs the model this page does not have. Use the CLI: engram ingest --pdf FILE --encrypt KEY --namespace '
    + `${ns.name} (or --url / --image), or close the private namespace to store it publicly.`);
}

async function storeText() {
  const text = $('#text').value;
  if (!text.trim()) throw new Error('Write some text to store.');
  const metadata = parseMeta($('#text-meta').value);
  const r = await api('/IngestSynapse', { body: { text, metadata, ...(await auth()) } });
  $('#store-out').prepend(storedLine('Text', r.cid, r.stored));
}

async function storeDocument(body, label) {
  privateDocuments();
  const r = await api('/IngestDocument', { body });
  const more = r.cids.length > 3 ? ` and ${r.cids.length - 3} more` : '';
  $('#store-out').prepend(el('div', { class: 'notice' },
    el('b', {}, label), ` stored${r.title ? ` — “${r.title}”` : ''}: ${r.cids.length} chunk(s) from ${r.pages || 1} page(s), ${r.chars} characters.`,
    el('div', {}, 'File: ', el('code', {}, r.content_cid || '—'), r.arweave_tx_id ? ` · Arweave ${r.arweave_tx_id}` : ''),
    el('ul', {}, r.cids.slice(0, 3).map((c) => el('li', {}, cidLine(c)))), more));
}

const forms = {
  'panel-text': storeText,
  'panel-pdf': async () => {
    const f = $('#pdf').files[0];
    if (!f) throw new Error('Choose a PDF file.');
    privateDocuments();
    await storeDocument({ kind: 'pdf', data_b64: await fileBase64(f), filename: f.name, metadata: parseMeta($('#pdf-meta').value) }, f.name);
  },
  'panel-url': async () => {
    const url = $('#url').value.trim();
    if (!/^https?:\/\//i.test(url)) throw new Error('Give an http:// or https:// address.');
    await storeDocument({ kind: 'url', url, metadata: parseMeta($('#url-meta').value) }, url);
  },
  'panel-image': async () => {
    const f = $('#image').files[0];
    if (!f) throw new Error('Choose an image.');
    privateDocuments();
    const description = $('#image-desc').value.trim() || undefined;
    await storeDocument({ kind: 'image', data_b64: await fileBase64(f), filename: f.name, description }, f.name);
  },
};

function selectTab(tab) {
  for (const t of document.querySelectorAll('[role="tab"]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(`#${t.getAttribute('aria-controls')}`).hidden = !on;
  }
  tab.focus();
}

// ---- search and browse -------------------------------------------------------------------

async function search() {
  const out = $('#search-out');
  const query_text = $('#q').value.trim();
  if (!query_text) throw new Error('Type what you are looking for.');
  const top_k = Number($('#k').value);
  if (!Number.isInteger(top_k) || top_k < 1 || top_k > 100) throw new Error('Top k must be a whole number from 1 to 100.');
  const space = ns && ns.name;
  // Absent means dense, the original's behaviour; keyword and hybrid match words on the
  // node, so a sealed memory (text the node cannot read) is found by meaning only.
  const mode = $('#mode').value;
  const body = { query_text, top_k, filter: parseFilter($('#filter').value), ...(mode === 'dense' ? {} : { mode }), ...(await auth()) };
  const r = await api('/QuerySynapse', { body });
  if (!r.results.length) return show(out, el('p', { class: 'hint' }, 'Nothing matched.'));
  const scoreName = { dense: 'cosine', keyword: 'bm25', hybrid: 'fusion' }[mode];
  const items = await Promise.all(r.results.map((h) => recordItem(h, space, [
    el('span', { class: 'badge' }, `${scoreName} ${h.score.toFixed(3)}`),
    el('span', { class: 'badge' }, `tier ${h.trust_tier}`),
  ])));
  show(out, el('p', { class: 'hint' }, `${r.results.length} result(s) in ${r.latency_ms.toFixed(1)} ms`), el('ul', { class: 'results' }, items));
}

let offset = 0;
let listing = 0; // the latest listing asked for; older answers are dropped

async function browse(at) {
  const out = $('#browse-out');
  const mine = ++listing;
  const space = ns && ns.name;
  try {
    const limit = Number($('#browse-size').value);
    const r = await api('/list', { body: { limit, offset: at, filter: parseFilter($('#browse-filter').value), ...(await auth()) } });
    const items = await Promise.all(r.records.map((rec) => recordItem(rec, space)));
    if (mine !== listing) return;
    offset = at;
    $('#prev').disabled = at === 0;
    $('#next').disabled = r.count < limit;
    $('#page').textContent = r.count ? `memories ${at + 1}–${at + r.count}` : '';
    if (!r.records.length) return show(out, el('p', { class: 'hint' }, at ? 'No more memories.' : 'No memories yet: store one above.'));
    show(out, el('ul', { class: 'results' }, items));
  } catch (e) {
    if (mine === listing) show(out, errorBox(e));
  }
}

// ---- wiring -------------------------------------------------------------------------------

for (const [id, task] of Object.entries(forms)) {
  const form = $(`#${id}`);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(form, $('#store-out'), task); });
}
const tabs = [...document.querySelectorAll('[role="tab"]')];
for (const t of tabs) {
  t.addEventListener('click', () => selectTab(t));
  t.addEventListener('keydown', (ev) => {
    const i = tabs.indexOf(t);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length]);
  });
}
$('#search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const out = $('#search-out');
  busy(ev.target, out, async () => { show(out); await search(); });
});
$('#browse-form').addEventListener('submit', (ev) => { ev.preventDefault(); browse(0); });
$('#prev').addEventListener('click', () => browse(Math.max(0, offset - Number($('#browse-size').value))));
$('#next').addEventListener('click', () => browse(offset + Number($('#browse-size').value)));
$('#ns-go').addEventListener('click', openNamespace);
$('#lookup-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const cid = $('#lookup').value.trim();
  if (!isCid(cid)) {
    show($('#lookup-out'), errorBox('A CID is v1:: followed by 64 lowercase hex characters.'));
    return;
  }
  location.href = `/cid/${encodeURIComponent(cid)}`;
});

rendered();
browse(0);
