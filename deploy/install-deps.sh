#!/bin/sh
# deploy/install-deps.sh - install the Debian packages Sentinel builds and tests with
#
# Quiet and quick when everything is present: it asks dpkg which packages are
# missing and runs apt-get (update once, then install) only for those.
# Set SENTINEL_DEPS_EXTRA to add packages (the benchmarks add R's surveillance).
set -eu

PACKAGES="build-essential cmake pkg-config git
check libsubunit-dev
libprotobuf-c-dev protobuf-c-compiler
libjansson-dev libyaml-dev libjsmn-dev
libzmq3-dev libsodium-dev zlib1g-dev
librdkafka-dev
libhdf5-dev hdf5-tools
libsqlite3-dev sqlite3
libcurl4-openssl-dev libmicrohttpd-dev
libcairo2-dev
libxml2-utils
python3 python3-h5py python3-pandas python3-aiosmtpd
r-cran-hdf5r
valgrind"

missing=""
for p in $PACKAGES ${SENTINEL_DEPS_EXTRA:-}; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
