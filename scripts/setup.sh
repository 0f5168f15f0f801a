#!/usr/bin/env bash
# One-step set-up for a fresh Debian / Raspberry Pi OS machine with Node.js >= 20:
# installs the Debian packages Loa needs (when root, or through sudo), then the npm dependencies.
#   scripts/setup.sh        what the demo needs   (then: npm start)
#   scripts/setup.sh test   what the tests need   (then: npm test)
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-demo}"
case "$mode" in
  demo) packages=(ffmpeg espeak-ng openssl tar) ;;
  # test: mosquitto (broker ACL tests), socat (simulated modem on a pty pair), chromium (browser tests),
  # openssl (the province CA), gpiod (the libgpiod tools the relay driver calls), python3 (the watchdog test's
  # stand-in for systemd's notify socket), faketime (npm run test:clock, the suite with the clock a year ahead; and the
  # agent run with its clock ahead, then stepped back while it runs), procps (pgrep: the mic test kit finds its ffmpeg), tar (loa backup and restore).
  test) packages=(ffmpeg espeak-ng openssl tar mosquitto socat chromium gpiod python3 faketime procps) ;;
  *) echo "usage: scripts/setup.sh [demo|test]" >&2; exit 64 ;;
esac

if ! command -v node >/dev/null 2>&1; then
  echo "Loa cần Node.js >= 20 / Loa needs Node.js >= 20 (https://nodejs.org or 'apt-get install nodejs')." >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "Node.js $(node --version) quá cũ / is too old: Loa needs Node.js >= 20." >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = "none" ]; then
    echo "Thiếu gói / missing Debian packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# better-sqlite3 compiles against the local Node headers when no prebuilt binary matches: it needs a toolchain.
if ! command -v make >/dev/null 2>&1 || ! command -v g++ >/dev/null 2>&1; then
  echo "Note: make/g++ not found; if better-sqlite3 has to be compiled, install build-essential python3." >&2
fi

# Build native modules (better-sqlite3) locally against Node's headers instead of trying to fetch a prebuilt binary:
# nothing but npm and Debian packages may be downloaded.
npm_config_build_from_source=true npm ci --no-audit --no-fund
