# dnd serve in a container: built in a Rust image, run in a small one.
#
#   docker build -t dnd-engine .
#   docker run -d -p 8080:8080 -v dnd-data:/var/lib/dnd \
#     -e DND_APP_KEY=key -e DND_APP_SECRET=secret -e DND_TIME_ZONE=Asia/Shanghai dnd-engine
#
# See docs/deploy.md.

# The build: the workspace's rust-version, on the same Debian release as the
# runtime image (so the binary's glibc is the one it runs with).
FROM rust:1.89-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin dnd \
 && cp target/release/dnd /dnd

# The runtime: glibc and CA certificates, no shell, no package manager,
# running as an unprivileged user (uid 65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /dnd /usr/local/bin/dnd
USER nonroot:nonroot
WORKDIR /var/lib/dnd
VOLUME ["/var/lib/dnd"]
EXPOSE 8080
ENV RUST_LOG=info
# Ready: every app's store can make changes durable (GET /ready answers 200).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/dnd", "probe", "http://127.0.0.1:8080/ready"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dnd"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data", "/var/lib/dnd"]
