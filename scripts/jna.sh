#!/usr/bin/env bash
# Prints the path of a JNA jar for the Java example's test
# (ffi/tests/embedding.rs), installing Debian's libjna-java if none is found.
#
# Order: $JNA_JAR if set; /usr/share/java/jna.jar; else, as root with
# apt-get, `apt-get install -y libjna-java` (Debian's JNA 5, with its native
# part). Exit status 77: no JNA and no way to install it here.
set -euo pipefail

if [ -n "${JNA_JAR:-}" ]; then
    [ -f "$JNA_JAR" ] || { echo "jna.sh: \$JNA_JAR=$JNA_JAR is not a file" >&2; exit 1; }
    echo "$JNA_JAR"
    exit 0
fi
JAR=/usr/share/java/jna.jar
if [ ! -f "$JAR" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        exec 9>/tmp/dnd-jna.lock
        if command -v flock >/dev/null; then flock -w 300 9; fi
        if [ ! -f "$JAR" ]; then
            echo "jna.sh: installing Debian's libjna-java" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q libjna-java >&2 \
                || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libjna-java >&2; } \
                || { echo "jna.sh: apt-get could not install libjna-java" >&2; exit 77; }
        fi
    else
        echo "jna.sh: no JNA ($JAR), and apt-get is not available to root here; set JNA_JAR" >&2
        exit 77
    fi
fi
echo "$JAR"
