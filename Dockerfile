# Multi-stage build: the SPA (WASM) and the server in one image.
FROM rust:1-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-unknown-unknown \
 && apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo xtask build-spa && cargo build --release --bin crmconnect

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/crmconnect crmconnect && mkdir -p /var/lib/crmconnect /opt/crmconnect \
 && chown crmconnect /var/lib/crmconnect
COPY --from=build /src/target/release/crmconnect /usr/local/bin/crmconnect
COPY --from=build /src/target/spa /opt/crmconnect/spa
USER crmconnect
ENV CRM_BIND=0.0.0.0:8080 CRM_SPA_DIR=/opt/crmconnect/spa CRM_DATA_DIR=/var/lib/crmconnect
EXPOSE 8080
ENTRYPOINT ["crmconnect"]
CMD ["serve"]
