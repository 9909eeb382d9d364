"""OpenTelemetry traces over OTLP/HTTP: a receiver started here decodes what the real
`engram` binary exports with the official opentelemetry-proto definitions, and checks span
names, parents, attributes and the trace carried from the CLI into a node."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from conftest import Node, engram_bin


class Receiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1 (`POST /v1/traces`, protobuf)."""

    def __init__(self) -> None:
        self.spans: List[Dict[str, Any]] = []
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = self.path == "/v1/traces" and self.headers.get("Content-Type") == "application/x-protobuf"
                if ok:
                    receiver.take(ExportTraceServiceRequest.FromString(body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, req: ExportTraceServiceRequest) -> None:
        with self.lock:
            self.requests += 1
            for rs in req.resource_spans:
                resource = {a.key: a.value.string_value for a in rs.resource.attributes}
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        attrs: Dict[str, Any] = {}
                        for a in s.attributes:
                            kind = a.value.WhichOneof("value")
                            attrs[a.key] = getattr(a.value, kind) if kind else None
                        self.spans.append(
                            {
                                "name": s.name,
                                "trace": s.trace_id.hex(),
                                "id": s.span_id.hex(),
                                "parent": s.parent_span_id.hex(),
                                "kind": s.kind,
                                "attrs": attrs,
                                "service": resource.get("service.name"),
                                "start": s.start_time_unix_nano,
                                "end": s.end_time_unix_nano,
                            }
                        )

    def named(self, name: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [s for s in self.spans if s["name"] == name]

    def wait_for(self, name: str, timeout: float = 20.0) -> Dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.named(name)
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no span {name!r}; got {sorted({s['name'] for s in self.spans})}")


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def run(args: List[str], data: Path, endpoint: Optional[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    out = subprocess.run(
        [engram_bin(), "--data-dir", str(data), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_ingest_and_query_are_traced_with_parents_and_attributes(receiver: Receiver, tmp_path: Path) -> None:
    data = tmp_path / "d"
    run(["ingest", "Traces show where the time goes."], data, receiver.url)
    # The CLI exits only after its spans were sent: they are here already.
    root = receiver.named("engram ingest")
    assert len(root) == 1, receiver.spans
    root_span = root[0]
    assert root_span["service"] == "engram" and root_span["parent"] == ""
    ingest = receiver.named("engine.ingest_texts")[0]
    assert ingest["parent"] == root_span["id"] and ingest["trace"] == root_span["trace"]
    # Counts are u64 in Rust; tracing-opentelemetry exports them as decimal strings.
    assert int(ingest["attrs"]["memories"]) == 1
    embed = receiver.named("embed")[0]
    upsert = receiver.named("store.upsert")[0]
    assert embed["parent"] == ingest["id"] and upsert["parent"] == ingest["id"]
    assert int(embed["attrs"]["texts"]) == 1 and int(upsert["attrs"]["records"]) == 1
    assert root_span["start"] <= embed["start"] <= embed["end"] <= upsert["start"] <= root_span["end"]
    # No memory text in any attribute.
    assert all("Traces show" not in str(s["attrs"]) for s in receiver.spans)

    run(["query", "where does time go", "--mode", "hybrid"], data, receiver.url)
    q = receiver.named("engram query")[0]
    text = receiver.named("engine.query_text")[0]
    search = receiver.named("store.search")[0]
    assert text["parent"] == q["id"] and search["parent"] == text["id"]
    assert search["attrs"]["mode"] == "hybrid" and int(search["attrs"]["top_k"]) == 10
    assert search["attrs"]["private"] is False


def test_nothing_is_exported_without_an_endpoint(receiver: Receiver, tmp_path: Path) -> None:
    run(["ingest", "No collector configured."], tmp_path / "d", None)
    time.sleep(0.5)
    assert receiver.requests == 0 and receiver.spans == []


def test_a_query_through_a_node_is_one_trace(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "node").mkdir()
    node = Node(tmp_path / "node", env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url})
    try:
        run(["--node", node.url, "query", "what does a node embed?"], tmp_path / "cli", receiver.url)
        # The CLI's request span (SPAN_KIND_CLIENT = 3) is sent before the CLI exits; the
        # node's (SERVER = 2) within its batch delay.
        [sent] = [s for s in receiver.named("POST /QuerySynapse") if s["kind"] == 3]
        deadline = time.time() + 20
        served: List[Dict[str, Any]] = []
        while not served and time.time() < deadline:
            served = [s for s in receiver.named("POST /QuerySynapse") if s["kind"] == 2]
            time.sleep(0.1)
        assert served, receiver.spans
        server = served[0]
        # The node's span continues the CLI's trace, under the CLI's request span.
        assert server["trace"] == sent["trace"] and server["parent"] == sent["id"]
        assert server["attrs"]["http.route"] == "/QuerySynapse"
        assert int(server["attrs"]["http.response.status_code"]) == 200
        assert int(sent["attrs"]["http.response.status_code"]) == 200
        deadline = time.time() + 20
        while time.time() < deadline and not receiver.named("store.search"):
            time.sleep(0.1)
        [search] = [s for s in receiver.named("store.search") if s["trace"] == sent["trace"]]
        [embed] = [s for s in receiver.named("embed") if s["trace"] == sent["trace"]]
        assert search["parent"] == server["id"] and embed["parent"] == server["id"]
        assert search["attrs"]["mode"] == "dense"
    finally:
        node.stop()
