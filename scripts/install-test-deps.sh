#!/usr/bin/env bash
# Installs the Debian packages that the end-to-end tests (tests/e2e, tests/TestSupport) use.
# Idempotent: packages already installed are checked with dpkg and skipped, so a re-run
# does no network traffic. Must run as root (CI and the dev machines are root).
set -euo pipefail

packages=(
  docker-registry             # /usr/bin/docker-registry: the OCI distribution registry the tests push to
  umoci                       # builds the busybox test images as OCI layouts
  skopeo                      # pushes OCI layouts to the registry (OCI and Docker schema 2 manifests)
  busybox-static              # /bin/busybox: the single static binary the test images are made of
  containernetworking-plugins # CNI bridge/loopback/host-local plugins for pod networking tests
  iproute2                    # ip netns / ip link for network namespace checks
  jq                          # JSON inspection in scripts and diagnostics
  curl                        # manual registry probing when a test fails
  ca-certificates
  apache2-utils               # htpasswd -B: bcrypt entries for the basic-auth registry tests
  oci-image-tool              # validates exported OCI image layouts
  containerd                  # proves crioci-runtime is runc-compatible through containerd's runc shim (ctr)
  runc                        # a peer runtime for benchmarks and RuntimeClass tests
  crun                        # a peer runtime for benchmarks and RuntimeClass tests
  libseccomp2                 # seccomp filters (the runtime loads libseccomp.so.2)
  apparmor                    # apparmor_parser -Q: compiles the crioci-default profile in tests (no AppArmor kernel needed)
  prometheus                  # /usr/bin/prometheus: scrapes the daemon's metrics endpoint (tests/e2e/TelemetryTests)
  golang-go                   # builds the spdystream clients of tests/Streaming.Tests/GoSpdy
  golang-github-docker-spdystream-dev # the SPDY library under kubelet/kubectl/crictl, as a third-party client
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing packages (${missing[*]}) and not root; run as root" >&2
  exit 1
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# docker-registry's package starts a system service on :5000; the tests start their own
# registry on a free port and do not need it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi
