# Multi-stage build: the binary at /usr/bin/ringway, the configuration at /etc/krakend/krakend.json, as in KrakenD's
# image. Docker's default seccomp profile blocks io_uring: Ringway then logs "legacy (epoll) driver" and still runs;
# run with `--security-opt seccomp=unconfined` (or a profile allowing io_uring_*) for the io_uring driver.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin ringway

FROM debian:bookworm-slim
RUN useradd --system --no-create-home --shell /usr/sbin/nologin krakend
COPY --from=build /src/target/release/ringway /usr/bin/ringway
COPY config-examples/playground.json /etc/krakend/krakend.json
COPY config-examples/data /etc/krakend/config-examples/data
WORKDIR /etc/krakend
USER krakend
EXPOSE 8080
ENTRYPOINT ["/usr/bin/ringway"]
CMD ["run", "-c", "/etc/krakend/krakend.json"]
