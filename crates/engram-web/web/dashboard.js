// The dashboard: this node from its own store and metrics, and on a network every node
// (stake, weight, liveness, each validator's score and its parts), the validators' last
// rounds and replication health. It refreshes itself every two seconds while visible.

import { api, el, $, show, errorBox, bytes, when, short, rendered } from '/web/common.js';

const EVERY_MS = 2000;
let paused = false;
let timer = null;

const stat = (label, value, title) => el('div', { class: 'stat', title }, el('b', {}, value), el('span', {}, label));
const num = (x, digits = 1) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(0)} %`);

function uptime(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min` : `${Math.floor(s)} s`;
}

function drawNode(n) {
  show($('#node'),
    stat('memories', n.memories.toLocaleString()),
    stat('on disk', bytes(n.disk_bytes)),
    stat('embed queue', n.embed_queue),
    stat('index', n.unindexed ? `${n.unindexed} pending` : 'up to date', 'vectors not yet in an HNSW index'),
    stat('proofs answered', `${n.proofs} / ${n.challenges}`, 'storage-proof challenges answered / received'),
    stat('requests', n.requests.toLocaleString(), `${n.server_errors} answered with a server error`),
    stat('query p50', `${num(n.query_p50_ms)} ms`),
    stat('query p99', `${num(n.query_p99_ms)} ms`),
    stat('files', `${n.blobs}${n.pending_uploads ? ` (${n.pending_uploads} to Arweave)` : ''}`),
    stat('uptime', uptime(n.uptime_s)),
    stat('version', n.version),
    stat('uid', n.uid === undefined ? 'no network' : n.uid, n.hotkey || ''),
    stat('commitment', short(n.root_v2_hex, 6), `Merkle v2 root ${n.root_v2_hex}`));
}

/** A node's score parts averaged over the validators that scored it. */
function meanScore(scores) {
  if (!scores.length) return null;
  const avg = (f) => {
    const xs = scores.map(f).filter((x) => x !== null && x !== undefined);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  return { recall: avg((s) => s.recall), latency: avg((s) => s.latency_ms), proof: avg((s) => s.proof_rate), composite: avg((s) => s.composite) };
}

function drawNetwork(net, me) {
  if (!net) {
    show($('#network'), el('p', { class: 'hint' }, 'This node is on no network (start it with engram serve --network DIR --wallet NAME, or engram devnet up).'));
    show($('#validators'), el('p', { class: 'hint' }, 'No network, no validators.'));
    return;
  }
  const rows = net.nodes.map((n) => {
    const s = meanScore(n.scores);
    return el('tr', { 'data-hotkey': n.hotkey },
      el('td', {}, n.uid, n.hotkey === me ? ' (this node)' : ''),
      el('td', { title: n.hotkey }, short(n.hotkey, 6)),
      el('td', { class: n.live ? 'up' : 'down' }, n.live ? 'live' : 'down'),
      el('td', {}, n.memories === undefined ? '—' : n.memories),
      el('td', {}, num(n.stake, 2)),
      el('td', {}, num(n.weight, 3)),
      el('td', {}, n.incentive === undefined ? '—' : num(n.incentive, 3)),
      el('td', {}, n.emission === undefined ? '—' : num(n.emission, 3)),
      el('td', { 'data-col': 'score' }, s ? num(s.composite, 3) : '—'),
      el('td', {}, s ? num(s.recall, 2) : '—'),
      el('td', {}, s && s.latency !== null ? `${num(s.latency)} ms` : '—'),
      el('td', {}, s ? pct(s.proof) : '—'));
  });
  const r = net.replication;
  show($('#network'),
    net.error ? errorBox(net.error) : null,
    el('div', { class: 'table-wrap' }, el('table', { id: 'nodes' },
      el('thead', {}, el('tr', {}, ['uid', 'hotkey', 'state', 'memories', 'stake', 'weight', 'incentive', 'emission', 'score', 'recall@10', 'latency', 'proofs'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))),
    el('p', { class: 'hint' }, 'Weight: the validators\' last weights, averaged by their stake. Incentive and emission: the last epoch of Yuma Consensus. Score and its parts: the mean over validators that measured the node.'),
    el('h3', {}, 'Replication'),
    r ? el('p', {}, `Last repair round ${when(r.at_ms)}: ${r.live} live node(s), this node holds ${r.held} CID(s), pushed ${r.pushed} missing cop${r.pushed === 1 ? 'y' : 'ies'}, ${r.failed} push(es) failed.`)
      : el('p', { class: 'hint' }, 'No repair round yet.'));
  if (!net.validators.length) {
    show($('#validators'), el('p', { class: 'hint' }, 'No validator reports are readable from this node.'));
    return;
  }
  show($('#validators'), net.validators.map(validatorBlock));
}

function validatorBlock(v) {
  const rows = v.rounds.slice().reverse().map((round) => el('tr', {},
    el('td', {}, round.round ?? round.version ?? ''),
    el('td', {}, round.kind),
    el('td', {}, when(round.at_ms)),
    el('td', {}, roundNodes(round))));
  return el('div', { 'data-validator': v.hotkey },
    el('h3', {}, `Validator ${v.uid ?? '?'} `, el('code', { title: v.hotkey }, short(v.hotkey, 6)), v.running ? '' : ' (stopped)'),
    el('p', { class: 'hint' }, `stake ${num(v.stake, 2)} · ${v.scoring_rounds} scoring and ${v.challenge_rounds} challenge rounds · weights version ${v.weight_version}`),
    v.error ? errorBox(`its state cannot be read: ${v.error}`) : null,
    el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['round', 'kind', 'when', 'nodes'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))));
}

function roundNodes(round) {
  if (round.kind === 'weights') {
    return (round.weights || []).map(([uid, w]) => `uid ${uid} weight ${num(w, 3)}`).join(' · ') || 'all zero';
  }
  return (round.nodes || []).map((n) => roundCell(round.kind, n)).join(' · ');
}

function roundCell(kind, n) {
  if (n.down) return `uid ${n.uid} down`;
  if (kind === 'scoring') return `uid ${n.uid} recall ${num(n.recall, 2)} ${num(n.latency_ms)} ms`;
  return `uid ${n.uid} ${n.passed === null ? 'not asked' : n.passed ? 'passed' : 'FAILED'}`;
}

async function refresh() {
  try {
    const o = await api('/overview');
    drawNode(o.node);
    drawNetwork(o.network, o.node.hotkey);
    show($('#problem'));
    $('#updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (e) {
    show($('#problem'), errorBox(e));
  }
  schedule();
}

function schedule() {
  clearTimeout(timer);
  if (!paused && !document.hidden) timer = setTimeout(refresh, EVERY_MS);
}

$('#pause').addEventListener('click', () => {
  paused = !paused;
  $('#pause').textContent = paused ? 'Resume updates' : 'Pause updates';
  if (!paused) refresh();
  else clearTimeout(timer);
});
document.addEventListener('visibilitychange', () => (document.hidden ? clearTimeout(timer) : schedule()));
rendered();
refresh();
