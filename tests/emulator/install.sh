#!/usr/bin/env bash
# Installs what the local RDS IAM emulator needs (Debian/Ubuntu, as root), and nothing that is
# already there: PostgreSQL, MariaDB (with its auth_pam plugin) and pam_script, plus the headers
# mysqlclient builds against.
# Idempotent; called by .ci/run and by `nox -s demo` when packages are missing.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

pg_ok=0
for bin in /usr/lib/postgresql/*/bin/initdb; do [ -x "$bin" ] && pg_ok=1; done
[ "$pg_ok" = 1 ] || missing+=(postgresql)
# auth_pam.so ships in mariadb-server, not -core: without it --pam-use-cleartext-plugin is refused.
have_pkg mariadb-server || missing+=(mariadb-server)
have_pkg libpam-script || missing+=(libpam-script)
have_pkg python3 || missing+=(python3)
have_pkg openssl || missing+=(openssl)
# mysqlclient (driver="mysqlclient") builds against MariaDB Connector/C with pkg-config and gcc.
have_pkg default-libmysqlclient-dev || missing+=(default-libmysqlclient-dev)
have_pkg pkg-config || missing+=(pkg-config)
have_pkg gcc || missing+=(gcc)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install.sh: need root to install: ${missing[*]}" >&2
    exit 2
  fi
  if ! command -v apt-get >/dev/null; then
    echo "install.sh: no apt-get; install by hand: ${missing[*]}" >&2
    exit 2
  fi
  echo "install.sh: installing ${missing[*]}"
  apt-get update -qq
  # apt does not start services here (policy-rc.d); the harness starts its own servers.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pam_script must never join the system's PAM stack (it would run for every login).
if command -v pam-auth-update >/dev/null && [ -e /usr/share/pam-configs/pam_script ]; then
  if grep -q pam_script /etc/pam.d/common-auth 2>/dev/null; then
    pam-auth-update --package --remove pam_script
  fi
fi

echo "install.sh: emulator packages present"
