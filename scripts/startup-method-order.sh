#!/usr/bin/env bash
# Regenerates src/CriServer/StartupMethods.order: the managed methods the crioci daemon calls from
# exec until it listens idle, in the order of their first call. The daemon's csproj hands the file
# to the AOT compiler, which lays those methods out first and together (see CriServer.csproj).
# Run as root after changes to the daemon's start-up; stale names are harmless, only less useful.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Published with its symbols (crioci.dbg), and without the current order so the file reflects
# nothing but what start-up calls.
dotnet publish src/CriServer/CriServer.csproj -c Release -o "$work/bin" -p:IlcOrderFile= --nologo -v quiet
cc -O2 -Wall -o "$work/first-call-tracer" scripts/startup-method-order/first-call-tracer.c

# Entry points of the managed code, sorted by address (zero-padded hex sorts as text).
objdump -t "$work/bin/crioci.dbg" | awk '$3 == "F" && $4 == "__managedcode" { print $1, $6 }' | sort -u -k1,1 > "$work/symbols"
cut -d' ' -f1 "$work/symbols" > "$work/entries"
read -r vaddr offset < <(readelf -SW "$work/bin/crioci" | awk '$2 == "__managedcode" { print $4, $5 }')

mkdir -p "$work/run/cni"
"$work/first-call-tracer" "$work/entries" "$work/bin/crioci" "$vaddr" "$offset" 10 "$work/hits" \
    "$work/bin/crioci" --socket "$work/run/crioci.sock" --root "$work/run/root" --state "$work/run/state" \
    --cni-conf-dir "$work/run/cni" --metrics-address= --log-level warning
[[ -S "$work/run/crioci.sock" ]] || { echo "startup-method-order: the daemon never listened" >&2; exit 1; }

# Hits in first-call order, by name.
awk 'NR == FNR { name[$1] = $2; next } { print name[$1] }' "$work/symbols" "$work/hits" > src/CriServer/StartupMethods.order
echo "startup-method-order: $(wc -l < src/CriServer/StartupMethods.order) methods in src/CriServer/StartupMethods.order"
