#!/usr/bin/env bash
# Runs every CriOci test project against the real daemon, registry and kernel, as root.
# Installs what the tests need, builds the executables the end-to-end tests drive, then
# runs each test project and prints the sum as its last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

scripts/install-test-deps.sh || { echo "test: installing test dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
scripts/install-helm.sh >/dev/null || { echo "test: installing helm failed"; echo "0 passed, 1 failed"; exit 1; }
./build.sh || { echo "test: build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
status=0
logs=artifacts/test-logs
mkdir -p "$logs"
for project in $(find tests -name '*.csproj' -not -path '*/TestSupport/*' | sort); do
  name=$(basename "$project" .csproj)
  echo "=== $name"
  dotnet test "$project" -c Release --nologo 2>&1 | tee "$logs/$name.log"
  code=${PIPESTATUS[0]}
  summary=$(grep -E 'Failed:[[:space:]]*[0-9]+, Passed:[[:space:]]*[0-9]+' "$logs/$name.log" | tail -n 1)
  if [ -z "$summary" ]; then
    echo "test: $name ran no tests or its test host crashed (exit $code)"
    failed=$((failed + 1))
    status=1
    continue
  fi
  p=$(sed -E 's/.*Passed:[[:space:]]*([0-9]+).*/\1/' <<<"$summary")
  f=$(sed -E 's/.*Failed:[[:space:]]*([0-9]+).*/\1/' <<<"$summary")
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$code" -ne 0 ]; then
    status=1
    [ "$f" -eq 0 ] && failed=$((failed + 1))
  fi
done
echo "${passed} passed, ${failed} failed"
exit $status
