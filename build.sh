#!/usr/bin/env bash
# Builds the three CriOci executables, all NativeAOT, into artifacts/bin/:
#   crioci          the CRI daemon
#   crioci-runtime  the OCI runtime (runc-compatible command line)
#   crioci-monitor  each container's monitor (crioci-runtime monitor execs it; keep them together)
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-build-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=artifacts/bin
mkdir -p "$out"
dotnet publish src/RuntimeCli/RuntimeCli.csproj -c Release -o "$out" -p:DebugType=none -p:DebugSymbols=false --nologo -v quiet
dotnet publish src/MonitorCli/MonitorCli.csproj -c Release -o "$out" -p:DebugType=none -p:DebugSymbols=false --nologo -v quiet
dotnet publish src/CriServer/CriServer.csproj -c Release -o "$out" -p:DebugType=none -p:DebugSymbols=false --nologo -v quiet
# NativeAOT leaves the stripped symbols beside each binary; they are not part of a release.
rm -f "$out"/*.dbg "$out"/*.pdb
echo "build: $(cd "$out" && ls crioci crioci-runtime crioci-monitor | tr '\n' ' ')in $out"
