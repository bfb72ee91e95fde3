#!/usr/bin/env bash
# The service's release figures (docs/performance.md, docs/scaling.md) in one
# run on loopback: builds both load benches first (release, `bench` profile),
# then runs them back to back, with the load average before and after.
#   - `cargo bench -p dnd-server --bench load`: one node in process, its
#     durable sets and 10,000-recipient pushes beside `Settings` (~10 s).
#   - `cargo bench -p dnd-cli --bench cluster_load`: the same writes and
#     pushes in process, through `dnd serve --data` and through three shards
#     and an API node over a nats-server, as ratios (~15 s; installs a
#     nats-server with scripts/nats-server.sh if none is found).
# Each bench is bounded in count and time and kills what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p dnd-server --bench load --no-run
cargo bench -p dnd-cli --bench cluster_load --no-run
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
timeout 300 cargo bench -p dnd-server --bench load
timeout 300 cargo bench -p dnd-cli --bench cluster_load
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
