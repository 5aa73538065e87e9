#!/usr/bin/env bash
# Removes the AkkaLake daemon and its binaries. The lake's data is left in place.
#   sudo deploy/uninstall.sh [--dry-run] [--prefix DIR]
set -euo pipefail

label=com.farmdashboard.akkalake
prefix=/usr/local/akkalake
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --prefix) prefix=$2; shift ;;
    *) echo "uninstall.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
run() {
  if [ "$dry_run" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}

# SIGTERM lets a commit under way finish; the lake stays consistent.
run launchctl bootout "system/$label" || true
run rm -f "/Library/LaunchDaemons/$label.plist"
run rm -rf "$prefix"
echo "AkkaLake is uninstalled. The lake and its logs were left where they are."
