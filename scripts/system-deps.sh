#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing and we are root.
# Without root it only says what is missing; the tests that need it then fail with the same advice.
set -euo pipefail

major=15
needed=()
[ -x "/usr/lib/postgresql/$major/bin/postgres" ] || needed+=("postgresql-$major")
[ -f "/usr/share/postgresql/$major/extension/pgtap.control" ] || needed+=("postgresql-$major-pgtap")

if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing Debian packages: ${needed[*]} (install them as root with apt-get)" >&2
  exit 0
fi
echo "system-deps: installing ${needed[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
