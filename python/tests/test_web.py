"""The web app in a real browser: headless Chromium (Debian's `chromium`, installed by
scripts/test-tools.sh) driven by Playwright, against real `engram serve` processes and a real
3-node devnet with a validator.

Each test writes a screenshot of what it checked to target/web-shots/ (docs/img/ holds a few
of them), and the page-weight and first-render figures to target/web-shots/budget.json."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from PIL import Image
from conftest import ROOT, VECTORS, Node, engram_bin, free_port, running_devnet
from playwright.sync_api import Browser, Page, sync_playwright

SHOTS = ROOT / "target" / "web-shots"
BUDGET_BYTES = 150_000
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    path = os.environ.get("ENGRAM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("no chromium on PATH: run scripts/test-tools.sh (make test does), or set ENGRAM_CHROMIUM")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Watched:
    """A page whose script errors fail the test (a broken module would otherwise just show
    a blank section)."""

    def __init__(self, browser: Browser, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.page: Page = self.context.new_page()
        self.errors: List[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def close(self, allow: str = "") -> None:
        unexpected = [e for e in self.errors if not (allow and allow in e)]
        self.context.close()
        assert not unexpected, f"the page reported errors: {unexpected}"


@pytest.fixture
def web(browser: Browser) -> Iterator[Watched]:
    w = Watched(browser)
    yield w
    w.close(allow="status of 4")


def wait_until(page: Page, expression: str, timeout_s: float = 30) -> None:
    """Polls `expression` in the page until it is true. (Playwright's wait_for_function
    compiles its predicate with eval, which the app's Content-Security-Policy forbids; the
    tests keep that policy on, so they see what users see.)"""
    deadline = time.time() + timeout_s
    while not page.evaluate(expression):
        if time.time() > deadline:
            raise AssertionError(f"not true within {timeout_s} s: {expression}")
        time.sleep(0.1)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def http_json(url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def store_text(page: Page, text: str, metadata: str = "") -> str:
    page.fill("#text", text)
    page.fill("#text-meta", metadata)
    before = page.locator("#store-out .cid").count()
    page.click("#panel-text button[type=submit]")
    wait_until(page, f"document.querySelectorAll('#store-out .cid').length > {before}")
    return page.locator("#store-out .cid").first.inner_text()


def wait_verified(page: Page) -> str:
    page.wait_for_selector(
        "body[data-verified='ok'], body[data-verified='bad'], body[data-verified='missing']",
        state="attached",
        timeout=30_000,
    )
    return str(page.evaluate("document.body.dataset.verified"))


def test_store_text_find_it_and_every_check_is_green(node: Node, web: Watched) -> None:
    page = web.page
    page.goto(node.url + "/")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    text = f"Validators ask miners for storage proofs {time.time_ns()}."
    cid = store_text(page, text, '{"source": "browser", "score": 1.0, "tags": ["a", "b"], "ok": true}')
    assert cid.startswith("v1::")
    # The node stored exactly that: its record hashes to the CID the page showed.
    record = http_json(f"{node.url}/retrieve/{cid}")
    assert record["text"] == text and record["metadata"]["source"] == "browser"

    page.fill("#q", "storage proofs from miners")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-out li")
    first = page.locator("#search-out li").first
    assert text in first.inner_text()
    assert "cosine" in first.inner_text() and "tier anonymous" in first.inner_text()
    # By words: a token only this memory has, ranked by BM25 (the node matches the words).
    token = text.split()[-1].rstrip(".")
    page.select_option("#mode", "keyword")
    page.fill("#q", token)
    page.click("#search-form button[type=submit]")
    wait_until(page, "document.querySelector('#search-out li .badge')?.textContent.startsWith('bm25')")
    assert text in page.locator("#search-out li").first.inner_text()
    page.select_option("#mode", "hybrid")
    page.fill("#q", f"storage proofs {token}")
    page.click("#search-form button[type=submit]")
    wait_until(page, "document.querySelector('#search-out li .badge')?.textContent.startsWith('fusion')")
    assert text in page.locator("#search-out li").first.inner_text()
    page.select_option("#mode", "dense")
    page.fill("#browse-filter", "source=browser")
    page.click("#browse-form button[type=submit]")
    page.wait_for_selector("#browse-out li")
    assert cid in page.inner_text("#browse-out")
    shot(page, "playground")

    page.click(f"#search-out a.cid >> text={cid}")
    assert wait_verified(page) == "ok"
    checks = page.locator(".checks li")
    assert checks.count() == 4
    assert page.locator(".checks li.ok").count() == 4
    names = page.inner_text(".checks")
    for name in ["CID recomputed", "Proof leaf", "Merkle v1", "Merkle v2"]:
        assert name in names
    assert text in page.inner_text("#record")
    assert "This node holds it" in page.inner_text("#holders")
    shot(page, "cid-verified")


def test_a_tampered_record_shows_red_with_the_reason(tmp_path: Path, web: Watched) -> None:
    (tmp_path / "liar").mkdir()
    liar = Node(tmp_path / "liar", {"ENGRAM_FAULT": "tamper"})
    try:
        cid = http_json(f"{liar.url}/IngestSynapse", {"text": "A record the node will alter."})["cid"]
        page = web.page
        page.goto(f"{liar.url}/cid/{cid}")
        assert wait_verified(page) == "bad"
        failed = page.locator(".checks li.bad")
        assert failed.count() >= 2, page.inner_text(".checks")
        cid_check = page.locator(".checks li[data-check='CID recomputed from the record']")
        assert "bad" in (cid_check.get_attribute("class") or "")
        assert "the node served different bytes" in cid_check.inner_text()
        leaf = page.locator(".checks li[data-check='Proof leaf is this record']")
        assert "bad" in (leaf.get_attribute("class") or "")
        assert "do not trust" in page.inner_text("#verdict")
        shot(page, "cid-tampered")
    finally:
        liar.stop()


def test_documents_through_the_playground(node: Node, web: Watched, tmp_path: Path) -> None:
    page = web.page
    page.goto(node.url + "/")
    # A real PDF made by the Rust test helper is not at hand here; a minimal one is.
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(minimal_pdf("Browsers store documents in Engram."))
    page.click("#tab-pdf")
    page.set_input_files("#pdf", str(pdf))
    page.click("#panel-pdf button[type=submit]")
    page.wait_for_selector("#store-out .notice >> text=note.pdf")
    out = page.inner_text("#store-out")
    assert "1 chunk(s) from 1 page(s)" in out, out
    chunk_cid = page.locator("#store-out .notice").first.locator("a.cid").first.inner_text()
    page.goto(f"{node.url}/cid/{chunk_cid}")
    assert wait_verified(page) == "ok"
    # The CID checks plus the document file against its content CID.
    assert page.locator(".checks li.ok").count() == 5
    assert "Document file matches its content CID" in page.inner_text(".checks")
    assert "Arweave: not archived" in page.inner_text("#record")
    shot(page, "cid-document")

    page.goto(node.url + "/")
    page.click("#tab-pdf")
    bogus = tmp_path / "not.pdf"
    bogus.write_bytes(b"this is not a PDF at all")
    page.set_input_files("#pdf", str(bogus))
    page.click("#panel-pdf button[type=submit]")
    err = page.wait_for_selector("#store-out .error")
    assert err.inner_text().startswith("400"), err.inner_text()


def test_web_pages_and_images_through_the_playground(tmp_path: Path, web: Watched) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "article.html").write_text(
        "<html><head><title>Tide pools</title></head><body><nav>menu</nav>"
        "<article><p>Tide pools shelter anemones between the tides.</p></article></body></html>"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "node").mkdir()
    # The page is on loopback, which a node fetches only when its operator allows it.
    n = Node(tmp_path / "node", {"ENGRAM_ALLOW_PRIVATE_URLS": "true"})
    try:
        page = web.page
        page.goto(n.url + "/")
        page.click("#tab-url")
        page.fill("#url", f"http://127.0.0.1:{server.server_address[1]}/article.html")
        page.click("#panel-url button[type=submit]")
        stored = page.wait_for_selector("#store-out .notice >> text=Tide pools")
        assert "1 chunk(s)" in stored.inner_text()
        page.click("#tab-image")
        png = tmp_path / "pool.png"
        Image.new("RGB", (64, 48), (20, 120, 200)).save(png)
        page.set_input_files("#image", str(png))
        page.fill("#image-desc", "A blue square photographed at a tide pool.")
        page.click("#panel-image button[type=submit]")
        page.wait_for_selector("#store-out .notice >> text=pool.png")
        page.fill("#q", "anemones in tide pools")
        page.click("#search-form button[type=submit]")
        page.wait_for_selector("#search-out li")
        assert "Tide pools shelter anemones" in page.locator("#search-out li").first.inner_text()
        shot(page, "documents")
    finally:
        server.shutdown()
        n.stop()


def test_bad_input_shows_its_error_and_stores_nothing(node: Node, web: Watched) -> None:
    page = web.page
    page.goto(node.url + "/")
    before = http_json(f"{node.url}/overview")["node"]["memories"]
    page.fill("#text", "A memory with broken metadata.")
    page.fill("#text-meta", "{not json")
    page.click("#panel-text button[type=submit]")
    err = page.wait_for_selector("#store-out .error")
    assert "Metadata is not JSON" in err.inner_text()
    assert err.get_attribute("role") == "alert"
    # A refusal by the node itself, with its status and message.
    page.fill("#text", "x" * 8_193)
    page.fill("#text-meta", "")
    page.click("#panel-text button[type=submit]")
    wait_until(page, "document.querySelectorAll('#store-out .error').length == 2")
    node_err = page.locator("#store-out .error").first.inner_text()
    assert node_err.startswith("400"), node_err
    page.fill("#k", "0")
    page.fill("#q", "anything")
    page.click("#search-form button[type=submit]")
    assert "Top k must be" in page.wait_for_selector("#search-out .error").inner_text()
    page.fill("#lookup", "v1::nothex")
    page.click("#lookup-form button[type=submit]")
    assert "64 lowercase hex" in page.wait_for_selector("#lookup-out .error").inner_text()
    page.goto(f"{node.url}/cid/%ZZnot-a-cid")
    assert wait_verified(page) == "missing"
    assert "is not a CID" in page.inner_text("#problem")
    page.goto(f"{node.url}/cid/v1::{'ab' * 32}")
    assert wait_verified(page) == "missing"
    assert "404" in page.inner_text("#problem")
    shot(page, "errors")
    assert http_json(f"{node.url}/overview")["node"]["memories"] == before


def test_keyboard_tabs_and_phone_screens(node: Node, browser: Browser) -> None:
    w = Watched(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        page = w.page
        for path, name in [("/", "phone-playground"), ("/dashboard", "phone-dashboard")]:
            page.goto(node.url + path)
            page.wait_for_selector("body[data-ready='1']", state="attached")
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{path} is {wide}px wide on a {PHONE['width']}px phone"
            shot(page, name)
        page.goto(node.url + "/")
        page.focus("#tab-text")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.id") == "tab-pdf"
        assert page.is_visible("#panel-pdf") and not page.is_visible("#panel-text")
        page.keyboard.press("End")
        assert page.evaluate("document.activeElement.id") == "tab-image"
    finally:
        w.close(allow="status of 4")


def test_dark_theme_switch(node: Node, web: Watched) -> None:
    page = web.page
    page.emulate_media(color_scheme="light")
    page.goto(node.url + "/")
    page.click("#theme")  # system -> light
    page.click("#theme")  # light -> dark
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(18, 20, 23)", bg
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark", "the choice is remembered"
    shot(page, "playground-dark")


def test_page_weight_and_first_render(node: Node, browser: Browser) -> None:
    """Each page's bytes over the wire before any data (HTML, CSS, scripts) within budget;
    first render from the node on loopback measured and reported (a measurement, not a gate:
    timing belongs to benchmarks)."""
    report: Dict[str, Dict[str, float]] = {}
    for path in ["/", f"/cid/v1::{'cd' * 32}", "/dashboard"]:
        w = Watched(browser)
        try:
            page = w.page
            page.goto(node.url + path)
            page.wait_for_selector("body[data-ready='1']", state="attached")
            page.wait_for_load_state("networkidle")
            m = page.evaluate(
                """() => {
                  const nav = performance.getEntriesByType('navigation')[0];
                  const assets = performance.getEntriesByType('resource')
                    .filter((r) => r.initiatorType !== 'fetch' && r.initiatorType !== 'xmlhttprequest');
                  return {
                    bytes: nav.transferSize + assets.reduce((n, r) => n + r.transferSize, 0),
                    files: 1 + assets.length,
                    first_contentful_paint_ms: performance.getEntriesByName('first-contentful-paint')[0].startTime,
                    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
                  };
                }"""
            )
        finally:
            w.close(allow="status of 4")
        assert m["bytes"] <= BUDGET_BYTES, f"{path}: {m['bytes']} bytes over the wire"
        assert m["files"] >= 3, m
        report[path.split("/v1")[0] or "/"] = m
    (SHOTS / "budget.json").write_text(json.dumps(report, indent=1))
    print("web budget:", json.dumps(report))


def test_js_modules_match_the_conformance_vectors_in_the_browser(node: Node, web: Watched) -> None:
    """verify.js and keys.js as this browser runs them: every CID vector, every sr25519
    vector (derivation, signatures, tampered ones refused) and every encryption vector."""
    for i in range(5):
        http_json(f"{node.url}/IngestSynapse", {"text": f"Leaf number {i} of a tree with a real audit path."})
    cid = http_json(f"{node.url}/IngestSynapse", {"text": "The leaf whose proof is bent."})["cid"]
    proof = http_json(f"{node.url}/prove-memory", {"cid": cid})
    assert proof["proof_v2"]["tree_size"] >= 6 and len(proof["proof_v2"]["path"]) >= 2
    page = web.page
    page.goto(node.url + "/")
    v2 = page.evaluate(
        """async ([proof]) => {
          const V = await import('/web/verify.js');
          const p = proof.proof_v2, root = proof.root_v2_hex;
          const flip = (h) => (h[0] === '0' ? '1' : '0') + h.slice(1);
          return {
            honest: await V.verifyV2(p, root),
            path: await V.verifyV2({...p, path: [flip(p.path[0]), ...p.path.slice(1)]}, root),
            index: await V.verifyV2({...p, index: (p.index + 1) % p.tree_size}, root),
            size: await V.verifyV2({...p, tree_size: p.tree_size + 1}, root),
            leaf: await V.verifyV2({...p, leaf_hex: flip(p.leaf_hex)}, root),
            short: await V.verifyV2({...p, path: p.path.slice(1)}, root),
          };
        }""",
        [proof],
    )
    assert v2 == {"honest": True, "path": False, "index": False, "size": False, "leaf": False, "short": False}
    result = page.evaluate(
        """async ([cidText, srText, encText]) => {
          const V = await import('/web/verify.js');
          const K = await import('/web/keys.js');
          const out = {cid: 0, sr: 0, enc: 0, bad: []};
          for (const c of V.parseJson(cidText).get('cases')) {
            const got = await V.cidV1(c.get('embedding_f32') || c.get('embedding'),
              c.get('metadata_as_sent') || c.get('metadata'), c.get('model_version'));
            if (got === c.get('cid')) out.cid++; else out.bad.push(c.get('cid'));
          }
          for (const c of JSON.parse(srText).cases) {
            const kp = c.derive_from.mnemonic
              ? await K.keypairFromMnemonic(c.derive_from.mnemonic)
              : await K.keypairFromUri(c.derive_from.uri);
            const ok = kp.ss58 === c.ss58_address
              && K.verify(c.public_key_hex, K.unhex(c.message_hex), c.signature_hex)
              && !K.verify(c.public_key_hex, K.unhex(c.message_hex), c.tampered_signature_hex)
              && K.verify(kp.publicKey, 'engram', kp.sign('engram'));
            if (ok) out.sr++; else out.bad.push(c.ss58_address);
          }
          for (const c of JSON.parse(encText).cases) {
            const m = await K.decryptMemory(c.recipient_private_key_hex, c.blob);
            if (m.text === c.text && JSON.stringify(m.metadata) === JSON.stringify(c.metadata)) out.enc++;
            else out.bad.push(c.blob.slice(0, 12));
          }
          return out;
        }""",
        [(VECTORS / n).read_text() for n in ["cid.json", "sr25519.json", "encryption.json"]],
    )
    counts = {
        n: len(json.loads((VECTORS / f).read_text())["cases"])
        for n, f in [("cid", "cid.json"), ("sr", "sr25519.json"), ("enc", "encryption.json")]
    }
    assert result["bad"] == []
    assert {k: result[k] for k in counts} == counts


def test_a_private_namespace_opened_with_keys_that_stay_in_the_page(node: Node, web: Watched, tmp_path: Path) -> None:
    wallets, key = tmp_path / "wallets", tmp_path / "memory.key"
    run = [engram_bin(), "--wallet-dir", str(wallets)]
    subprocess.run([*run, "wallet", "new", "owner"], check=True, capture_output=True)
    subprocess.run([*run, "keys", "new", "--out", str(key)], check=True, capture_output=True)
    ns = f"diary-{time.time_ns()}"
    # A memory sealed on this machine by the CLI: the node holds only ciphertext.
    sealed = subprocess.run(
        [
            *run,
            "--node",
            node.url,
            "--json",
            "ingest",
            "Sealed by the CLI, opened in the browser.",
            "--namespace",
            ns,
            "--wallet",
            "owner",
            "--encrypt",
            str(key),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    sealed_cid = json.loads(sealed.stdout)["cid"]

    page = web.page
    sent: List[str] = []
    page.on("request", lambda r: sent.append(r.post_data or ""))
    page.goto(node.url + "/")
    page.click("#ns-open summary")
    page.fill("#ns-name", ns)
    page.set_input_files("#ns-wallet", str(wallets / "owner.json"))
    page.set_input_files("#ns-key", str(key))
    page.click("#ns-go")
    page.wait_for_selector("#ns-state >> text=Private namespace")
    page.wait_for_selector("#browse-out li")
    listing = page.inner_text("#browse-out")
    assert "Sealed by the CLI, opened in the browser." in listing and "decrypted in this page" in listing
    assert sealed_cid in listing
    # The node verified the page's sr25519 signature (schnorrkel in Rust) on every request.
    cid = store_text(page, "Written from the browser into a private namespace.")
    # Stored in the namespace, not in public: unsigned, the node does not show it.
    with pytest.raises(urllib.error.HTTPError) as hidden:
        http_json(f"{node.url}/retrieve/{cid}")
    assert hidden.value.code == 404
    page.fill("#q", "written from the browser")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-out li")
    assert f"namespace {ns}" in page.inner_text("#search-out")
    shot(page, "private-namespace")
    mnemonic = json.loads((wallets / "owner.json").read_text())["mnemonic"]
    secret = key.read_text().strip()
    assert all(mnemonic not in s and secret not in s for s in sent), "a key left the page"
    # Unsigned, the namespace is closed to everyone else.
    with pytest.raises(urllib.error.HTTPError) as refused:
        http_json(f"{node.url}/list", {"namespace": ns})
    assert refused.value.code == 401
    # A document in a private namespace is refused in the page, with the way to do it.
    page.click("#tab-url")
    page.fill("#url", "https://example.org/")
    page.click("#panel-url button[type=submit]")
    assert "sealed on your machine" in page.wait_for_selector("#store-out .error").inner_text()
    assert cid.startswith("v1::")


def test_engram_web_serves_the_embedded_store_on_loopback_only(tmp_path: Path, web: Watched) -> None:
    data = tmp_path / "store"
    port = free_port()
    proc = subprocess.Popen(
        [engram_bin(), "--data-dir", str(data), "web", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, f"engram web exited: {proc.stderr.read()}"
            line = proc.stderr.readline()
            if f"http://127.0.0.1:{port}/" in line:
                break
            assert time.time() < deadline, "engram web never said where it serves"
        page = web.page
        page.goto(f"http://127.0.0.1:{port}/")
        cid = store_text(page, "Stored through engram web into my own store.")
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, "engram web stops cleanly on SIGTERM"
    # The memory is in the embedded store itself, for every other command.
    got = subprocess.run(
        [engram_bin(), "--data-dir", str(data), "--json", "get", cid], check=True, capture_output=True, text=True
    )
    assert json.loads(got.stdout)["text"] == "Stored through engram web into my own store."
    refused = subprocess.run(
        [engram_bin(), "--data-dir", str(data), "web", "--listen", "0.0.0.0:0"], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert "loopback only" in refused.stderr


@pytest.fixture(scope="module")
def scored_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three nodes and one validator."""
    with running_devnet(str(tmp_path_factory.mktemp("webnet") / "devnet"), validators=1) as d:
        yield d


def test_the_dashboard_lists_the_devnet_and_updates_live(scored_devnet: str, web: Watched) -> None:
    manifest = json.loads((Path(scored_devnet) / "devnet.json").read_text())
    miners = [p for p in manifest["processes"] if p["role"] == "miner"]
    validator = next(p for p in manifest["processes"] if p["role"] == "validator")
    url = miners[0]["url"]
    http_json(f"{url}/IngestSynapse", {"text": "A memory on the devnet."})
    page = web.page
    page.goto(url + "/dashboard")
    page.wait_for_selector("#nodes tbody tr")
    rows = page.locator("#nodes tbody tr")
    assert rows.count() == 3
    for m in miners:
        row = page.locator(f"#nodes tbody tr[data-hotkey='{m['hotkey']}']")
        assert "live" in row.inner_text()
    assert "(this node)" in page.locator(f"#nodes tbody tr[data-hotkey='{miners[0]['hotkey']}']").inner_text()
    # The validator's scores and rounds arrive without a reload.
    page.wait_for_selector(f"[data-validator='{validator['hotkey']}'] tbody tr", timeout=90_000)
    wait_until(
        page,
        "[...document.querySelectorAll('#nodes tbody tr')].every(r => r.querySelector('td[data-col=score]').textContent !== '—')",
        90,
    )
    first = int(page.evaluate("document.body.dataset.updates"))
    wait_until(page, f"Number(document.body.dataset.updates) >= {first + 2}", 15)
    assert "scoring" in page.inner_text("#validators")
    assert "Last repair round" in page.inner_text("#network")
    shot(page, "dashboard-devnet")
    # The original's /metagraph: every neuron, miners with their axon, incentive per epoch.
    graph = http_json(f"{url}/metagraph")
    assert len(graph["neurons"]) == 4
    served = [n for n in graph["neurons"] if n["port"] is not None]
    assert len(served) == 3 and all(n["ip"] == "127.0.0.1" for n in served)
    cid = http_json(f"{url}/IngestSynapse", {"text": "Held by the nearest nodes."})["cid"]
    page.goto(f"{url}/cid/{cid}")
    assert wait_verified(page) == "ok"
    page.wait_for_selector("#holders table")
    holders = page.locator("#holders tbody tr")
    assert holders.count() == 3
    assert page.locator("#holders tbody tr >> text=yes").count() >= 1


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with `text` in Helvetica (uncompressed, valid xref)."""
    stream = f"BT /F1 18 Tf 50 750 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
