#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ (with its management plugin, which the
# test fixtures use for throwaway vhosts) are running. Starts them if they are
# installed but down; says how to install them if they are missing.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # port, seconds, name
  for _ in $(seq 1 $(( $2 * 5 ))); do port_open "$1" && return 0; sleep 0.2; done
  echo "$3 did not come up on port $1 within $2 s" >&2; return 1
}

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "Starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    wait_port 5432 30 PostgreSQL
  else
    echo "PostgreSQL is not installed: sudo apt-get install postgresql" >&2; exit 1
  fi
fi

# The tests connect as postgres over 127.0.0.1 without a password (the
# machines this project runs on are set up so). A freshly installed Debian
# cluster asks for one instead; on CI only, allow loopback connections.
if [ "${CI:-}" = "true" ] && command -v psql >/dev/null 2>&1 \
    && ! psql -h 127.0.0.1 -U postgres -w -c 'select 1' >/dev/null 2>&1; then
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -1)
  echo "Allowing passwordless loopback connections to PostgreSQL for CI ($hba)"
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main reload
fi

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    echo "Starting RabbitMQ…"
    rabbitmq-server -detached
    wait_port 5672 60 RabbitMQ
  else
    echo "RabbitMQ is not installed: sudo apt-get install rabbitmq-server" >&2; exit 1
  fi
fi

if ! port_open 15672; then
  rabbitmq-plugins enable rabbitmq_management >/dev/null
  wait_port 15672 60 "RabbitMQ management"
fi
