#!/usr/bin/env bash
# Puts a folder made by scripts/backup.sh back (README, *Production* > *Backups*): program.dump
# into the database DATABASE_URL names, tracker.dump into TRACKER_DATABASE_URL's:
#
#   scripts/restore.sh FOLDER [--replace]
#
# Create the two databases first (empty, e.g. `createdb -O pp pequeno_productor_new`) and run this
# as the role the program connects with: what is restored is owned by the URL's role (the dump's
# owners and grants are left out). It checks SHA256SUMS, refuses a database that already has a
# table (--replace drops and recreates what the dumps hold instead), restores each dump in one
# transaction (all or nothing), analyzes, and prints the program database's Alembic revision.
# Passwords in the URLs go through PGPASSWORD, never on a command line; no URL is printed.
set -euo pipefail
usage="usage: scripts/restore.sh FOLDER [--replace]"
folder=${1:?$usage}
replace=${2:-}
[ -z "$replace" ] || [ "$replace" = --replace ] || { echo "$usage" >&2; exit 2; }
: "${DATABASE_URL:?the database to restore the program records into}"
: "${TRACKER_DATABASE_URL:?the database to restore the tracker store of Rasa into}"

source "$(dirname "$0")/pg_url.sh"  # on_db URL COMMAND [ARGS...]
sql() { on_db "$1" psql -X --no-psqlrc -q -At -v ON_ERROR_STOP=1 -c "$2"; }

(cd "$folder" && sha256sum --check --quiet SHA256SUMS)
relations="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'"
for name in DATABASE_URL TRACKER_DATABASE_URL; do
  if [ -z "$replace" ] && [ "$(sql "${!name}" "$relations")" != 0 ]; then
    echo "restore: the database $name names is not empty; restore into a new one, or add --replace" >&2
    exit 3
  fi
done

options=(--no-owner --no-privileges --exit-on-error --single-transaction)
[ -z "$replace" ] || options+=(--clean --if-exists)
on_db "$DATABASE_URL" pg_restore "${options[@]}" "$folder/program.dump"
on_db "$TRACKER_DATABASE_URL" pg_restore "${options[@]}" "$folder/tracker.dump"
sql "$DATABASE_URL" "ANALYZE"
sql "$TRACKER_DATABASE_URL" "ANALYZE"
echo "restored $folder; program database at Alembic revision" \
  "$(sql "$DATABASE_URL" "SELECT string_agg(version_num, ',') FROM alembic_version")"
