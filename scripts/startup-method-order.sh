#!/usr/bin/env bash
# Regenerates src/CriServer/StartupMethods.order: the managed methods the crioci daemon calls, in
# the order of their first call. The daemon's csproj hands the file to the AOT compiler, which
# lays those methods out first and together (see CriServer.csproj for why).
#
# usage: scripts/startup-method-order.sh [--workload]
#   (default)   from exec until the daemon listens, idle
#   --workload  through `bench cri --short` (start-up, a pull, pods with and without network,
#               containers, ExecSync): what a working node's daemon has touched. Needs the bench's
#               peers and registry; takes the bench lock like every benchmark run.
# Run as root after changes to what the daemon runs; stale names are harmless, only less useful.
set -euo pipefail
cd "$(dirname "$0")/.."
workload=false
[[ "${1:-}" == "--workload" ]] && workload=true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Published with its symbols (crioci.dbg), and without the current order so the file reflects
# nothing but what the daemon calls.
dotnet publish src/CriServer/CriServer.csproj -c Release -o "$work/bin" -p:IlcOrderFile= --nologo -v quiet
cc -O2 -Wall -o "$work/first-call-tracer" scripts/startup-method-order/first-call-tracer.c

# Entry points of the managed code, sorted by address (zero-padded hex sorts as text).
objdump -t "$work/bin/crioci.dbg" | awk '$3 == "F" && $4 == "__managedcode" { print $1, $6 }' | sort -u -k1,1 > "$work/symbols"
cut -d' ' -f1 "$work/symbols" > "$work/entries"
read -r vaddr offset < <(readelf -SW "$work/bin/crioci" | awk '$2 == "__managedcode" { print $4, $5 }')

if $workload; then
    # The bench starts "the daemon" with its own flags: give it the tracer wrapped around it, with
    # the helper binaries beside it as the daemon expects.
    mv "$work/bin/crioci" "$work/bin/crioci.traced"
    cp artifacts/bin/crioci-runtime artifacts/bin/crioci-monitor "$work/bin/"
    printf '#!/bin/sh\nexec %q %q %q %s %s 900 %q %q "$@"\n' "$work/first-call-tracer" "$work/entries" \
        "$work/bin/crioci.traced" "$vaddr" "$offset" "$work/hits" "$work/bin/crioci.traced" > "$work/bin/crioci"
    chmod +x "$work/bin/crioci"
    flock /tmp/crioci-bench.lock dotnet run --project bench -c Release -- cri --short --peers containerd-crun --daemon "$work/bin/crioci"
else
    mkdir -p "$work/run/cni"
    "$work/first-call-tracer" "$work/entries" "$work/bin/crioci" "$vaddr" "$offset" 10 "$work/hits" \
        "$work/bin/crioci" --socket "$work/run/crioci.sock" --root "$work/run/root" --state "$work/run/state" \
        --cni-conf-dir "$work/run/cni" --metrics-address= --log-level warning
    [[ -S "$work/run/crioci.sock" ]] || { echo "startup-method-order: the daemon never listened" >&2; exit 1; }
fi

# Hits in first-call order, by name.
awk 'NR == FNR { name[$1] = $2; next } { print name[$1] }' "$work/symbols" "$work/hits" > src/CriServer/StartupMethods.order
echo "startup-method-order: $(wc -l < src/CriServer/StartupMethods.order) methods in src/CriServer/StartupMethods.order"
