"""Documents through the Python package: PDFs, images and pages into memories and blobs,
embedded and on a real node; bad documents raise IngestError and store nothing."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from typing import Iterator

import pytest

import engram
from engram.sdk import EngramClient, EngramError, IngestError

from conftest import Node

FIXTURES = Path(__file__).resolve().parents[2] / "crates" / "engram-media" / "tests" / "fixtures"
PAGE = (
    b"<html><head><title>Orchard Notes</title></head><body><nav>menu</nav>"
    b"<main><p>Pear trees blossom in early April in the northern orchard.</p></main></body></html>"
)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_pdf_image_and_page_embedded(tmp_path: Path, site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = FIXTURES / "unicode-3-pages.pdf"
    with engram.Engram(tmp_path / "store") as mem:
        out = mem.ingest_pdf(pdf, metadata={"shelf": "a"})
        assert out["pages"] == 3 and out["title"] == "Engram Test Document"
        assert out["filename"] == "unicode-3-pages.pdf"
        assert len(out["cids"]) == 3 and out["cid"] == out["cids"][0]
        assert out["content_cid"].startswith("sha256:") and out["arweave"] == "off"
        assert out["arweave_tx_id"] is None
        hits = mem.query("Greek and Japanese text", top_k=1)
        assert hits[0]["metadata"]["page"] == 2 and hits[0]["metadata"]["shelf"] == "a"
        assert mem.get_blob(out["content_cid"]) == pdf.read_bytes()

        img = mem.ingest_image((FIXTURES / "text.png").read_bytes(), description="a revenue chart")
        assert img["description"] == "a revenue chart" and len(img["cids"]) == 1
        ocr = mem.ingest_image(FIXTURES / "text.jpg")
        assert "Quarterly revenue grew 42 percent" in ocr["description"]

        # A library refuses the local network unless told otherwise (SSRF).
        with pytest.raises(IngestError, match="loopback, private or link-local"):
            mem.ingest_url(f"{site}/notes")
        monkeypatch.setenv("ENGRAM_ALLOW_PRIVATE_URLS", "true")
        page = mem.ingest_url(f"{site}/notes")
        assert page["title"] == "Orchard Notes" and page["url"] == f"{site}/notes"
        assert mem.get(page["cid"])["metadata"]["text"] == "Pear trees blossom in early April in the northern orchard."


def test_bad_documents_raise_and_store_nothing(tmp_path: Path) -> None:
    with engram.Engram(tmp_path / "store") as mem:
        with pytest.raises(IngestError, match="no %PDF- header"):
            mem.ingest_pdf(b"plain text, not a pdf")
        with pytest.raises(IngestError, match="not a PNG, JPEG, GIF or WebP"):
            mem.ingest_image(b"GIF? no", description="x")
        with pytest.raises(IngestError, match="empty"):
            mem.ingest_pdf(b"")
        with pytest.raises(IngestError, match="cannot read"):
            mem.ingest_pdf(tmp_path / "missing.pdf")
        with pytest.raises(IngestError, match="only http and https"):
            mem.ingest_url("file:///etc/passwd")
        with pytest.raises(IngestError, match="metadata must be a dict"):
            mem.ingest_pdf(FIXTURES / "unicode-3-pages.pdf", metadata=[1])  # type: ignore[arg-type]
        assert mem.status()["count"] == 0


def test_documents_on_a_node(node: Node, site: str) -> None:
    client = EngramClient(node.url)
    pdf = FIXTURES / "unicode-3-pages.pdf"
    out = client.ingest_pdf(pdf)
    assert len(out["cids"]) == 3 and out["pages"] == 3
    assert client.get_blob(out["content_cid"]) == pdf.read_bytes()
    hits = client.query("Rust ownership and data races", top_k=1)
    assert hits[0]["metadata"]["content_cid"] == out["content_cid"]
    # The node refuses to fetch into its own network (no ENGRAM_ALLOW_PRIVATE_URLS).
    with pytest.raises(IngestError, match="loopback, private or link-local"):
        client.ingest_url(f"{site}/notes")


def test_a_private_document_is_sealed_before_it_reaches_the_node(node: Node) -> None:
    from engram.sdk.encryption import HybridEncryption, generate_keypair

    private, _public = generate_keypair()
    enc = HybridEncryption(private_key=private)
    owner = engram.Keypair.from_uri("//DocOwner")
    client = EngramClient(node.url, namespace="doc-vault", keypair=owner, encryption=enc)
    pdf = FIXTURES / "unicode-3-pages.pdf"
    out = client.ingest_pdf(pdf, metadata={"case": "42"})
    assert len(out["cids"]) >= 3
    sealed = client.get_blob(out["content_cid"])
    assert sealed != pdf.read_bytes() and enc.decrypt_raw(sealed) == pdf.read_bytes()
    # The vectors carry noise, so ranks are not asserted: every chunk comes back opened.
    hits = client.query("Greek and Japanese text", top_k=10)
    assert sorted(h["metadata"]["page"] for h in hits) == [1, 2, 3]
    assert all(h["metadata"]["case"] == "42" for h in hits)
    # Someone else's signature gets nothing.
    stranger = EngramClient(node.url, namespace="doc-vault", keypair=engram.Keypair.from_uri("//Stranger"))
    with pytest.raises(EngramError):
        stranger.get_blob(out["content_cid"])
    with pytest.raises(EngramError, match="(?i)403|owner"):
        stranger.delete_document(out["content_cid"])
    # Forgetting it: the owner's key finds the sealed chunks; they and the file go at once.
    gone = client.delete_document(out["content_cid"])
    assert sorted(gone["deleted"]) == sorted(out["cids"])
    assert gone["blobs"] == [out["content_cid"]]
    with pytest.raises(EngramError, match="(?i)404|no blob"):
        client.get_blob(out["content_cid"])
    assert client.query("Greek and Japanese text", top_k=10) == []
    assert client.delete_document(out["content_cid"]) == {**gone, "deleted": [], "blobs": []}
