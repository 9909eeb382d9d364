// Tests of verify.js (not shipped): `node crates/engram-web/web/tests/verify.test.mjs` from
// the repository root. Every CID case of the conformance vectors (typed metadata included)
// is recomputed from the vector's JSON text as the page reads a record; every Merkle v1
// proof climbs to its root and fails with one sibling changed; v2 proofs made by the node
// are checked in the browser tests (python/tests/test_web.py).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { webcrypto } from 'node:crypto';

// Node 18 (Debian's) has WebCrypto but not as a global; verify.js reads the global.
globalThis.crypto ??= webcrypto;
const V = await import('../verify.js');

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const vectors = (name) => readFileSync(here(`../../../engram-core/tests/vectors/${name}`), 'utf8');
let passed = 0;
let failed = 0;
const check = (ok, what) => {
  if (ok) passed++;
  else { failed++; console.error(`FAIL ${what}`); }
};

// CIDs, read with the order- and lexeme-keeping parser.
for (const c of V.parseJson(vectors('cid.json')).get('cases')) {
  const embedding = c.get('embedding_f32') || c.get('embedding');
  const sent = c.get('metadata_as_sent') || c.get('metadata');
  const mv = c.get('model_version');
  check(await V.cidV1(embedding, sent, mv) === c.get('cid'), `cid of case ${c.get('name') || c.get('cid')}`);
  const canon = c.get('canonical_metadata_json');
  if (canon !== undefined) check(V.canonicalMetadata(sent, mv) === canon, `canonical metadata of ${c.get('name')}`);
}

// Python's float repr, the cases the Rust core tests.
for (const [x, want] of [[0.5, '0.5'], [1, '1.0'], [1e-7, '1e-07'], [1e16, '1e+16'], [1e15, '1000000000000000.0'],
  [1e-5, '1e-05'], [1 / 3, '0.3333333333333333'], [-0, '-0.0'], [1.5e300, '1.5e+300'], [-2.5e-10, '-2.5e-10'], [12.34, '12.34']]) {
  check(V.floatRepr(x) === want, `floatRepr(${x}) = ${V.floatRepr(x)}, want ${want}`);
}
check(V.pyStr(V.parseJson('{"2": [1, 2.0, "it\'s"], "1": {"k": null, "t": true}}')) === `{'2': [1, 2.0, "it's"], '1': {'k': None, 't': True}}`, 'nested repr keeps key order');
check(V.numberRepr('12345678901234567890') === '12345678901234567890', 'u64 integers stay exact');
for (const bad of ['{', '[1,]', '{"a" 1}', '"\\x"', '01', '1 2']) {
  let threw = false;
  try { V.parseJson(bad); } catch { threw = true; }
  check(threw, `parseJson refuses ${bad}`);
}

// Merkle v1 inclusion proofs.
const merkle = JSON.parse(vectors('merkle.json'));
for (const c of merkle.cases) {
  for (const p of c.inclusion_proofs || []) {
    check(V.hex(await V.leafV1(p.cid, p.embedding_hash)) === p.leaf_hash, `leaf of ${p.cid}`);
    check(await V.climbV1({ leaf_hex: p.leaf_hash, steps: p.steps }) === c.root, `proof of ${p.cid}`);
    if (p.steps.length) {
      const steps = p.steps.map((s) => ({ ...s }));
      steps[0].sibling = (steps[0].sibling[0] === '0' ? '1' : '0') + steps[0].sibling.slice(1);
      check(await V.climbV1({ leaf_hex: p.leaf_hash, steps }) !== c.root, `altered proof of ${p.cid} fails`);
    }
  }
}

// The plain-JavaScript SHA-256 (pages reached over plain HTTP) agrees with WebCrypto.
for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100000]) {
  const b = new Uint8Array(n).map((_, i) => (i * 131 + 7) & 255);
  const web = new Uint8Array(await crypto.subtle.digest('SHA-256', b));
  check(V.hex(V.sha256Sync(b)) === V.hex(web), `sha256Sync of ${n} bytes`);
}

console.log(`verify.js: ${passed} passed, ${failed} failed`);
if (failed) process.exit(1);
