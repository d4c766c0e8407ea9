#!/usr/bin/env bash
# Debian packages the test harness starts on 127.0.0.1: PostgreSQL, Redis, Ceph (mon, osd,
# radosgw) and nginx (in front of Satchel, X-Accel-Redirect), and the browser the web UI is
# tested in (Chromium, driven by Playwright). Installs only what is missing, so a second run costs nothing. Run as root (CI is).
set -euo pipefail

# package -> a file it installs (present means installed)
declare -A PACKAGES=(
  [postgresql]=/usr/lib/postgresql
  [redis-server]=/usr/bin/redis-server
  [ceph-mon]=/usr/bin/ceph-mon
  [ceph-osd]=/usr/bin/ceph-osd
  [radosgw]=/usr/bin/radosgw
  [nginx-light]=/usr/sbin/nginx
  [curl]=/usr/bin/curl
  [chromium]=/usr/bin/chromium
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu
)

missing=()
for package in "${!PACKAGES[@]}"; do
  [ -e "${PACKAGES[$package]}" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
