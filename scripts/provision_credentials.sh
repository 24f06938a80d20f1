#!/usr/bin/env bash
# Private credentials for `make production` on this machine's PostgreSQL (127.0.0.1:5432), RabbitMQ
# (5672) and Redis (6379), where the services trust local connections and this runs as root:
#
#   PostgreSQL  a role `pp` with a random password, owning the databases pequeno_productor and
#               pequeno_productor_tracker (created when missing; when an earlier run made them as
#               the superuser, their tables become pp's)
#   RabbitMQ    a user `pp` with a random password and the vhost `pp` (rabbitmqctl); skipped, with
#               a message, when rabbitmqctl is not usable
#   Redis       an ACL user `pp` with a random password (redis-cli ACL SETUSER); skipped, with a
#               message, when redis-cli cannot reach Redis
#
# The URLs built from them are written once to FILE (default var/production.credentials.env,
# mode 600; var/ is git-ignored), as NAME=value lines: DATABASE_URL, TRACKER_DATABASE_URL,
# RABBITMQ_URL, REDIS_URL. scripts/production.sh runs this and takes from FILE what the
# environment leaves unset, so the processes start with credentials of their own (their check:
# bot/messaging/credentials.py) and without ALLOW_LOCAL_CREDENTIALS.
#
# Idempotent: a second run reuses the passwords in FILE and applies them again (a Redis restart
# forgets its ACL users; a role or user changed by hand is set back). Passwords never go on a
# command line (psql, rabbitmqctl and redis-cli read them from stdin) nor to the terminal.
#
#   scripts/provision_credentials.sh [FILE]
#
# Settings: PP_POSTGRES_ADMIN_URL [postgresql://postgres@127.0.0.1:5432/postgres] (the
# superuser, over trust), PP_DATABASES ["pequeno_productor pequeno_productor_tracker"].
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=${1:-var/production.credentials.env}
USER_NAME=pp
VHOST=pp
ADMIN_URL=${PP_POSTGRES_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
read -r -a DATABASES <<<"${PP_DATABASES:-pequeno_productor pequeno_productor_tracker}"
PG_HOST=127.0.0.1:5432 RABBIT_HOST=127.0.0.1:5672 REDIS_HOST=127.0.0.1 REDIS_PORT=6379 REDIS_DB=1

mkdir -p "$(dirname "$FILE")"
umask 077

new_password() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The password of a URL kept in FILE (NAME=scheme://pp:<hex>@...), or nothing.
kept() {
  [ -f "$FILE" ] || return 0
  sed -n "s|^$1=[a-z]*://$USER_NAME:\([0-9a-f]\{16,\}\)@.*|\1|p" "$FILE" | tail -n 1
}

declare -A URLS=()

# -- PostgreSQL ---------------------------------------------------------------------------------
psql_admin() { psql "$1" -v ON_ERROR_STOP=1 -qAtX >/dev/null; }
if ! echo 'SELECT 1' | psql_admin "$ADMIN_URL" 2>/dev/null; then
  echo "provision: PostgreSQL is not reachable as its superuser (PP_POSTGRES_ADMIN_URL, default" \
    "postgresql://postgres@127.0.0.1:5432/postgres over trust): no credentials made." >&2
  exit 1
fi
pg_password=$(kept DATABASE_URL)
pg_password=${pg_password:-$(new_password)}
psql_admin "$ADMIN_URL" <<SQL
SELECT format('CREATE ROLE %I LOGIN', '$USER_NAME')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$USER_NAME') \gexec
ALTER ROLE "$USER_NAME" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$pg_password';
SQL
for db in "${DATABASES[@]}"; do
  psql_admin "$ADMIN_URL" <<SQL
SELECT format('CREATE DATABASE %I OWNER %I', '$db', '$USER_NAME')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$db') \gexec
ALTER DATABASE "$db" OWNER TO "$USER_NAME";
SQL
  # A database an earlier `make production` made as the superuser: its tables, sequences,
  # views and types become pp's (a table's own sequences move with it).
  psql_admin "${ADMIN_URL%/*}/$db" <<SQL
GRANT ALL ON SCHEMA public TO "$USER_NAME";
DO \$\$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT c.oid::regclass AS name,
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relowner <> '$USER_NAME'::regrole
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', item.kind, item.name, '$USER_NAME');
  END LOOP;
  FOR item IN
    SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> '$USER_NAME'::regrole
  LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', item.name, '$USER_NAME');
  END LOOP;
  FOR item IN
    SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND t.typowner <> '$USER_NAME'::regrole
  LOOP
    EXECUTE format('ALTER TYPE %s OWNER TO %I', item.name, '$USER_NAME');
  END LOOP;
END
\$\$;
SQL
done
URLS[DATABASE_URL]="postgresql://$USER_NAME:$pg_password@$PG_HOST/${DATABASES[0]}"
URLS[TRACKER_DATABASE_URL]="postgresql://$USER_NAME:$pg_password@$PG_HOST/${DATABASES[1]:-${DATABASES[0]}}"
echo "provision: PostgreSQL role $USER_NAME owns ${DATABASES[*]}."

# -- RabbitMQ -----------------------------------------------------------------------------------
if command -v rabbitmqctl >/dev/null && rabbitmqctl -q list_vhosts >/dev/null 2>&1; then
  mq_password=$(kept RABBITMQ_URL)
  mq_password=${mq_password:-$(new_password)}
  # (grep -x >/dev/null, not -q: under pipefail an early exit would fail the pipe)
  if rabbitmqctl -q list_users | awk '{print $1}' | grep -x "$USER_NAME" >/dev/null; then
    echo "$mq_password" | rabbitmqctl -q change_password "$USER_NAME" >/dev/null
  else
    echo "$mq_password" | rabbitmqctl -q add_user "$USER_NAME" >/dev/null
  fi
  rabbitmqctl -q list_vhosts | grep -x "$VHOST" >/dev/null || rabbitmqctl -q add_vhost "$VHOST" >/dev/null
  rabbitmqctl -q set_permissions -p "$VHOST" "$USER_NAME" '.*' '.*' '.*' >/dev/null
  URLS[RABBITMQ_URL]="amqp://$USER_NAME:$mq_password@$RABBIT_HOST/$VHOST"
  echo "provision: RabbitMQ user $USER_NAME on vhost $VHOST."
else
  echo "provision: rabbitmqctl is not usable here (not installed, or not allowed to reach the node):" \
    "no RabbitMQ user made. Set RABBITMQ_URL to a user of its own (amqp://user:password@host/vhost)," \
    "or ALLOW_LOCAL_CREDENTIALS=1 to run on guest." >&2
fi

# -- Redis --------------------------------------------------------------------------------------
redis_cli() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"; }
if command -v redis-cli >/dev/null && [ "$(redis_cli ping 2>/dev/null)" = PONG ]; then
  redis_password=$(kept REDIS_URL)
  redis_password=${redis_password:-$(new_password)}
  answer=$(printf 'ACL SETUSER %s reset on >%s ~* &* +@all\n' "$USER_NAME" "$redis_password" | redis_cli)
  if [ "$answer" != OK ]; then
    echo "provision: Redis refused ACL SETUSER $USER_NAME (Redis 6 or later is needed)." >&2
    exit 1
  fi
  URLS[REDIS_URL]="redis://$USER_NAME:$redis_password@$REDIS_HOST:$REDIS_PORT/$REDIS_DB"
  echo "provision: Redis ACL user $USER_NAME."
else
  echo "provision: Redis is not reachable with redis-cli at $REDIS_HOST:$REDIS_PORT: no Redis user" \
    "made. Set REDIS_URL with a password (redis://user:password@host:6379/1)." >&2
fi

# -- the file -----------------------------------------------------------------------------------
# Rewritten whole (mode 600) with the same passwords: a service provisioned only now is added.
{
  echo "# Private credentials of \`make production\` on this machine, made by"
  echo "# scripts/provision_credentials.sh. Never commit or share this file."
  for name in DATABASE_URL TRACKER_DATABASE_URL RABBITMQ_URL REDIS_URL; do
    if [ -n "${URLS[$name]:-}" ]; then
      echo "$name=${URLS[$name]}"
    elif [ -f "$FILE" ]; then
      grep "^$name=" "$FILE" | tail -n 1 || true
    fi
  done
} >"$FILE.new"
chmod 600 "$FILE.new"
mv "$FILE.new" "$FILE"
echo "provision: credentials in $FILE."
