// What every page of the web app shares: talking to this node's API, building elements
// (always through textContent, never HTML strings, so stored text cannot become markup),
// errors people can read, CID links and copy buttons, and the light/dark switch.

/** A request the node refused or could not answer. */
export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls this node's API. `body` is sent as JSON; `text: true` returns the raw body text
 * (the CID page parses records itself). Errors carry the node's own message.
 */
export async function api(path, { method, body, text = false } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: method || (body === undefined ? 'GET' : 'POST'),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiFailure(0, `the node did not answer (${e.message}); is it still running?`);
  }
  const raw = await response.text();
  if (!response.ok) {
    let message = raw;
    try { message = JSON.parse(raw).error || raw; } catch { /* not JSON: keep the text */ }
    throw new ApiFailure(response.status, `${response.status} ${response.statusText}: ${message || 'no message'}`);
  }
  return text ? raw : JSON.parse(raw);
}

/** `el('a', {href, class: 'x'}, 'text', child)`: an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Replaces the contents of `target` with `children`. */
export function show(target, ...children) {
  target.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** An error box with the message; announced to screen readers. */
export function errorBox(err) {
  const message = err instanceof Error ? err.message : String(err);
  return el('div', { class: 'error', role: 'alert' }, message);
}

/** A button that copies `text` and says so. */
export function copyButton(text, label = 'Copy') {
  const b = el('button', { type: 'button', class: 'small', title: `${label} ${text}`, 'aria-live': 'polite' }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      // Clipboard needs a secure context; select the text instead so Ctrl+C works.
      const sel = window.getSelection();
      const range = document.createRange();
      range.selectNodeContents(b.previousElementSibling || b);
      sel.removeAllRanges(); sel.addRange(range);
      b.textContent = 'Selected';
    }
    setTimeout(() => { b.textContent = label; }, 1500);
  });
  return b;
}

/** Whether `s` is a CID: a memory's (`v1::`) or a file's (`sha256:`), canonical form. */
export const isCid = (s) => /^(v1::|sha256:)[0-9a-f]{64}$/.test(s);

/** A CID as a link to its page (or, `link: false`, as text: a private memory's page needs
 *  the owner's signature, which only the playground holds), with a copy button. */
export function cidLine(cid, { link = true } = {}) {
  const name = link
    ? el('a', { class: 'cid', href: `/cid/${encodeURIComponent(cid)}` }, cid)
    : el('code', { class: 'cid' }, cid);
  return el('span', { class: 'cid-line' }, name, ' ', copyButton(cid));
}

/** Bytes as "1.2 MB". */
export function bytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0; let x = Number(n) || 0;
  while (x >= 1000 && i < units.length - 1) { x /= 1000; i++; }
  return `${i ? x.toFixed(1) : x} ${units[i]}`;
}

/** A unix-ms time as local date and time. */
export const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');

/** Shortens a long identifier for tables (the full one is in the title). */
export function short(s, n = 10) {
  s = String(s || '');
  return s.length > 2 * n + 1 ? `${s.slice(0, n)}…${s.slice(-n)}` : s;
}

// ---- light / dark ----------------------------------------------------------------------

const THEMES = ['system', 'light', 'dark'];

function applyTheme(t) {
  if (t === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', t);
  const b = $('#theme');
  if (b) b.textContent = `Theme: ${t}`;
}

function initTheme() {
  let t = 'system';
  try { t = localStorage.getItem('engram-theme') || 'system'; } catch { /* storage off */ }
  applyTheme(THEMES.includes(t) ? t : 'system');
  const b = $('#theme');
  if (b) b.addEventListener('click', () => {
    const cur = document.documentElement.getAttribute('data-theme') || 'system';
    const next = THEMES[(THEMES.indexOf(cur) + 1) % THEMES.length];
    try { localStorage.setItem('engram-theme', next); } catch { /* storage off */ }
    applyTheme(next);
  });
  const here = location.pathname === '/' ? '/' : '/' + location.pathname.split('/')[1];
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === here) a.setAttribute('aria-current', 'page');
  }
}

initTheme();

/** Marks the page's script as started and its static content drawn (the browser tests
 *  wait for it; they time first render by the browser's first-contentful-paint). */
export function rendered() {
  document.body.dataset.ready = '1';
}
