# shellcheck shell=bash
# Sourced by scripts/backup.sh and scripts/restore.sh.
# Runs a PostgreSQL client on the database a URL names (SQLAlchemy's "+driver" dropped; its
# password, percent-decoded, in PGPASSWORD): on_db URL COMMAND [ARGS...]
on_db() {
  local url=$1 command=$2 password=""
  shift 2
  if [[ $url =~ ^[a-z0-9+]+://([^:@/]*):([^@/]*)@(.*)$ ]]; then
    password=$(printf '%b' "${BASH_REMATCH[2]//%/\\x}")
    url="postgresql://${BASH_REMATCH[1]}@${BASH_REMATCH[3]}"
  else
    url="postgresql://${url#*://}"
  fi
  if [ -n "$password" ]; then
    PGPASSWORD=$password "$command" --dbname="$url" "$@"
  else
    "$command" --dbname="$url" "$@"
  fi
}
