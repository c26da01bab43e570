#!/usr/bin/env bash
# Installs what building CriOci needs on Debian 12: a C toolchain and zlib headers for
# NativeAOT's native link step, and libseccomp's static archive (crioci-runtime is linked
# statically). The .NET 10 SDK itself must already be on PATH (Debian 12
# does not package it). Idempotent; installs only what is missing.
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-build-deps: the .NET 10 SDK (dotnet) is not on PATH; install it first" >&2
  exit 1
fi

packages=(gcc libc6-dev zlib1g-dev libseccomp-dev)
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-build-deps: missing ${missing[*]} and not root" >&2
    exit 1
  fi
  echo "install-build-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
