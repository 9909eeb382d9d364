// Dev tests for keys.js (not shipped): `node crates/engram-web/web/tests/keys.test.mjs` from the
// repository root, Node ≥ 20. Checks keys.js against the sr25519 and encryption vectors,
// its own signatures against its own verifier, and (when the repository's Python venv has
// bittensor_wallet, the Bittensor key library) against an independent schnorrkel.

import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { webcrypto } from 'node:crypto';

// Node 18 (Debian's) has WebCrypto but not as a global; keys.js reads the global.
globalThis.crypto ??= webcrypto;
const K = await import('../keys.js');

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const SR25519 = here('../../../engram-core/tests/vectors/sr25519.json');
const ENCRYPTION = here('../../../engram-core/tests/vectors/encryption.json');
const PYTHON = here('../../../../.venv/bin/python');

const counts = {};
let failures = 0;
function check(section, ok, what) {
  counts[section] ??= { passed: 0, failed: 0 };
  counts[section][ok ? 'passed' : 'failed']++;
  if (!ok) {
    failures++;
    console.error(`FAIL [${section}] ${what}`);
  }
}
async function rejects(section, promiseOrFn, pattern, what) {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
    check(section, false, `${what}: did not throw`);
  } catch (e) {
    check(section, pattern.test(e.message), `${what}: threw ${JSON.stringify(e.message)}`);
  }
}
const randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

// ---- helpers and the word list
check('helpers', K.hex(K.unhex('00ff10')) === '00ff10', 'hex round trip');
check('helpers', K.hex(K.unhex('0xABcd')) === 'abcd', 'unhex accepts 0x and upper case');
await rejects('helpers', () => K.unhex('abc'), /not hex/, 'odd-length hex');
const words = K.bip39English();
check('helpers', words.length === 2048, 'word list has 2048 words');
check(
  'helpers',
  createHash('sha256').update(`${words.join('\n')}\n`).digest('hex') ===
    '2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda',
  'word list is the canonical BIP-39 english.txt (SHA-256)',
);

// ---- sr25519 vectors
const vectors = JSON.parse(readFileSync(SR25519, 'utf8'));
for (const c of vectors.cases) {
  const from = c.derive_from;
  const key = from.mnemonic ? await K.keypairFromMnemonic(from.mnemonic) : await K.keypairFromUri(from.uri);
  const name = from.mnemonic ? 'mnemonic' : from.uri;
  check('sr25519 vectors', K.hex(key.publicKey) === c.public_key_hex, `${name}: public key`);
  check('sr25519 vectors', key.ss58 === c.ss58_address, `${name}: ss58`);
  check('sr25519 vectors', K.ss58Encode(K.unhex(c.public_key_hex)) === c.ss58_address, `${name}: ss58Encode`);
  const msg = K.unhex(c.message_hex);
  check('sr25519 vectors', K.verify(K.unhex(c.public_key_hex), msg, K.unhex(c.signature_hex)), `${name}: signature verifies`);
  check('sr25519 vectors', K.verify(c.public_key_hex, msg, c.signature_hex), `${name}: signature verifies (hex arguments)`);
  check('sr25519 vectors', !K.verify(K.unhex(c.public_key_hex), msg, K.unhex(c.tampered_signature_hex)), `${name}: tampered fails`);
  const unmarked = K.unhex(c.signature_hex);
  unmarked[63] &= 0x7f;
  check('sr25519 vectors', !K.verify(K.unhex(c.public_key_hex), msg, unmarked), `${name}: signature without the schnorrkel marker fails`);
  check('sr25519 vectors', K.verify(key.publicKey, msg, key.sign(msg)), `${name}: our signature with the derived key verifies`);
}

// ---- our signatures, our verifier
const alice = await K.keypairFromUri('//Alice');
const bob = await K.keypairFromUri('//Bob');
const signed = []; // for the cross-check below
for (let i = 0; i < 50; i++) {
  const msg = randomBytes(i === 0 ? 0 : 1 + (i * 37) % 300);
  const key = i % 2 ? alice : bob;
  const sig = key.sign(msg);
  signed.push({ ss58: key.ss58, msg: K.hex(msg), sig: K.hex(sig) });
  check('sign/verify', sig.length === 64 && (sig[63] & 0x80) !== 0, `#${i}: 64 bytes with the marker`);
  check('sign/verify', K.verify(key.publicKey, msg, sig), `#${i}: verifies`);
  if (msg.length) {
    const other = msg.slice();
    other[i % other.length] ^= 1 << (i % 8);
    check('sign/verify', !K.verify(key.publicKey, other, sig), `#${i}: a changed message byte fails`);
  }
  const badSig = sig.slice();
  badSig[i % 63] ^= 1 << (i % 8);
  check('sign/verify', !K.verify(key.publicKey, msg, badSig), `#${i}: a changed signature byte fails`);
  check('sign/verify', !K.verify((i % 2 ? bob : alice).publicKey, msg, sig), `#${i}: the other key fails`);
}
check('sign/verify', K.verify(alice.publicKey, 'engram', alice.sign(K.unhex('656e6772616d'))), 'strings sign as UTF-8');
const s1 = alice.sign('same'), s2 = alice.sign('same');
check('sign/verify', K.hex(s1) !== K.hex(s2), 'signatures are randomized');
check('sign/verify', !K.verify(alice.publicKey, 'x', new Uint8Array(63)), 'short signature is false, not a throw');
check('sign/verify', !K.verify(new Uint8Array(32).fill(255), 'x', s1), 'invalid public key is false');

// ---- keys: mnemonics, URIs, wallets
const dev = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
await rejects('keys', K.keypairFromMnemonic('not a real mnemonic'), /has 4 words/, 'word count');
await rejects('keys', K.keypairFromMnemonic(dev.replace('obey', 'obeyy')), /word 3 is not in/, 'unknown word');
await rejects('keys', K.keypairFromMnemonic(dev.replace('walk', 'wall')), /checksum/, 'bad checksum');
await rejects('keys', K.keypairFromMnemonic(dev.split(' ').reverse().join(' ')), /checksum/, 'words out of order');
check('keys', (await K.keypairFromMnemonic(`  ${dev.replaceAll(' ', ' \n\t')} `)).ss58 === '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV', 'any whitespace between words');
check('keys', (await K.keypairFromUri(`${dev}//Alice`)).ss58 === alice.ss58, 'explicit dev phrase URI');
check('keys', (await K.keypairFromUri(dev)).ss58 === '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV', 'URI without junctions');
await rejects('keys', K.keypairFromUri('//Alice/soft'), /only hard junctions/, 'soft junction');
await rejects('keys', K.keypairFromUri('//Alice///pw'), /passwords/, 'password');
const seedKey = await K.keypairFromSeedHex('0x' + '11'.repeat(32));
check('keys', seedKey.publicKey.length === 32 && K.verify(seedKey.publicKey, 'm', seedKey.sign('m')), 'seed key signs');
await rejects('keys', () => K.keypairFromSeedHex('abcd'), /32 bytes/, 'short seed');
const wallet = { name: 'hot', ss58: '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV', public_key_hex: '46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a', mnemonic: dev };
check('keys', (await K.loadWallet(JSON.stringify(wallet, null, 2))).ss58 === wallet.ss58, 'wallet loads');
await rejects('keys', K.loadWallet(JSON.stringify({ ...wallet, ss58: alice.ss58 })), /does not match the mnemonic/, 'wallet with a foreign address');
await rejects('keys', K.loadWallet('{"name":'), /not a wallet file/, 'wallet that is not JSON');
await rejects('keys', K.loadWallet('{"name":"x"}'), /needs "mnemonic"/, 'wallet without a mnemonic');
check('keys', !Object.values(alice).some((v) => typeof v === 'bigint') && !JSON.stringify(alice).includes('nonce'), 'no secret on the key object');

// ---- SS58
for (const key of [alice, bob, seedKey]) {
  check('ss58', K.hex(K.ss58Decode(key.ss58)) === K.hex(key.publicKey), `${key.ss58} round trips`);
}
for (let i = 0; i < 20; i++) {
  const pub = randomBytes(32);
  if (i === 0) pub.fill(0);
  check('ss58', K.hex(K.ss58Decode(K.ss58Encode(pub))) === K.hex(pub), `random key #${i} round trips`);
}
const corrupt = alice.ss58.slice(0, 10) + (alice.ss58[10] === 'a' ? 'b' : 'a') + alice.ss58.slice(11);
await rejects('ss58', () => K.ss58Decode(corrupt), /checksum/, 'corrupted address');
await rejects('ss58', () => K.ss58Decode('not-base58-0OIl'), /bad base58/, 'bad base58');
await rejects('ss58', () => K.ss58Decode('5GrwvaEF5zXb26Fz9rcQpDWS'), /wrong length/, 'short address');
await rejects('ss58', () => K.ss58Decode('14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3'), /prefix/, 'Polkadot (prefix 0) address');

// ---- namespace credentials (NamespaceAuth::signed_by: 0x + lowercase hex)
const auth = await K.namespaceAuth(alice, 'diary', 1712345678123);
check('namespace', auth.namespace === 'diary' && auth.namespace_hotkey === alice.ss58 && auth.namespace_timestamp_ms === 1712345678123, 'fields');
check('namespace', /^0x[0-9a-f]{128}$/.test(auth.namespace_sig), 'signature is 0x + 128 lowercase hex digits');
check('namespace', K.verify(alice.publicKey, 'engram-ns:diary:1712345678123', auth.namespace_sig), 'signature verifies over engram-ns:{ns}:{ts}');
check('namespace', isDeepStrictEqual(await K.namespaceAuth(alice, 'public', 1), { namespace: 'public' }), 'public namespace is not signed');
check('namespace', isDeepStrictEqual(await K.namespaceAuth(alice, undefined), {}), 'no namespace, no fields');
await rejects('namespace', K.namespaceAuth(alice, 'n', NaN), /not a whole number/, 'NaN timestamp');
const nowAuth = await K.namespaceAuth(alice, 'n');
check('namespace', Math.abs(nowAuth.namespace_timestamp_ms - Date.now()) < 5000, 'defaults to now');

// ---- hybrid decryption
if (!existsSync(ENCRYPTION)) {
  console.log(`SKIPPED encryption: ${ENCRYPTION} not found`);
} else {
  const enc = JSON.parse(readFileSync(ENCRYPTION, 'utf8'));
  for (const [i, c] of enc.cases.entries()) {
    const got = await K.decryptMemory(c.recipient_private_key_hex, c.blob);
    check('decrypt', got.text === c.text && isDeepStrictEqual(got.metadata, c.metadata), `case ${i}: text and metadata`);
    check('decrypt', (await K.x25519PublicKey(c.recipient_private_key_hex)) === c.recipient_public_key_hex, `case ${i}: X25519 public key`);
    const standard = c.blob.replaceAll('-', '+').replaceAll('_', '/');
    check('decrypt', (await K.decryptMemory(c.recipient_private_key_hex, standard)).text === c.text, `case ${i}: standard base64`);
    check('decrypt', (await K.decryptMemory(`0x${c.recipient_private_key_hex}`, c.blob.replace(/=+$/, ''))).text === c.text, `case ${i}: unpadded, 0x key`);
    const others = enc.cases.map((o) => o.recipient_private_key_hex).filter((k) => k !== c.recipient_private_key_hex);
    const wrong = i % 2 ? others[i % others.length] : K.hex(randomBytes(32));
    await rejects('decrypt', K.decryptMemory(wrong, c.blob), /wrong key or tampered/, `case ${i}: wrong key`);
  }
  for (const c of enc.raw_cases ?? []) {
    check('decrypt', (await K.x25519PublicKey(c.recipient_private_key_hex)) === c.recipient_public_key_hex, `${c.name}: recipient public key`);
    check('decrypt', (await K.x25519PublicKey(c.ephemeral_private_key_hex)) === c.ephemeral_public_key_hex, `${c.name}: ephemeral public key`);
  }
  for (const c of enc.negative_cases ?? []) {
    await rejects('decrypt', K.decryptMemory(c.recipient_private_key_hex, c.blob_base64url), /cannot decrypt/, c.name);
  }
  const key0 = enc.cases[0].recipient_private_key_hex;
  await rejects('decrypt', K.decryptMemory(key0, 'not base64!'), /not base64/, 'bad base64');
  await rejects('decrypt', K.decryptMemory(key0, 'AAAA'), /too short/, 'short blob');
  await rejects('decrypt', K.decryptMemory('abcd', enc.cases[0].blob), /32 bytes/, 'short private key');
}

// ---- independent cross-check with Bittensor's key library (Rust schnorrkel via Python)
const pyCheck = `
import json, sys
from bittensor_wallet import Keypair
job = json.load(sys.stdin)
out = {"js_signatures": [], "derived": {}, "py_signatures": []}
for s in job["signed"]:
    k = Keypair(ss58_address=s["ss58"])
    m = bytes.fromhex(s["msg"]); sig = bytes.fromhex(s["sig"])
    bad = bytearray(m + b"x")
    out["js_signatures"].append([k.verify(m, sig), k.verify(bytes(bad), sig)])
for uri in job["uris"]:
    out["derived"][uri] = Keypair.create_from_uri(uri).ss58_address
for m in job["mnemonics"]:
    out["derived"][m] = Keypair.create_from_mnemonic(m).ss58_address
alice = Keypair.create_from_uri("//Alice")
for i in range(20):
    m = ("engram-ns:diary:%d" % (1712345678000 + i)).encode()
    out["py_signatures"].append([m.hex(), alice.sign(m).hex()])
print(json.dumps(out))
`;
const python = existsSync(PYTHON) ? PYTHON : null;
const probe = python && spawnSync(python, ['-c', 'import bittensor_wallet'], { encoding: 'utf8' });
if (!probe || probe.status !== 0) {
  console.log('SKIPPED cross-check: no Python with bittensor_wallet at .venv/bin/python');
} else {
  const mnemonics = [];
  for (let i = 0; i < 8; i++) {
    const r = spawnSync(python, ['-c', `from bittensor_wallet import Keypair; print(Keypair.generate_mnemonic(${[12, 15, 18, 21, 24][i % 5]}))`], { encoding: 'utf8' });
    mnemonics.push(r.stdout.trim());
  }
  const uris = ['//Alice', '//Charlie', '//0', '//1//2', '//a-junction-name-much-longer-than-thirty-two-bytes', `${mnemonics[0]}//validator//0`];
  const r = spawnSync(python, ['-c', pyCheck], { input: JSON.stringify({ signed, uris, mnemonics }), encoding: 'utf8' });
  if (r.status !== 0) {
    check('cross-check', false, `python failed: ${r.stderr}`);
  } else {
    const out = JSON.parse(r.stdout);
    out.js_signatures.forEach(([ok, tampered], i) => {
      check('cross-check', ok === true, `JS signature #${i} verifies in schnorrkel`);
      check('cross-check', tampered === false, `JS signature #${i} over another message fails in schnorrkel`);
    });
    for (const uri of uris) check('cross-check', (await K.keypairFromUri(uri)).ss58 === out.derived[uri], `URI ${uri.slice(-40)} derives as Bittensor does`);
    for (const m of mnemonics) check('cross-check', (await K.keypairFromMnemonic(m)).ss58 === out.derived[m], `${m.split(' ').length}-word mnemonic derives as Bittensor does`);
    for (const [m, sig] of out.py_signatures) check('cross-check', K.verify(alice.publicKey, K.unhex(m), K.unhex(sig)), 'schnorrkel signature verifies in JS');
  }
}

// ---- timing
const time = (n, f) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return (performance.now() - t0) / n;
};
const msg = K.unhex('656e6772616d2d6e733a6d792d6e733a31373132333435363738313233');
const sig = alice.sign(msg);
const signMs = time(100, () => alice.sign(msg));
const verifyMs = time(100, () => K.verify(alice.publicKey, msg, sig));
let t0 = performance.now();
for (let i = 0; i < 10; i++) await K.keypairFromMnemonic(dev);
const deriveMs = (performance.now() - t0) / 10;
t0 = performance.now();
for (let i = 0; i < 10; i++) K.ss58Encode(alice.publicKey);
const ss58Ms = (performance.now() - t0) / 10;

for (const [section, { passed, failed }] of Object.entries(counts)) {
  console.log(`${section.padEnd(16)} ${String(passed).padStart(4)} passed${failed ? `, ${failed} FAILED` : ''}`);
}
console.log(`timing (node ${process.version}): sign ${signMs.toFixed(2)} ms, verify ${verifyMs.toFixed(2)} ms, mnemonic→key ${deriveMs.toFixed(2)} ms, ss58 ${ss58Ms.toFixed(2)} ms`);
console.log(failures ? `${failures} FAILED` : 'all passed');
process.exit(failures ? 1 : 0);
