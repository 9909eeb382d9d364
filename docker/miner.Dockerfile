# The Engram miner image: `engram serve` with the verified model, as a non-root user, its data
# directory on a volume. Built from the repository root:
#
#   docker build -f docker/miner.Dockerfile -t engram-miner .
#   docker run -p 8091:8091 -v engram-data:/data engram-miner
#
# Every setting is an ENGRAM_* environment variable (docs/node.md); cloud sessions pass
# ENGRAM_CONTROLLER_HOTKEY, ENGRAM_SESSION_ID and ENGRAM_TIER (engram cloud sdl).

# --- build: the release binary and the model, verified by SHA-256 -------------------------
FROM rust:1.95-slim-bookworm AS build
# Debian point releases replace package versions on the mirror, so pinned versions would stop
# resolving; the base image's tag fixes the release instead.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p engram-cli --bin engram \
 && ENGRAM_MODEL_DIR=/model scripts/fetch-model.sh

# --- run: the binary, the model, tesseract for image OCR; nothing else ---------------------
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tesseract-ocr tesseract-ocr-eng \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 engram \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin engram \
 && mkdir -p /data \
 && chown engram:engram /data
COPY --from=build /src/target/release/engram /usr/local/bin/engram
COPY --from=build /model /usr/share/engram/model
ENV ENGRAM_MODEL_DIR=/usr/share/engram/model \
    ENGRAM_DATA_DIR=/data \
    ENGRAM_LISTEN=0.0.0.0:8091
VOLUME ["/data"]
EXPOSE 8091
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["engram", "--node", "http://127.0.0.1:8091", "status"]
ENTRYPOINT ["engram"]
CMD ["serve"]
