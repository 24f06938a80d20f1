#!/usr/bin/env bash
# A backup of the production mode (README, *Production* > *Backups*): its two PostgreSQL databases,
# the program's records and messages (DATABASE_URL) and Rasa's tracker store
# (TRACKER_DATABASE_URL), each dumped with `pg_dump --format=custom` (a consistent snapshot of that
# database, taken while the program runs), into one new folder readable only by this user:
#
#   scripts/backup.sh [FOLDER]    default: $BACKUP_DIR/<UTC time>, BACKUP_DIR=var/backups
#
# It writes program.dump, tracker.dump and SHA256SUMS and prints the folder; without FOLDER it
# then deletes the dated folders in BACKUP_DIR older than BACKUP_KEEP_DAYS (7; 0 keeps all): the
# dumps hold personal data. scripts/restore.sh puts a folder back. Passwords in the URLs go to pg_dump through
# PGPASSWORD, never on a command line, and nothing here prints a URL.
set -euo pipefail
umask 077
: "${DATABASE_URL:?the PostgreSQL database of the program}"
: "${TRACKER_DATABASE_URL:?the tracker store of Rasa (PostgreSQL)}"
BACKUP_DIR=${BACKUP_DIR:-var/backups}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-7}

source "$(dirname "$0")/pg_url.sh"  # on_db URL COMMAND [ARGS...]

folder=${1:-$BACKUP_DIR/$(date -u +%Y-%m-%dT%H%M%SZ)}
mkdir -p "$folder"
if [ -n "$(ls -A "$folder")" ]; then
  echo "backup: $folder is not empty; give a new folder" >&2
  exit 2
fi
on_db "$DATABASE_URL" pg_dump --format=custom --file="$folder/program.dump"
on_db "$TRACKER_DATABASE_URL" pg_dump --format=custom --file="$folder/tracker.dump"
(cd "$folder" && sha256sum program.dump tracker.dump > SHA256SUMS)
echo "$folder"

if [ -z "${1:-}" ] && [ "$BACKUP_KEEP_DAYS" -gt 0 ]; then
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '????-??-??T*Z' \
    -mtime "+$((BACKUP_KEEP_DAYS - 1))" -exec rm -rf -- {} +
fi
