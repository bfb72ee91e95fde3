#!/usr/bin/env bash
# Draws docs/week.svg, the picture of alice's week in examples/week.jsonl
# that the README shows. A test (cli/tests/cli/timeline.rs) fails when the
# picture is not what `dnd timeline` draws now.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --locked --bin dnd -- timeline --user alice --time-zone Asia/Shanghai examples/week.jsonl > docs/week.svg
echo "wrote docs/week.svg"
