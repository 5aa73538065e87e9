#!/usr/bin/env bash
# Installs AkkaLake as a launchd daemon on the controller (macOS, Apple silicon).
#   sudo deploy/install.sh [--dry-run] [--data-root DIR] [--user NAME] [--prefix DIR]
# --dry-run prints every step instead of doing it, and works on any OS.
set -euo pipefail

label=com.farmdashboard.akkalake
data_root=/Users/Shared/FarmDashboard
user=_farmdashboard
prefix=/usr/local/akkalake
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --data-root) data_root=$2; shift ;;
    --user) user=$2; shift ;;
    --prefix) prefix=$2; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/.." && pwd)
plist=/Library/LaunchDaemons/$label.plist
run() {
  if [ "$dry_run" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}

if [ "$dry_run" = 0 ]; then
  [ "$(uname -s)" = Darwin ] || { echo "install.sh installs a launchd daemon and needs macOS; use --dry-run to see the steps" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "install.sh needs root (sudo)" >&2; exit 1; }
  id "$user" >/dev/null 2>&1 || { echo "the service user $user does not exist" >&2; exit 1; }
fi

echo "Installing AkkaLake: binaries in $prefix, data under $data_root, running as $user"

# 1. A self-contained build: the controller needs no .NET installed.
run dotnet publish "$repo/src/AkkaLake/AkkaLake.csproj" -c Release -r osx-arm64 --self-contained true -o "$prefix"

# 2. The lake's directories, owned by the service user: directories 0750; state files are written 0600 by AkkaLake itself.
for dir in "$data_root/storage/analysis/lake/hot/_state" "$data_root/storage/analysis/tmp" "$data_root/logs"; do
  run mkdir -p "$dir"
done
run chown -R "$user" "$data_root/storage/analysis" "$data_root/logs"
run chmod 0750 "$data_root/storage/analysis" "$data_root/storage/analysis/lake" "$data_root/storage/analysis/lake/hot" \
  "$data_root/storage/analysis/lake/hot/_state" "$data_root/storage/analysis/tmp" "$data_root/logs"

# 3. The launchd job, with this installation's paths.
rendered=$(sed -e "s|@PREFIX@|$prefix|g" -e "s|@DATA_ROOT@|$data_root|g" -e "s|@USER@|$user|g" "$repo/deploy/$label.plist")
if [ "$dry_run" = 1 ]; then
  printf '+ write %s:\n%s\n' "$plist" "$rendered"
else
  printf '%s\n' "$rendered" > "$plist"
fi
run chown root:wheel "$plist"
run chmod 0644 "$plist"
run plutil -lint "$plist"

# 4. (Re)start it.
run launchctl bootout "system/$label" || true
run launchctl bootstrap system "$plist"
run launchctl enable "system/$label"
echo "Done. Logs: $data_root/logs (akkalake-YYYYMMDD.json, akkalake.out.log); state: 'akkalake inspect'."
