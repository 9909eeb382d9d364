// Verification in the browser: a memory's CID, its Merkle inclusion proofs and a blob's
// content CID, recomputed here from the bytes the node sent, so the page trusts the
// arithmetic and not the node.
//
// The rules are the protocol's (DESIGN §4), the same the Rust core implements:
// - cid = "v1::" + hex SHA-256(embedding as little-endian f32 bytes ‖ canonical metadata),
//   where canonical metadata is the metadata with every value rendered by Python's str()
//   (True, None, 1e-07, {'a': [1, 2]}), model_version set, keys sorted by UTF-8 bytes,
//   compact JSON with raw UTF-8 and only '"', '\' and control characters escaped.
// - Merkle v1: leaf = SHA-256("leaf:" ‖ cid ‖ ":" ‖ embedding-hash hex), node =
//   SHA-256("node:" ‖ l ‖ r). Merkle v2: RFC 6962 over 0x00-prefixed leaves with the tree
//   size bound into the root.
// Python's str() of 1 and 1.0 differ and JSON.parse cannot tell them apart (nor keep the
// order of keys like "2" and "1"), so responses are read with the small parser below that
// keeps number lexemes and key order.

const enc = new TextEncoder();

// ---- JSON that keeps what Python and the CID see -------------------------------------

/** A JSON number as written. */
export class Num {
  constructor(raw) { this.raw = raw; }
}

/** A JSON object with its keys in document order. */
export class Obj {
  constructor(entries) { this.entries = entries; }
  get(key) {
    const e = this.entries.find(([k]) => k === key);
    return e ? e[1] : undefined;
  }
}

/** Parses JSON text into strings, booleans, null, arrays, `Num` and `Obj`. */
export function parseJson(text) {
  let i = 0;
  const fail = (what) => { throw new SyntaxError(`bad JSON at ${i}: ${what}`); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const entries = []; ws();
      if (text[i] === '}') { i++; return new Obj(entries); }
      for (;;) {
        ws(); if (text[i] !== '"') fail('expected a key');
        const k = string(); ws();
        if (text[i++] !== ':') fail('expected :');
        entries.push([k, value()]); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === '}') return new Obj(entries);
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++; const items = []; ws();
      if (text[i] === ']') { i++; return items; }
      for (;;) {
        items.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === ']') return items;
        fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected character');
    i += m[0].length;
    return new Num(m[0]);
  };
  const string = () => {
    i++; let out = '';
    for (;;) {
      const c = text[i++];
      if (c === undefined) fail('unterminated string');
      if (c === '"') return out;
      if (c !== '\\') { out += c; continue; }
      const e = text[i++];
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) out += simple[e];
      else if (e === 'u') {
        const h = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(h, 16)); i += 4;
      } else fail('bad escape');
    }
  };
  const v = value(); ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

/** A parsed value as plain JavaScript (for display). */
export function plain(v) {
  if (v instanceof Num) return Number(v.raw);
  if (v instanceof Obj) return Object.fromEntries(v.entries.map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

// ---- Python's renderings ---------------------------------------------------------------

const I64_MIN = -(2n ** 63n), U64_MAX = 2n ** 64n - 1n;

/** Python's repr of a float (shortest round-trip digits; exponent below 1e-4 and from 1e16). */
export function floatRepr(x) {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [mant, e] = Math.abs(x).toExponential().split('e');
  const exp = parseInt(e, 10);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    const point = exp + 1;
    if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  const rest = digits.slice(1);
  const ex = String(Math.abs(exp)).padStart(2, '0');
  return `${sign}${digits[0]}${rest ? '.' + rest : ''}e${exp < 0 ? '-' : '+'}${ex}`;
}

/** How the node renders a JSON number: integers that fit 64 bits exactly, others as floats. */
export function numberRepr(raw) {
  if (/^-?\d+$/.test(raw)) {
    const n = BigInt(raw);
    if (n >= I64_MIN && n <= U64_MAX) return n.toString();
  }
  return floatRepr(Number(raw));
}

const UNPRINTABLE = [
  [0x0, 0x1f], [0x7f, 0xa0], [0xad, 0xad], [0x600, 0x605], [0x61c, 0x61c], [0x6dd, 0x6dd],
  [0x70f, 0x70f], [0x1680, 0x1680], [0x180e, 0x180e], [0x2000, 0x200f], [0x2028, 0x202f],
  [0x205f, 0x2064], [0x2066, 0x206f], [0x3000, 0x3000], [0xe000, 0xf8ff], [0xfeff, 0xfeff],
  [0xfff9, 0xfffb], [0x110bd, 0x110bd], [0x1d173, 0x1d17a], [0xe0001, 0xe0001],
  [0xe0020, 0xe007f], [0xf0000, 0x10ffff],
];
const unprintable = (cp) => UNPRINTABLE.some(([a, b]) => cp >= a && cp <= b);

function strRepr(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === quote) out += '\\' + ch;
    else if (unprintable(cp)) {
      if (cp <= 0xff) out += '\\x' + cp.toString(16).padStart(2, '0');
      else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    } else out += ch;
  }
  return out + quote;
}

/** Python's repr() of a parsed JSON value. */
export function pyRepr(v) {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof Num) return numberRepr(v.raw);
  if (typeof v === 'string') return strRepr(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (v instanceof Obj) return '{' + v.entries.map(([k, x]) => `${strRepr(k)}: ${pyRepr(x)}`).join(', ') + '}';
  throw new TypeError('not a parsed JSON value');
}

/** Python's str() of a parsed JSON value: strings as themselves. */
export const pyStr = (v) => (typeof v === 'string' ? v : pyRepr(v));

function jsonString(s) {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    const named = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
    if (ch in named) out += named[ch];
    else if (cp < 0x20) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function compareUtf8(a, b) {
  const x = enc.encode(a), y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** The canonical metadata JSON a CID hashes after the vector. */
export function canonicalMetadata(meta, modelVersion) {
  const map = new Map();
  for (const [k, v] of (meta instanceof Obj ? meta.entries : [])) map.set(k, pyStr(v));
  map.set('model_version', modelVersion);
  const keys = [...map.keys()].sort(compareUtf8);
  return '{' + keys.map((k) => jsonString(k) + ':' + jsonString(map.get(k))).join(',') + '}';
}

// ---- hashing -----------------------------------------------------------------------------

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export function unhex(s) {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error(`not lowercase hex: ${String(s).slice(0, 20)}`);
  return Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));
}
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 in plain JavaScript: WebCrypto exists only in secure contexts (https or
 *  loopback), and a node reached over plain HTTP on a LAN must still verify. */
export function sha256Sync(data) {
  const len = data.length, bitLen = len * 8;
  const padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
  padded.set(data); padded[len] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32)); dv.setUint32(padded.length - 4, bitLen >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let t = 0; t < 16; t++) w[t] = dv.getUint32(off + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  h.forEach((x, i) => ov.setUint32(i * 4, x));
  return out;
}

/** SHA-256 by WebCrypto where the page may use it, else in JavaScript. */
export async function sha256(data) {
  const bytes = typeof data === 'string' ? enc.encode(data) : data;
  if (globalThis.crypto && crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return sha256Sync(bytes);
}

/** The little-endian f32 bytes of a parsed embedding (an array of `Num`). */
export function embeddingBytes(embedding) {
  if (!Array.isArray(embedding) || !embedding.every((x) => x instanceof Num)) {
    throw new Error('the embedding is not a list of numbers');
  }
  const out = new DataView(new ArrayBuffer(embedding.length * 4));
  embedding.forEach((x, i) => out.setFloat32(i * 4, Number(x.raw), true));
  return new Uint8Array(out.buffer);
}

/** The v1 CID of an embedding (parsed), metadata (parsed) and model version. */
export async function cidV1(embedding, metadata, modelVersion) {
  const bytes = concat(embeddingBytes(embedding), enc.encode(canonicalMetadata(metadata, modelVersion)));
  return 'v1::' + hex(await sha256(bytes));
}

// ---- Merkle proofs ----------------------------------------------------------------------

const node1 = (l, r) => sha256(concat(enc.encode('node:'), l, r));
const node2 = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

/** The v1 leaf of a record. */
export const leafV1 = (cid, embeddingHashHex) => sha256(`leaf:${cid}:${embeddingHashHex}`);
/** The v2 leaf of a record. */
export const leafV2 = (cid, embeddingHash) =>
  sha256(concat(Uint8Array.of(0), enc.encode(cid), Uint8Array.of(0), embeddingHash));

/** Climbs a v1 proof ({leaf_hex, steps: [{sibling, side}]}) and returns the root, hex. */
export async function climbV1(proof) {
  let cur = unhex(proof.leaf_hex);
  for (const step of proof.steps) {
    const sib = unhex(step.sibling);
    // As the original reads proofs: any side but "left" is "right".
    cur = String(step.side).toLowerCase() === 'left' ? await node1(sib, cur) : await node1(cur, sib);
  }
  return hex(cur);
}

/** Checks a v2 proof ({leaf_hex, index, tree_size, path}) against a root (RFC 9162 §2.1.3.2
 *  with the size bound into the root). */
export async function verifyV2(proof, rootHex) {
  let fn = BigInt(proof.index), sn = BigInt(proof.tree_size) - 1n;
  if (fn > sn) return false;
  let r = unhex(proof.leaf_hex);
  for (const p of proof.path) {
    if (sn === 0n) return false;
    const sib = unhex(p);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await node2(sib, r);
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else r = await node2(r, sib);
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) return false;
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(proof.tree_size));
  const root = await sha256(concat(Uint8Array.of(2), enc.encode('engram-merkle-v2'), size, r));
  return hex(root) === rootHex;
}

/**
 * Every check of one memory, each `{name, ok, detail}`:
 * the CID recomputed from the record, the leaf the proof starts from, the v1 and v2
 * inclusion proofs against the roots the node publishes at /commitment.
 */
export async function checkRecord({ cid, recordText, proof, commitment }) {
  const checks = [];
  const add = (name, ok, detail) => checks.push({ name, ok, detail });
  let record;
  try {
    record = parseJson(recordText);
    if (!(record instanceof Obj)) throw new Error('the record is not a JSON object');
  } catch (e) {
    add('CID recomputed from the record', false, `the node sent an unreadable record: ${e.message}`);
    return checks;
  }
  const embedding = record.get('embedding');
  const modelVersion = record.get('model_version');
  let ehash = null;
  try {
    const bytes = embeddingBytes(embedding);
    ehash = await sha256(bytes);
    const again = await cidV1(embedding, record.get('metadata'), modelVersion);
    add('CID recomputed from the record', again === cid,
      again === cid
        ? `SHA-256 of ${embedding.length} f32 values and the canonical metadata is ${cid}`
        : `the record hashes to ${again}, not to ${cid}: the node served different bytes`);
  } catch (e) {
    add('CID recomputed from the record', false, e.message);
  }
  if (!proof) {
    add('Inclusion in the node\'s commitment', false, 'no inclusion proof (a private memory is not in the public commitment)');
    return checks;
  }
  let p1;
  try {
    // The original sends the v1 proof JSON-encoded into a string.
    p1 = typeof proof.proof === 'string' ? JSON.parse(proof.proof) : proof.proof;
    if (!p1 || typeof p1.leaf_hex !== 'string' || !Array.isArray(p1.steps)) throw new Error('it has no leaf_hex and steps');
  } catch (e) {
    add('Inclusion in the node\'s commitment', false, `the node sent an unreadable proof: ${e.message}`);
    return checks;
  }
  if (ehash) {
    const leaf = hex(await leafV1(cid, hex(ehash)));
    const ok = leaf === p1.leaf_hex;
    add('Proof leaf is this record', ok, ok
      ? 'the v1 leaf SHA-256("leaf:" ‖ cid ‖ ":" ‖ embedding hash) matches the proof'
      : `the proof starts from leaf ${p1.leaf_hex.slice(0, 16)}…, but this record's leaf is ${leaf.slice(0, 16)}…`);
  }
  const publishedV1 = commitment.root_hex, publishedV2 = commitment.root_v2_hex;
  const rootsMatch = proof.root_hex === publishedV1 && proof.root_v2_hex === publishedV2;
  try {
    const top = await climbV1(p1);
    const ok = top === publishedV1 && rootsMatch;
    add('Merkle v1 proof reaches the published root', ok, ok
      ? `${p1.steps.length} steps up to root ${publishedV1.slice(0, 16)}…`
      : top !== publishedV1
        ? `the proof climbs to ${top.slice(0, 16)}…, the node publishes ${publishedV1.slice(0, 16)}…`
        : 'the node\'s proof names other roots than the ones it publishes at /commitment');
  } catch (e) {
    add('Merkle v1 proof reaches the published root', false, e.message);
  }
  try {
    const p2 = proof.proof_v2;
    let ok = await verifyV2(p2, publishedV2) && rootsMatch;
    let detail = ok
      ? `leaf ${p2.index} of ${p2.tree_size}, ${p2.path.length} siblings, size-bound root ${publishedV2.slice(0, 16)}…`
      : `the proof does not reach the published root ${publishedV2.slice(0, 16)}…`;
    if (ok && ehash) {
      const leaf2 = hex(await leafV2(cid, ehash));
      if (leaf2 !== p2.leaf_hex) { ok = false; detail = 'the v2 proof is for another leaf than this record\'s'; }
    }
    add('Merkle v2 proof reaches the published root', ok, detail);
  } catch (e) {
    add('Merkle v2 proof reaches the published root', false, e.message);
  }
  return checks;
}
