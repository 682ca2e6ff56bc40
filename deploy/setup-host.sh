#!/bin/sh
# deploy/setup-host.sh - prepare a host to run Sentinel daemons under systemd
#
# Creates the `sentinel` system user, /etc/sentinel (configs and keys,
# readable only by that user), installs the binary and the units. Run as
# root from a built source tree: deploy/setup-host.sh [build-dir]
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
id sentinel >/dev/null 2>&1 ||
    useradd --system --home-dir /var/lib/sentinel --shell /usr/sbin/nologin sentinel
install -m 0755 "$build/bin/sentinel" /usr/local/bin/sentinel
install -d -m 0750 -o root -g sentinel /etc/sentinel
install -d -m 0700 -o sentinel -g sentinel /etc/sentinel/keys
for f in collector.yaml sentinel.yaml alerting.yaml; do
    [ -f "/etc/sentinel/$f" ] || [ ! -f "$here/$f" ] ||
        install -m 0640 -o root -g sentinel "$here/$f" "/etc/sentinel/$f"
done
install -m 0644 "$here"/systemd/sentinel-*.service /etc/systemd/system/
systemctl daemon-reload 2>/dev/null || true
echo "setup-host: now write keys with 'sentinel keygen' (see docs/operators.md)"
