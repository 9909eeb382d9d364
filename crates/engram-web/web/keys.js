/**
 * Engram keys in the page: sr25519 hotkeys, SS58 addresses and private-memory decryption.
 *
 * Why this exists: to open a user's PRIVATE namespace in the web app, requests must be
 * signed by the namespace's owner (sr25519, `engram-ns:{namespace}:{timestamp_ms}`) and
 * the memories that come back must be decrypted with the owner's X25519 key. Doing both
 * here means the mnemonic and the private keys never leave the page: nothing secret is
 * sent to the node or anywhere else.
 *
 * It mirrors crates/engram-core/src/{keys,crypto,auth}.rs byte for byte:
 * - sr25519 as Rust's `schnorrkel` signs with `signing_context(b"substrate").bytes(msg)`:
 *   Ristretto255 over Curve25519 (BigInt), Merlin transcripts (STROBE-128 over
 *   Keccak-f[1600]), signature R ‖ s with the 0x80 marker in the last byte;
 * - keys from a BIP-39 English mnemonic (Substrate mini secret = first 32 bytes of
 *   PBKDF2-HMAC-SHA512(entropy, "mnemonic", 2048)), expanded Ed25519-style; `//name` hard
 *   junctions (the dev accounts //Alice, //Bob) as Substrate derives them;
 * - SS58 addresses with prefix 42 (BLAKE2b-512 "SS58PRE" checksum);
 * - the hybrid scheme: X25519 → HKDF-SHA256 (info `engram-hybrid-v1`) → AES-256-GCM.
 *
 * No dependencies: WebCrypto (`globalThis.crypto`) for SHA-2, PBKDF2, HKDF, X25519 and
 * AES-GCM and randomness; everything else is written out below. It runs in browsers and
 * in Node ≥ 20. BigInt arithmetic is not constant-time; the secret stays in this page's
 * memory either way.
 */

const webcrypto = globalThis.crypto;
const subtle = webcrypto.subtle;
const encoder = new TextEncoder();

// ---- bytes and hex

/** Lowercase hex of bytes. */
export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Bytes of hex, with or without `0x`. */
export function unhex(text) {
  const s = String(text).trim().replace(/^0x/i, '');
  if (s.length % 2 || /[^0-9a-f]/i.test(s)) throw new Error(`not hex (${s.length} characters)`); // never echo: it may be a key
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const utf8 = (s) => encoder.encode(s);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
};
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
/** A message as bytes: strings are UTF-8. */
const messageBytes = (m) => {
  if (typeof m === 'string') return utf8(m);
  if (m instanceof Uint8Array) return m;
  if (m instanceof ArrayBuffer) return new Uint8Array(m);
  throw new TypeError('a message is a string or a Uint8Array');
};
/** Fixed-length bytes from a Uint8Array or a hex string. */
const fixedBytes = (v, n, what) => {
  const b = typeof v === 'string' ? unhex(v) : v;
  if (!(b instanceof Uint8Array) || b.length !== n) throw new Error(`${what} must be ${n} bytes`);
  return b;
};
const leInt = (bytes) => {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
};
const leBytes = (n, len = 32) => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++, n >>= 8n) out[i] = Number(n & 255n);
  return out;
};
const le32 = (n) => new Uint8Array([n, n >>> 8, n >>> 16, n >>> 24]);

// ---- Keccak-f[1600]
// 25 lanes of 64 bits as 50 little-endian 32-bit words (lo, hi).

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('keys.js needs a little-endian platform');

const ROUND_CONSTANTS = new Uint32Array(48);
const PI = [];
const RHO = [];
{
  // FIPS 202: rc(t) is bit 0 of an LFSR (x^8 + x^6 + x^5 + x^4 + 1); round i sets bit
  // 2^j - 1 of its constant to rc(7i + j).
  let r = 1;
  for (let i = 0; i < 24; i++) {
    for (let j = 0; j < 7; j++) {
      const bit = (1 << j) - 1;
      if (r & 1) ROUND_CONSTANTS[2 * i + (bit >> 5)] ^= 1 << (bit & 31);
      r = ((r << 1) ^ ((r >> 7) * 0x71)) & 0xff;
    }
  }
  // ρ and π walk the lanes from (1, 0): (x, y) → (y, 2x + 3y), rotating by (t+1)(t+2)/2.
  for (let t = 0, x = 1, y = 0; t < 24; t++) {
    RHO.push((((t + 1) * (t + 2)) / 2) % 64);
    [x, y] = [y, (2 * x + 3 * y) % 5];
    PI.push(x + 5 * y);
  }
}

function keccakF(s) {
  const c = new Uint32Array(10);
  for (let round = 0; round < 24; round++) {
    // θ
    for (let x = 0; x < 10; x++) c[x] = s[x] ^ s[x + 10] ^ s[x + 20] ^ s[x + 30] ^ s[x + 40];
    for (let x = 0; x < 10; x += 2) {
      const p = (x + 8) % 10, n = (x + 2) % 10;
      const lo = c[p] ^ ((c[n] << 1) | (c[n + 1] >>> 31));
      const hi = c[p + 1] ^ ((c[n + 1] << 1) | (c[n] >>> 31));
      for (let y = 0; y < 50; y += 10) (s[y + x] ^= lo), (s[y + x + 1] ^= hi);
    }
    // ρ and π
    let lo = s[2], hi = s[3];
    for (let t = 0; t < 24; t++) {
      const j = 2 * PI[t], l0 = s[j], h0 = s[j + 1];
      let n = RHO[t], l = lo, h = hi;
      if (n >= 32) ([l, h] = [h, l]), (n -= 32);
      s[j] = n ? (l << n) | (h >>> (32 - n)) : l;
      s[j + 1] = n ? (h << n) | (l >>> (32 - n)) : h;
      (lo = l0), (hi = h0);
    }
    // χ
    for (let y = 0; y < 50; y += 10) {
      for (let x = 0; x < 10; x++) c[x] = s[y + x];
      for (let x = 0; x < 10; x++) s[y + x] = c[x] ^ (~c[(x + 2) % 10] & c[(x + 4) % 10]);
    }
    // ι
    s[0] ^= ROUND_CONSTANTS[2 * round];
    s[1] ^= ROUND_CONSTANTS[2 * round + 1];
  }
}

// ---- STROBE-128 and Merlin
// Only the operations Merlin uses (merlin 3.0's strobe.rs).

const STROBE_R = 166;
const FLAG_I = 1, FLAG_A = 2, FLAG_C = 4, FLAG_M = 16, FLAG_K = 32;

class Strobe128 {
  constructor(protocolLabel) {
    this.state = new Uint8Array(200);
    this.words = new Uint32Array(this.state.buffer);
    this.pos = 0;
    this.posBegin = 0;
    this.flags = 0;
    if (protocolLabel) {
      this.state.set([1, STROBE_R + 2, 1, 0, 1, 96]);
      this.state.set(utf8('STROBEv1.0.2'), 6);
      keccakF(this.words);
      this.metaAd(protocolLabel, false);
    }
  }

  clone() {
    const c = new Strobe128();
    c.state.set(this.state);
    [c.pos, c.posBegin, c.flags] = [this.pos, this.posBegin, this.flags];
    return c;
  }

  runF() {
    this.state[this.pos] ^= this.posBegin;
    this.state[this.pos + 1] ^= 0x04;
    this.state[STROBE_R + 1] ^= 0x80;
    keccakF(this.words);
    this.pos = 0;
    this.posBegin = 0;
  }

  absorb(data) {
    for (const b of data) {
      this.state[this.pos++] ^= b;
      if (this.pos === STROBE_R) this.runF();
    }
  }

  overwrite(data) {
    for (const b of data) {
      this.state[this.pos++] = b;
      if (this.pos === STROBE_R) this.runF();
    }
  }

  squeeze(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.state[this.pos];
      this.state[this.pos++] = 0;
      if (this.pos === STROBE_R) this.runF();
    }
    return out;
  }

  beginOp(flags, more) {
    if (more) {
      if (flags !== this.flags) throw new Error('STROBE: continued an operation with other flags');
      return;
    }
    const oldBegin = this.posBegin;
    this.posBegin = this.pos + 1;
    this.flags = flags;
    this.absorb([oldBegin, flags]);
    if (flags & (FLAG_C | FLAG_K) && this.pos !== 0) this.runF();
  }

  metaAd(data, more) { this.beginOp(FLAG_M | FLAG_A, more); this.absorb(data); }
  ad(data, more) { this.beginOp(FLAG_A, more); this.absorb(data); }
  prf(n) { this.beginOp(FLAG_I | FLAG_A | FLAG_C, false); return this.squeeze(n); }
  key(data) { this.beginOp(FLAG_A | FLAG_C, false); this.overwrite(data); }
}

/** A Merlin transcript (merlin 3.0, protocol "Merlin v1.0"). */
class Transcript {
  constructor(label) {
    this.strobe = new Strobe128(utf8('Merlin v1.0'));
    this.append('dom-sep', utf8(label));
  }

  append(label, message) {
    this.strobe.metaAd(utf8(label), false);
    this.strobe.metaAd(le32(message.length), true);
    this.strobe.ad(message, false);
  }

  challenge(label, n) {
    this.strobe.metaAd(utf8(label), false);
    this.strobe.metaAd(le32(n), true);
    return this.strobe.prf(n);
  }

  /** schnorrkel's witness_bytes: the transcript rekeyed with a secret and fresh randomness. */
  witness(label, secret, n) {
    const s = this.strobe.clone();
    s.metaAd(utf8(label), false);
    s.metaAd(le32(secret.length), true);
    s.key(secret);
    s.metaAd(utf8('rng'), false);
    s.key(webcrypto.getRandomValues(new Uint8Array(32)));
    s.metaAd(le32(n), false);
    return s.prf(n);
  }
}

// ---- Curve25519 and Ristretto255
// Field elements are BigInts in [0, P); points are extended coordinates [X, Y, Z, T] on
// -x² + y² = 1 + d·x²·y² (RFC 9496 for the Ristretto encoding).

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n; // the group order
const mod = (a) => { const r = a % P; return r < 0n ? r + P : r; };
const pow = (b, e) => {
  let r = 1n;
  for (b = mod(b); e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
};
const isNegative = (a) => (a & 1n) === 1n;
const abs = (a) => (isNegative(a) ? P - a : a);

const D = mod(-121665n * pow(121666n, P - 2n));
const D2 = (2n * D) % P;
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** RFC 9496 SQRT_RATIO_M1: [u/v is square, the nonnegative √(u/v) or √(i·u/v)]. */
function sqrtRatio(u, v) {
  const v3 = (((v * v) % P) * v) % P;
  const v7 = (((v3 * v3) % P) * v) % P;
  let r = (((u * v3) % P) * pow((u * v7) % P, (P - 5n) / 8n)) % P;
  const check = (((v * r) % P) * r) % P;
  const minusU = mod(-u);
  const correct = check === u;
  const flipped = check === minusU;
  if (flipped || check === (minusU * SQRT_M1) % P) r = (r * SQRT_M1) % P;
  return [correct || flipped, abs(r)];
}

const INVSQRT_A_MINUS_D = sqrtRatio(1n, mod(-1n - D))[1];
const IDENTITY = [0n, 1n, 1n, 0n];

function add([X1, Y1, Z1, T1], [X2, Y2, Z2, T2]) {
  const a = ((Y1 - X1 + P) * (Y2 - X2 + P)) % P;
  const b = ((Y1 + X1) * (Y2 + X2)) % P;
  const c = (((T1 * D2) % P) * T2) % P;
  const d = (2n * Z1 * Z2) % P;
  const e = b - a + P, f = d - c + P, g = d + c, h = b + a;
  return [(e * f) % P, (g * h) % P, (f * g) % P, (e * h) % P];
}

function double([X, Y, Z]) {
  const a = (X * X) % P, b = (Y * Y) % P, c = (2n * Z * Z) % P;
  const e = mod((X + Y) * (X + Y) - a - b), g = mod(b - a), f = mod(g - c), h = mod(-a - b);
  return [(e * f) % P, (g * h) % P, (f * g) % P, (e * h) % P];
}

const negate = ([X, Y, Z, T]) => [mod(-X), Y, Z, mod(-T)];

/** n·point by double-and-add (verification only: public inputs). */
function multiply(point, n) {
  let r = IDENTITY;
  for (let i = BigInt(n.toString(2).length) - 1n; i >= 0n; i--) {
    r = double(r);
    if ((n >> i) & 1n) r = add(r, point);
  }
  return r;
}

/** Ristretto encoding of a point. */
function encode([X, Y, Z, T]) {
  const u1 = ((Z + Y) * (Z - Y + P)) % P, u2 = (X * Y) % P;
  const invsqrt = sqrtRatio(1n, (((u1 * u2) % P) * u2) % P)[1];
  const den1 = (invsqrt * u1) % P, den2 = (invsqrt * u2) % P;
  const zInv = (((den1 * den2) % P) * T) % P;
  let x = X, y = Y, denInv = den2;
  if (isNegative((T * zInv) % P)) {
    x = (Y * SQRT_M1) % P;
    y = (X * SQRT_M1) % P;
    denInv = (den1 * INVSQRT_A_MINUS_D) % P;
  }
  if (isNegative((x * zInv) % P)) y = mod(-y);
  return leBytes(abs((denInv * (Z - y + P)) % P));
}

/** The point of a Ristretto encoding, or null if the bytes are not a valid one. */
function decode(bytes) {
  const s = leInt(bytes);
  if (bytes.length !== 32 || s >= P || isNegative(s)) return null;
  const ss = (s * s) % P, u1 = mod(1n - ss), u2 = (1n + ss) % P, u2sq = (u2 * u2) % P;
  const v = mod(-((((D * u1) % P) * u1) % P) - u2sq);
  const [square, invsqrt] = sqrtRatio(1n, (v * u2sq) % P);
  const denX = (invsqrt * u2) % P, denY = (((invsqrt * denX) % P) * v) % P;
  const x = abs((2n * s * denX) % P), y = (u1 * denY) % P, t = (x * y) % P;
  if (!square || isNegative(t) || y === 0n) return null;
  return [x, y, 1n, t];
}

const BASEPOINT = decode(unhex('e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76'));
let baseTable = null; // baseTable[w][j] = j·16^w·B, built on first use (~1k additions)

/** n·B for 0 ≤ n < 2^256: one table addition per 4-bit window, whatever the digit. */
function multiplyBase(n) {
  if (!baseTable) {
    baseTable = [];
    for (let w = 0, p = BASEPOINT; w < 64; w++) {
      const row = [IDENTITY, p];
      for (let j = 2; j < 16; j++) row.push(add(row[j - 1], p));
      baseTable.push(row);
      p = double(row[8]);
    }
  }
  let r = IDENTITY;
  for (let w = 0; w < 64; w++, n >>= 4n) r = add(r, baseTable[w][Number(n & 15n)]);
  return r;
}

// ---- BLAKE2b (RFC 7693)

const MASK64 = (1n << 64n) - 1n;
const BLAKE2B_IV = [
  0x6a09e667f3bcc908n, 0xbb67ae8584caa73bn, 0x3c6ef372fe94f82bn, 0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n, 0x9b05688c2b3e6c1fn, 0x1f83d9abfb41bd6bn, 0x5be0cd19137e2179n,
];
const SIGMA = [
  '0123456789abcdef', 'ea489fd61c02b753', 'b8c052fdae367194', '7931dcbe265a40f8', '905724afe1bc683d',
  '2c6a0b834d75fe19', 'c51fed4a0763928b', 'db7ec13950f4862a', '6fe9b308c2d714a5', 'a2847615fb9e3cd0',
].map((row) => Array.from(row, (c) => parseInt(c, 16)));

/** BLAKE2b of `data` with an `outLen`-byte digest (no key). Slow (BigInt) but only for SS58. */
function blake2b(data, outLen = 64) {
  const h = BLAKE2B_IV.slice();
  h[0] ^= 0x01010000n ^ BigInt(outLen);
  const rotr = (x, n) => ((x >> n) | (x << (64n - n))) & MASK64;
  const compress = (block, count, last) => {
    const m = [];
    for (let i = 0; i < 16; i++) m.push(leInt(block.subarray(8 * i, 8 * i + 8)));
    const v = [...h, ...BLAKE2B_IV];
    v[12] ^= count & MASK64;
    v[13] ^= count >> 64n;
    if (last) v[14] ^= MASK64;
    const g = (a, b, c, d, x, y) => {
      v[a] = (v[a] + v[b] + x) & MASK64; v[d] = rotr(v[d] ^ v[a], 32n);
      v[c] = (v[c] + v[d]) & MASK64; v[b] = rotr(v[b] ^ v[c], 24n);
      v[a] = (v[a] + v[b] + y) & MASK64; v[d] = rotr(v[d] ^ v[a], 16n);
      v[c] = (v[c] + v[d]) & MASK64; v[b] = rotr(v[b] ^ v[c], 63n);
    };
    for (let round = 0; round < 12; round++) {
      const s = SIGMA[round % 10];
      g(0, 4, 8, 12, m[s[0]], m[s[1]]); g(1, 5, 9, 13, m[s[2]], m[s[3]]);
      g(2, 6, 10, 14, m[s[4]], m[s[5]]); g(3, 7, 11, 15, m[s[6]], m[s[7]]);
      g(0, 5, 10, 15, m[s[8]], m[s[9]]); g(1, 6, 11, 12, m[s[10]], m[s[11]]);
      g(2, 7, 8, 13, m[s[12]], m[s[13]]); g(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (let i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
  };
  let at = 0;
  for (; data.length - at > 128; at += 128) compress(data.subarray(at, at + 128), BigInt(at + 128), false);
  const last = new Uint8Array(128);
  last.set(data.subarray(at));
  compress(last, BigInt(data.length), true);
  return concat(...h.map((x) => leBytes(x, 8))).slice(0, outLen);
}

// ---- SS58 (prefix 42)

const SS58_PREFIX = 42;
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ss58Checksum = (payload) => blake2b(concat(utf8('SS58PRE'), payload)).subarray(0, 2);

function base58Encode(bytes) {
  let n = leInt(bytes.slice().reverse()), out = '';
  for (; n > 0n; n /= 58n) out = BASE58[Number(n % 58n)] + out;
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out = '1' + out;
  return out;
}

function base58Decode(text) {
  let n = 0n, zeros = 0;
  for (const ch of text) {
    const digit = BASE58.indexOf(ch);
    if (digit < 0) throw new Error(`${JSON.stringify(text)} is not an SS58 address: bad base58 character ${JSON.stringify(ch)}`);
    n = n * 58n + BigInt(digit);
  }
  while (text[zeros] === '1') zeros++;
  const body = [];
  for (; n > 0n; n >>= 8n) body.unshift(Number(n & 255n));
  return concat(new Uint8Array(zeros), new Uint8Array(body));
}

/** The SS58 address (prefix 42) of a 32-byte public key (bytes or hex). */
export function ss58Encode(publicKey) {
  const payload = concat([SS58_PREFIX], fixedBytes(publicKey, 32, 'a public key'));
  return base58Encode(concat(payload, ss58Checksum(payload)));
}

/** The 32-byte public key of an SS58 address with prefix 42; throws on anything else. */
export function ss58Decode(address) {
  const bytes = base58Decode(String(address));
  const bad = (why) => new Error(`${JSON.stringify(address)} is not an SS58 address: ${why}`);
  if (bytes.length !== 35) throw bad('wrong length');
  if (bytes[0] !== SS58_PREFIX) throw bad('prefix is not 42');
  if (!equal(ss58Checksum(bytes.subarray(0, 33)), bytes.subarray(33))) throw bad('checksum mismatch');
  return bytes.slice(1, 33);
}

// ---- sr25519 (schnorrkel 0.11)

const SIGNING_CONTEXT = utf8('substrate');

/** The transcript of `signing_context(b"substrate").bytes(message)` after the Schnorr preamble. */
function signingTranscript(message, publicKey) {
  const t = new Transcript('SigningContext');
  t.append('', SIGNING_CONTEXT);
  t.append('sign-bytes', message);
  t.append('proto-name', utf8('Schnorr-sig'));
  t.append('sign:pk', publicKey);
  return t;
}

const secrets = new WeakMap(); // Keypair → { key: scalar, nonce: 32 bytes }; never exported

/** An sr25519 key pair. The secret is kept out of reach of anything but `sign`. */
export class Keypair {
  constructor(key, nonce) {
    secrets.set(this, { key, nonce });
    /** The 32-byte public key (compressed Ristretto). */
    this.publicKey = encode(multiplyBase(key));
    /** The SS58 address (prefix 42): the hotkey as the network names it. */
    this.ss58 = ss58Encode(this.publicKey);
    Object.freeze(this);
  }

  /** A 64-byte sr25519 signature over `message` (a string is signed as UTF-8). */
  sign(message) {
    const { key, nonce } = secrets.get(this);
    const t = signingTranscript(messageBytes(message), this.publicKey);
    const r = leInt(t.witness('signing', nonce, 64)) % L;
    const R = encode(multiplyBase(r));
    t.append('sign:R', R);
    const k = leInt(t.challenge('sign:c', 64)) % L;
    const signature = concat(R, leBytes((k * key + r) % L));
    signature[63] |= 0x80; // schnorrkel's marker: not an ed25519 signature
    return signature;
  }

  toString() { return `Keypair(${this.ss58})`; }
}

/** Whether `signature` (64 bytes or hex) is `publicKey`'s (32 bytes or hex) over `message`. */
export function verify(publicKey, message, signature) {
  let pub, sig;
  try {
    pub = fixedBytes(publicKey, 32, 'a public key');
    sig = fixedBytes(signature, 64, 'a signature');
  } catch {
    return false;
  }
  if (!(sig[63] & 0x80)) return false;
  const sBytes = sig.slice(32);
  sBytes[31] &= 0x7f;
  const s = leInt(sBytes);
  const A = decode(pub);
  if (s >= L || !A) return false;
  const R = sig.subarray(0, 32);
  const t = signingTranscript(messageBytes(message), pub);
  t.append('sign:R', R);
  const k = leInt(t.challenge('sign:c', 64)) % L;
  return equal(encode(add(multiply(negate(A), k), multiplyBase(s))), R);
}

/** schnorrkel's MiniSecretKey::expand(ExpansionMode::Ed25519). */
async function expandMiniSecret(mini) {
  const h = new Uint8Array(await subtle.digest('SHA-512', mini));
  const key = h.slice(0, 32);
  key[0] &= 248; // clamp as ed25519 does…
  key[31] &= 63;
  key[31] |= 64;
  return new Keypair(leInt(key) >> 3n, h.slice(32)); // …then divide by the cofactor 8
}

/** The key of a 32-byte seed (Substrate's mini secret), as 64 hex digits (or bytes). */
export async function keypairFromSeedHex(seed) {
  return expandMiniSecret(fixedBytes(seed, 32, 'a seed'));
}

// ---- BIP-39 mnemonics

const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
// The 2,048 English words, each written as the number of letters it shares with the word
// before (none: 0) followed by the rest of it: "abandon 2ility" is "abandon ability".
const WORDS =
  'abandon 2ility 2le 2out 3ve 2sent 3orb 3tract 3urd 2use 1ccess 3ident 3ount 3use 2hieve 2id 2oustic 2quire ' +
  '2ross 2t 3ion 3or 3ress 3ual 1dapt 2d 3ict 3ress 2just 2mit 2ult 2vance 3ice 1erobic 1ffair 3ord 2raid ' +
  '1gain 2e 3nt 2ree 1head 1im 2r 3port 2sle 1larm 2bum 2cohol 2ert 2ien 2l 3ey 3ow 2most 2one 2pha 2ready 2so ' +
  '2ter 2ways 1mateur 3zing 2ong 3unt 2used 1nalyst 2chor 3ient 2ger 3le 3ry 2imal 2kle 2nounce 3ual 2other ' +
  '2swer 2tenna 3ique 2xiety 2y 1part 2ology 2pear 3le 3rove 2ril 1rch 3tic 2ea 3na 2gue 2m 3ed 3or 3y 2ound ' +
  '2range 3est 3ive 3ow 2t 3efact 3ist 3work 1sk 2pect 2sault 3et 3ist 3ume 2thma 1thlete 2om 2tack 3end ' +
  '3itude 3ract 1uction 2dit 2gust 2nt 2thor 3o 3umn 1verage 2ocado 3id 1wake 3re 3y 2esome 2ful 2kward 1xis ' +
  'baby 2chelor 3on 2dge 2g 2lance 3cony 3l 2mboo 2nana 3ner 2r 3ely 3gain 3rel 2se 3ic 3ket 2ttle 1each 3n ' +
  '3uty 2cause 3ome 2ef 2fore 2gin 2have 3ind 2lieve 3ow 3t 2nch 3efit 2st 2tray 3ter 3ween 2yond 1icycle 2d ' +
  '2ke 2nd 2ology 2rd 3th 2tter 1lack 3de 3me 3nket 3st 2eak 3ss 2ind 2ood 3ssom 3use 2ue 3r 3sh 1oard 3t 2dy ' +
  '2il 2mb 2ne 3us 2ok 3st 2rder 3ing 3row 2ss 2ttom 2unce 2x 2y 1racket 3in 3nd 3ss 3ve 2ead 3eze 2ick 3dge ' +
  '3ef 3ght 3ng 3sk 2occoli 3ken 3nze 3om 3ther 3wn 2ush 1ubble 2ddy 3get 2ffalo 2ild 2lb 3k 3let 2ndle 3ker ' +
  '2rden 3ger 3st 2s 3iness 3y 2tter 2yer 2zz cabbage 3in 3le 2ctus 2ge 2ke 2ll 3m 2mera 3p 2n 3al 3cel 3dy ' +
  '3non 3oe 3vas 3yon 2pable 3ital 3tain 2r 3bon 3d 3go 3pet 3ry 3t 2se 3h 3ino 3tle 3ual 2t 3alog 3ch 3egory ' +
  '3tle 2ught 3se 3tion 2ve 1eiling 2lery 2ment 2nsus 3tury 2real 3tain 1hair 3lk 3mpion 3nge 3os 3pter 3rge ' +
  '3se 3t 2eap 3ck 3ese 3f 3rry 3st 2icken 3ef 3ld 3mney 2oice 3ose 2ronic 2uckle 3nk 3rn 1igar 2nnamon 2rcle ' +
  '2tizen 3y 2vil 1laim 3p 3rify 3w 3y 2ean 3rk 3ver 2ick 3ent 3ff 3mb 3nic 3p 2ock 3g 3se 3th 3ud 3wn 2ub 3mp ' +
  '3ster 3tch 1oach 3st 2conut 2de 2ffee 2il 3n 2llect 3or 3umn 2mbine 3e 3fort 3ic 3mon 3pany 2ncert 3duct ' +
  '3firm 3gress 3nect 3sider 3trol 3vince 2ok 3l 2pper 3y 2ral 3e 3n 3rect 2st 2tton 2uch 3ntry 3ple 3rse 3sin ' +
  '2ver 2yote 1rack 3dle 3ft 3m 3ne 3sh 3ter 3wl 3zy 2eam 3dit 3ek 3w 2icket 3me 3sp 3tic 2op 3ss 3uch 3wd ' +
  '2ucial 3el 3ise 3mble 3nch 3sh 2y 3stal 1ube 2lture 2p 3board 2rious 3rent 3tain 3ve 2shion 3tom 2te 1ycle ' +
  'dad 2mage 3p 2nce 3ger 2ring 2sh 2ughter 2wn 2y 1eal 2bate 3ris 2cade 3ember 3ide 3line 3orate 3rease 2er ' +
  '2fense 3ine 3y 2gree 2lay 3iver 2mand 3ise 2nial 3tist 3y 2part 3end 3osit 3th 3uty 2rive 2scribe 3ert 3ign ' +
  '3k 3pair 3troy 2tail 3ect 2velop 3ice 3ote 1iagram 3l 3mond 3ry 2ce 2esel 3t 2ffer 2gital 3nity 2lemma ' +
  '2nner 3osaur 2rect 3t 2sagree 3cover 3ease 3h 3miss 3order 3play 3tance 2vert 3ide 3orce 2zzy 1octor 3ument ' +
  '2g 2ll 3phin 2main 2nate 3key 3or 2or 2se 2uble 2ve 1raft 3gon 3ma 3stic 3w 2eam 3ss 2ift 3ll 3nk 3p 3ve ' +
  '2op 2um 2y 1uck 2mb 2ne 2ring 2st 2tch 3y 1warf 1ynamic eager 3le 2rly 3n 3th 2sily 3t 3y 1cho 2ology 3nomy ' +
  '1dge 2it 2ucate 1ffort 1gg 1ight 2ther 1lbow 2der 2ectric 3gant 3ment 3phant 3vator 2ite 2se 1mbark 3ody ' +
  '3race 2erge 2otion 2ploy 3ower 3ty 1nable 3ct 2d 3less 3orse 2emy 3rgy 2force 2gage 3ine 2hance 2joy 2list ' +
  '2ough 2rich 3oll 2sure 2ter 3ire 3ry 2velope 1pisode 1qual 3ip 1ra 3se 2ode 3sion 2ror 2upt 1scape 2say ' +
  '3ence 2tate 1ternal 2hics 1vidence 3l 2oke 3lve 1xact 3mple 2cess 3hange 3ite 3lude 3use 2ecute 3rcise ' +
  '2haust 3ibit 2ile 3st 3t 2otic 2pand 3ect 3ire 3lain 3ose 3ress 2tend 3ra 1ye 3brow fabric 2ce 3ulty 2de ' +
  '2int 3th 2ll 3se 2me 3ily 3ous 2n 3cy 3tasy 2rm 2shion 2t 3al 3her 3igue 2ult 2vorite 1eature 2bruary ' +
  '2deral 2e 3d 3l 2male 2nce 2stival 2tch 2ver 2w 1iber 2ction 2eld 2gure 2le 3m 3ter 2nal 3d 3e 3ger 3ish ' +
  '2re 3m 3st 2scal 3h 2t 3ness 2x 1lag 3me 3sh 3t 3vor 2ee 2ight 3p 2oat 3ck 3or 3wer 2uid 3sh 2y 1oam 2cus ' +
  '2g 2il 2ld 3low 2od 3t 2rce 3est 3get 3k 3tune 3um 3ward 2ssil 3ter 2und 2x 1ragile 3me 2equent 3sh 2iend ' +
  '3nge 2og 3nt 3st 3wn 3zen 2uit 1uel 2n 3ny 2rnace 3y 2ture gadget 2in 2laxy 3lery 2me 2p 2rage 3bage 3den ' +
  '3lic 3ment 2s 3p 2te 3her 2uge 2ze 1eneral 3ius 3re 3tle 3uine 2sture 1host 1iant 2ft 2ggle 2nger 2raffe 3l ' +
  '2ve 1lad 3nce 3re 3ss 2ide 3mpse 2obe 3om 3ry 3ve 3w 2ue 1oat 2ddess 2ld 2od 3se 2rilla 2spel 3sip 2vern ' +
  '2wn 1rab 3ce 3in 3nt 3pe 3ss 3vity 2eat 3en 2id 3ef 3t 2ocery 3up 3w 2unt 1uard 2ess 2ide 3lt 3tar 2n 1ym ' +
  'habit 2ir 2lf 2mmer 3ster 2nd 2ppy 2rbor 3d 3sh 3vest 2t 2ve 2wk 2zard 1ead 3lth 3rt 3vy 2dgehog 2ight 2llo ' +
  '3met 3p 2n 2ro 1idden 2gh 2ll 2nt 2p 2re 2story 1obby 2ckey 2ld 3e 3iday 3low 2me 2ney 2od 2pe 2rn 3ror 3se ' +
  '2spital 3t 2tel 2ur 2ver 1ub 2ge 2man 3ble 3or 2ndred 3gry 3t 2rdle 3ry 3t 2sband 1ybrid ice 2on 1dea ' +
  '3ntify 2le 1gnore 1ll 3egal 3ness 1mage 2itate 2mense 3une 2pact 3ose 3rove 3ulse 1nch 3lude 3ome 3rease ' +
  '2dex 3icate 3oor 3ustry 2fant 3lict 3orm 2hale 3erit 2itial 2ject 3ury 2mate 2ner 3ocent 2put 2quiry 2sane ' +
  '3ect 3ide 3pire 3tall 2tact 3erest 3o 2vest 3ite 3olve 1ron 1sland 2olate 2sue 1tem 1vory jacket 2guar 2r ' +
  '2zz 1ealous 3ns 2lly 2wel 1ob 2in 2ke 2urney 2y 1udge 2ice 2mp 2ngle 3ior 3k 2st kangaroo 1een 3p 2tchup 2y ' +
  '1ick 2d 3ney 2nd 3gdom 2ss 2t 3chen 3e 3ten 2wi 1nee 2ife 2ock 3w lab 3el 3or 2dder 3y 2ke 2mp 2nguage ' +
  '2ptop 2rge 2ter 3in 2ugh 3ndry 2va 2w 3n 3suit 2yer 2zy 1eader 3f 3rn 3ve 2cture 2ft 2g 3al 3end 2isure ' +
  '2mon 2nd 3gth 3s 2opard 2sson 2tter 2vel 1iar 2berty 3rary 2cense 2fe 3t 2ght 2ke 2mb 3it 2nk 2on 2quid 2st ' +
  '2ttle 2ve 2zard 1oad 3n 2bster 2cal 3k 2gic 2nely 3g 2op 2ttery 2ud 3nge 2ve 2yal 1ucky 2ggage 2mber 2nar ' +
  '3ch 2xury 1yrics machine 2d 2gic 3net 2id 3l 3n 2jor 2ke 2mmal 2n 3age 3date 3go 3sion 3ual 2ple 2rble 3ch ' +
  '3gin 3ine 3ket 3riage 2sk 3s 3ter 2tch 3erial 3h 3rix 3ter 2ximum 2ze 1eadow 3n 3sure 3t 2chanic 2dal 3ia ' +
  '2lody 3t 2mber 3ory 2ntion 3u 2rcy 3ge 3it 3ry 2sh 3sage 2tal 3hod 1iddle 3night 2lk 3lion 2mic 2nd 3imum ' +
  '3or 3ute 2racle 3ror 2sery 3s 3take 2x 3ed 3ture 1obile 2del 3ify 2m 3ent 2nitor 3key 3ster 3th 2on 2ral 3e ' +
  '3ning 2squito 2ther 3ion 3or 2untain 3se 2ve 3ie 1uch 2ffin 2le 3tiply 2scle 3eum 3hroom 3ic 3t 2tual ' +
  '1yself 3tery 2th naive 2me 2pkin 2rrow 2sty 2tion 3ure 1ear 2ck 2ed 2gative 3lect 2ither 2phew 2rve 2st 2t ' +
  '3work 2utral 2ver 2ws 2xt 1ice 2ght 1oble 2ise 2minee 2odle 2rmal 3th 2se 2table 3e 3hing 3ice 2vel 2w ' +
  '1uclear 2mber 2rse 2t oak 1bey 2ject 2lige 2scure 3erve 2tain 2vious 1ccur 2ean 2tober 1dor 1ff 3er 3ice ' +
  '2ten 1il 1kay 1ld 2ive 2ympic 1mit 1nce 2e 2ion 2line 3y 1pen 3ra 2inion 2pose 2tion 1range 2bit 2chard ' +
  '2der 3inary 2gan 2ient 3ginal 2phan 1strich 1ther 1utdoor 3er 3put 3side 1val 2en 3r 1wn 3er 1xygen 1yster ' +
  '1zone pact 2ddle 2ge 2ir 2lace 3m 2nda 3el 3ic 3ther 2per 2rade 3ent 3k 3rot 3ty 2ss 2tch 3h 3ient 3rol ' +
  '3tern 2use 2ve 2yment 1eace 3nut 3r 3sant 2lican 2n 3alty 3cil 2ople 2pper 2rfect 3mit 3son 2t 1hone 3to ' +
  '2rase 2ysical 1iano 2cnic 3ture 2ece 2g 3eon 2ll 3ot 2nk 2oneer 2pe 2stol 2tch 2zza 1lace 3net 3stic 3te 3y ' +
  '2ease 3dge 2uck 3g 3nge 1oem 3t 2int 2lar 3e 3ice 2nd 3y 2ol 2pular 2rtion 2sition 3sible 3t 2tato 3tery ' +
  '2verty 2wder 3er 1ractice 3ise 2edict 3fer 3pare 3sent 3tty 3vent 2ice 3de 3mary 3nt 3ority 3son 3vate 3ze ' +
  '2oblem 3cess 3duce 3fit 3gram 3ject 3mote 3of 3perty 3sper 3tect 3ud 3vide 1ublic 2dding 2ll 3p 3se 2mpkin ' +
  '2nch 2pil 3py 2rchase 3ity 3pose 3se 2sh 2t 2zzle 1yramid quality 3ntum 3rter 2estion 2ick 3t 3z 2ote ' +
  'rabbit 2ccoon 3e 3k 2dar 3io 2il 3n 3se 2lly 2mp 2nch 3dom 3ge 2pid 2re 2te 3her 2ven 2w 2zor 1eady 3l 3son ' +
  '2bel 3uild 2call 3eive 3ipe 3ord 3ycle 2duce 2flect 3orm 3use 2gion 3ret 3ular 2ject 2lax 3ease 3ief 3y ' +
  '2main 3ember 3ind 3ove 2nder 3ew 3t 2open 2pair 3eat 3lace 3ort 2quire 2scue 3emble 3ist 3ource 3ponse 3ult ' +
  '2tire 3reat 3urn 2union 2veal 3iew 2ward 1hythm 1ib 3bon 2ce 3h 2de 3ge 2fle 2ght 3id 2ng 2ot 2pple 2sk ' +
  '2tual 2val 3er 1oad 3st 2bot 3ust 2cket 2mance 2of 3kie 3m 2se 2tate 2ugh 3nd 3te 2yal 1ubber 2de 2g 2le 2n ' +
  '3way 2ral sad 3dle 3ness 2fe 2il 2lad 3mon 3on 3t 3ute 2me 3ple 2nd 2tisfy 3oshi 2uce 3sage 2ve 2y 1cale 3n ' +
  '3re 3tter 2ene 2heme 3ool 2ience 3ssors 2orpion 3ut 2rap 3een 3ipt 3ub 1ea 3rch 3son 3t 2cond 3ret 3tion ' +
  '3urity 2ed 3k 2gment 2lect 3l 2minar 2nior 3se 3tence 2ries 3vice 2ssion 2ttle 3up 2ven 1hadow 3ft 3llow ' +
  '3re 2ed 3ll 3riff 2ield 3ft 3ne 3p 3ver 2ock 3e 3ot 3p 3rt 3ulder 3ve 2rimp 3ug 2uffle 2y 1ibling 2ck 2de ' +
  '2ege 2ght 3n 2lent 3k 3ly 3ver 2milar 3ple 2nce 3g 2ren 2ster 2tuate 2x 2ze 1kate 2etch 2i 3ll 3n 3rt 2ull ' +
  '1lab 3m 2eep 3nder 2ice 3de 3ght 3m 2ogan 3t 3w 2ush 1mall 3rt 2ile 2oke 3oth 1nack 3ke 3p 2iff 2ow 1oap ' +
  '2ccer 3ial 3k 2da 2ft 2lar 3dier 3id 3ution 3ve 2meone 2ng 2on 2rry 3t 2ul 3nd 3p 3rce 3th 1pace 3re 3tial ' +
  '3wn 2eak 3cial 3ed 3ll 3nd 2here 2ice 3der 3ke 3n 3rit 2lit 2oil 3nsor 3on 3rt 3t 2ray 3ead 3ing 2y 1quare ' +
  '3eeze 3irrel 1table 3dium 3ff 3ge 3irs 3mp 3nd 3rt 3te 3y 2eak 3el 3m 3p 3reo 2ick 3ll 3ng 2ock 3mach 3ne ' +
  '3ol 3ry 3ve 2rategy 3eet 3ike 3ong 3uggle 2udent 3ff 3mble 2yle 1ubject 3mit 3way 2ccess 3h 2dden 2ffer ' +
  '2gar 3gest 2it 2mmer 2n 3ny 3set 2per 3ply 3reme 2re 3face 3ge 3prise 3round 3vey 2spect 3tain 1wallow 3mp ' +
  '3p 3rm 2ear 3et 2ift 3m 3ng 3tch 2ord 1ymbol 3ptom 2rup 2stem table 2ckle 2g 2il 2lent 3k 2nk 2pe 2rget 2sk ' +
  '3te 2ttoo 2xi 1each 3m 2ll 2n 3ant 3nis 3t 2rm 2st 2xt 1hank 3t 2eme 3n 3ory 3re 3y 2ing 3s 2ought 2ree ' +
  '3ive 3ow 2umb 3nder 1icket 2de 2ger 2lt 2mber 3e 2ny 2p 2red 2ssue 2tle 1oast 2bacco 2day 3dler 2e 2gether ' +
  '2ilet 2ken 2mato 3orrow 2ne 3gue 3ight 2ol 3th 2p 3ic 3ple 2rch 3nado 3toise 2ss 2tal 2urist 2ward 3er 3n ' +
  '2y 1rack 3de 3ffic 3gic 3in 3nsfer 3p 3sh 3vel 3y 2eat 3e 3nd 2ial 3be 3ck 3gger 3m 3p 2ophy 3uble 2uck 3e ' +
  '3ly 3mpet 3st 3th 2y 1ube 2ition 2mble 2na 3nel 2rkey 3n 3tle 1welve 3nty 2ice 3n 3st 2o 1ype 3ical ugly ' +
  '1mbrella 1nable 3ware 2cle 3over 2der 3o 2fair 3old 2happy 2iform 3que 3t 3verse 2known 2lock 2til 2usual ' +
  '2veil 1pdate 2grade 2hold 2on 2per 2set 1rban 2ge 1sage 2e 3d 3ful 3less 2ual 1tility vacant 3uum 2gue 2lid ' +
  '3ley 3ve 2n 3ish 2por 2rious 2st 2ult 1ehicle 2lvet 2ndor 3ture 3ue 2rb 3ify 3sion 3y 2ssel 2teran 1iable ' +
  '2brant 2cious 3tory 2deo 2ew 2llage 2ntage 2olin 2rtual 3us 2sa 3it 3ual 2tal 2vid 1ocal 2ice 3d 2lcano ' +
  '3ume 2te 2yage wage 3on 2it 2lk 3l 3nut 2nt 2rfare 3m 3rior 2sh 3p 3te 2ter 2ve 2y 1ealth 3pon 3r 3sel ' +
  '3ther 2b 2dding 2ekend 2ird 2lcome 2st 2t 1hale 3t 2eat 3el 3n 3re 2ip 3sper 1ide 3th 2fe 2ld 3l 2n 3dow 3e ' +
  '3g 3k 3ner 3ter 2re 2sdom 3e 3h 2tness 1olf 2man 2nder 2od 3l 2rd 3k 3ld 3ry 3th 1rap 2eck 3stle 2ist 3te ' +
  '2ong yard 1ear 2llow 1ou 3ng 3th zebra 2ro 1one 2o';

let wordList = null;
let wordIndex = null;

/** The BIP-39 English word list (2,048 words), e.g. to suggest words as a user types. */
export function bip39English() {
  if (!wordList) {
    wordList = [];
    for (const token of WORDS.split(' ')) {
      const shared = /^[0-9]/.test(token) ? Number(token[0]) : 0;
      wordList.push((wordList.at(-1) ?? '').slice(0, shared) + token.slice(shared ? 1 : 0));
    }
    wordIndex = new Map(wordList.map((w, i) => [w, i]));
  }
  return wordList.slice();
}

/** The entropy of a BIP-39 English mnemonic; throws on a bad word count, word or checksum. */
async function mnemonicEntropy(phrase) {
  if (typeof phrase !== 'string') throw new TypeError('a mnemonic is a string');
  if (!wordIndex) bip39English();
  const words = phrase.split(/\s+/).filter(Boolean);
  if (words.length < 12 || words.length > 24 || words.length % 3) {
    throw new Error(`not a BIP-39 mnemonic: it has ${words.length} words (12, 15, 18, 21 or 24 expected)`);
  }
  let bits = '';
  words.forEach((w, i) => {
    const index = wordIndex.get(w);
    if (index === undefined) throw new Error(`not a BIP-39 mnemonic: word ${i + 1} is not in the English word list`);
    bits += index.toString(2).padStart(11, '0');
  });
  const entropyBits = (words.length / 3) * 32;
  const entropy = new Uint8Array(entropyBits / 8);
  for (let i = 0; i < entropy.length; i++) entropy[i] = parseInt(bits.slice(8 * i, 8 * i + 8), 2);
  const digest = new Uint8Array(await subtle.digest('SHA-256', entropy));
  const expected = Array.from(digest, (b) => b.toString(2).padStart(8, '0')).join('');
  if (bits.slice(entropyBits) !== expected.slice(0, entropyBits / 32)) {
    throw new Error('not a BIP-39 mnemonic: the checksum does not match (a word is wrong or out of order)');
  }
  return entropy;
}

/** The key of a BIP-39 English mnemonic (empty password), as Substrate and Bittensor make it. */
export async function keypairFromMnemonic(phrase) {
  const entropy = await mnemonicEntropy(phrase);
  const password = await subtle.importKey('raw', entropy, 'PBKDF2', false, ['deriveBits']);
  const seed = await subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-512', salt: utf8('mnemonic'), iterations: 2048 },
    password,
    512,
  );
  return expandMiniSecret(new Uint8Array(seed, 0, 32));
}

/** A junction's chain code: a u64 as 8 LE bytes, else the SCALE string; padded or BLAKE2b-256'd. */
function chainCode(junction) {
  let encoded;
  if (/^\+?[0-9]+$/.test(junction) && BigInt(junction) < 2n ** 64n) {
    encoded = leBytes(BigInt(junction), 8);
  } else {
    const text = utf8(junction), n = text.length;
    const length = n < 64 ? [n << 2] : n < 0x4000 ? leBytes(BigInt((n << 2) | 1), 2) : leBytes(BigInt(n * 4 + 2), 4);
    encoded = concat(new Uint8Array(length), text);
  }
  const code = new Uint8Array(32);
  code.set(encoded.length > 32 ? blake2b(encoded, 32) : encoded);
  return code;
}

/** schnorrkel's SecretKey::hard_derive_mini_secret_key, expanded Ed25519-style. */
function hardDerive(keypair, junction) {
  const t = new Transcript('SchnorrRistrettoHDKD');
  t.append('sign-bytes', new Uint8Array(0));
  t.append('chain-code', chainCode(junction));
  t.append('secret-key', leBytes(secrets.get(keypair).key));
  return expandMiniSecret(t.challenge('HDKD-hard', 32));
}

/**
 * The key of a Substrate secret URI: a mnemonic (or nothing: the dev phrase) followed by
 * hard junctions, e.g. `//Alice` or `"<mnemonic>//validator//0"`. Soft junctions and
 * passwords are refused, as the Rust side refuses them.
 */
export async function keypairFromUri(uri) {
  if (typeof uri !== 'string') throw new TypeError('a secret URI is a string');
  const at = uri.indexOf('//');
  const phrase = (at < 0 ? uri : uri.slice(0, at)).trim();
  const path = at < 0 ? '' : uri.slice(at);
  if (path.includes('///')) throw new Error('passwords in secret URIs are not supported');
  let keypair = await keypairFromMnemonic(phrase || DEV_PHRASE);
  for (const junction of path.split('//').slice(1)) {
    if (!junction || junction.includes('/')) {
      throw new Error(`unsupported junction in ${JSON.stringify(path)}: only hard junctions (//name)`);
    }
    keypair = await hardDerive(keypair, junction);
  }
  return keypair;
}

/**
 * The key of an Engram wallet file (`{"name", "ss58", "public_key_hex", "mnemonic"}`),
 * checked against the address it records.
 */
export async function loadWallet(jsonText) {
  let file;
  try {
    file = typeof jsonText === 'string' ? JSON.parse(jsonText) : jsonText;
  } catch {
    throw new Error('not a wallet file: it is not JSON'); // JSON.parse's message may quote the mnemonic
  }
  if (!file || typeof file.mnemonic !== 'string' || typeof file.ss58 !== 'string') {
    throw new Error('not a wallet file: it needs "mnemonic" and "ss58"');
  }
  const keypair = await keypairFromMnemonic(file.mnemonic);
  if (keypair.ss58 !== file.ss58) {
    throw new Error(`wallet ${JSON.stringify(file.name ?? '')}: address ${file.ss58} does not match the mnemonic (${keypair.ss58})`);
  }
  return keypair;
}

/**
 * Namespace credentials as `NamespaceAuth::for_namespace` makes them: for a private
 * namespace, the owner's signature over `engram-ns:{namespace}:{timestamp_ms}` as
 * `0x` + lowercase hex; for the public namespace (empty or "public") just its name, and
 * nothing at all for none (null or undefined).
 */
export async function namespaceAuth(keypair, namespace, nowMs = Date.now()) {
  if (namespace == null) return {};
  if (namespace === '' || namespace === 'public') return { namespace };
  if (!(keypair instanceof Keypair)) throw new TypeError('namespaceAuth needs a Keypair');
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new Error(`timestamp ${nowMs} is not a whole number of milliseconds`);
  const signature = keypair.sign(`engram-ns:${namespace}:${nowMs}`);
  return {
    namespace,
    namespace_hotkey: keypair.ss58,
    namespace_sig: `0x${hex(signature)}`,
    namespace_timestamp_ms: nowMs,
  };
}

// ---- hybrid decryption

const X25519_PKCS8_PREFIX = unhex('302e020100300506032b656e04220420');
const HYBRID_INFO = utf8('engram-hybrid-v1');

const importX25519Private = (privateKeyHex, extractable) =>
  subtle.importKey(
    'pkcs8',
    concat(X25519_PKCS8_PREFIX, fixedBytes(privateKeyHex, 32, 'an X25519 private key')),
    { name: 'X25519' },
    extractable,
    ['deriveBits'],
  );

function base64Decode(text) {
  const s = String(text).trim().replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (/[^A-Za-z0-9+/]/.test(s) || s.length % 4 === 1) throw new Error('cannot decrypt: the blob is not base64url');
  return Uint8Array.from(atob(s + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

/** The X25519 public key (hex) of a 32-byte private key (hex). */
export async function x25519PublicKey(privateKeyHex) {
  const jwk = await subtle.exportKey('jwk', await importX25519Private(privateKeyHex, true));
  return hex(base64Decode(jwk.x));
}

/**
 * Decrypts a private memory: `blob` is base64url (or base64) of ephemeral X25519 public
 * key [32] ‖ AES-GCM nonce [12] ‖ ciphertext ‖ tag [16]; resolves to `{text, metadata}`.
 */
export async function decryptMemory(privateKeyHex, blob) {
  const raw = base64Decode(blob);
  if (raw.length < 32 + 12 + 16) throw new Error('cannot decrypt: the blob is too short');
  const ephemeral = raw.slice(0, 32);
  const privateKey = await importX25519Private(privateKeyHex, false);
  let shared;
  try {
    const publicKey = await subtle.importKey('raw', ephemeral, { name: 'X25519' }, false, []);
    shared = await subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256);
  } catch {
    throw new Error('cannot decrypt: the blob has an invalid ephemeral key');
  }
  const hkdf = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
  const aesKey = await subtle.importKey(
    'raw',
    await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: ephemeral, info: HYBRID_INFO }, hkdf, 256),
    'AES-GCM',
    false,
    ['decrypt'],
  );
  let plaintext;
  try {
    plaintext = await subtle.decrypt({ name: 'AES-GCM', iv: raw.slice(32, 44) }, aesKey, raw.slice(44));
  } catch {
    throw new Error('cannot decrypt: wrong key or tampered blob');
  }
  let memory;
  try {
    memory = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new Error('cannot decrypt: the plaintext is not UTF-8 JSON');
  }
  if (typeof memory?.text !== 'string') throw new Error('cannot decrypt: the plaintext has no text');
  const metadata = memory.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new Error('cannot decrypt: the plaintext metadata is not an object');
  }
  return { text: memory.text, metadata };
}
