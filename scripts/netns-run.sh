#!/usr/bin/env bash
# netns-run.sh <command> [args...]
# Runs the command in a private network namespace whose only interface is a
# loopback that has been brought up, so tests can reach nothing but 127.0.0.0/8
# and ::1. Fails (never falls back to the host network) if no namespace can be made.
set -euo pipefail

if (($# == 0)); then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
fi

if [[ "${REACTSOCK_IN_NETNS:-}" != "1" ]]; then
    if ! command -v unshare >/dev/null 2>&1; then
        echo "netns-run: 'unshare' not found (Debian: apt-get install util-linux)" >&2
        exit 1
    fi
    self="$(readlink -f "${BASH_SOURCE[0]}")"
    export REACTSOCK_IN_NETNS=1
    # As root: a plain network namespace. Otherwise: try a user namespace too.
    if unshare -n -- true 2>/dev/null; then
        exec unshare -n -- bash "$self" "$@"
    elif unshare -r -n -- true 2>/dev/null; then
        exec unshare -r -n -- bash "$self" "$@"
    fi
    echo "netns-run: cannot create a private network namespace (unshare -n is not permitted here:" >&2
    echo "netns-run: run as root or allow unprivileged user namespaces). Refusing to run tests" >&2
    echo "netns-run: on the host network." >&2
    exit 1
fi

# Inside the namespace.
if ! command -v ip >/dev/null 2>&1; then
    echo "netns-run: 'ip' not found (Debian: apt-get install iproute2)" >&2
    exit 1
fi
ip link set lo up
exec "$@"
