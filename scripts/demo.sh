#!/usr/bin/env bash
# The README's first command: set this host up (packages, libvirt, a network namespace
# of its own for the demo's guest traffic), build Lago, then bring an example
# environment up, run a command in it over SSH and show its status.
#   bash scripts/demo.sh            # leaves the environment running
#   bash scripts/demo.sh --cleanup  # and tears it down at the end
# Run it as root, or as a user with sudo: host setup, the guest image cache and the lago
# commands (inside the namespace) run as root, the build as you.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
netns=${LAGO_DEMO_NETNS:-lago-demo}
demo=${LAGO_DEMO_DIR:-/var/tmp/lago-demo}
prefix="$demo/env"
export OCLIF_SKIP_NEW_VERSION_CHECK=true

say() { printf '\n== %s\n' "$*"; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo --preserve-env=OCLIF_SKIP_NEW_VERSION_CHECK,LAGO_DEMO_NETNS,LAGO_DEMO_DIR,LAGO_TEST_CACHE "$@"
  else
    echo "demo: host setup and libvirt need root: run this as root, or install sudo" >&2
    exit 1
  fi
}

say "Host setup (apt packages, libvirt in network namespace $netns)"
as_root env LAGO_TEST_NETNS="$netns" bash "$repo/test/harness/host-setup.sh"

say "Build Lago"
cd "$repo"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

say "Guest template (a tiny Debian-kernel guest, cached by recipe hash)"
image=$(as_root bash "$repo/test/harness/build-guest-image.sh" | tail -n 1)
as_root mkdir -p "$demo/repo"
as_root ln -sf "$image" "$demo/repo/tiny.qcow2"
cut -d' ' -f1 "$image.sha256" | as_root tee "$demo/repo/tiny.qcow2.hash" >/dev/null
as_root cp "$image.metadata" "$demo/repo/tiny.qcow2.metadata"
as_root tee "$demo/template-repo.json" >/dev/null <<JSON
{"name": "demo", "sources": {"local": {"type": "file", "args": {"root": "$demo/repo"}}},
 "templates": {"tiny": {"versions": {"v1": {"source": "local", "handle": "tiny.qcow2", "timestamp": 1700000000}}}}}
JSON

lago() { as_root ip netns exec "$netns" "$repo/bin/lago" "$@"; }
if [ -d "$prefix" ]; then
  say "Removing the previous demo environment"
  lago --prefix-path "$prefix" cleanup || true
  as_root rm -rf "$prefix"
fi

say "lago init $prefix examples/tiny/LagoInitFile"
lago init "$prefix" "$repo/examples/tiny/LagoInitFile" --template-repo-path "$demo/template-repo.json"
say "lago start"
lago start --prefix-path "$prefix"
say "lago shell vm0 -c 'hostname; uname -r; cat /var/log/boot.log'"
lago shell --prefix-path "$prefix" vm0 -c 'hostname; uname -r; cat /var/log/boot.log'
say "lago status"
lago status --prefix-path "$prefix"

if [ "${1:-}" = "--cleanup" ]; then
  say "lago cleanup"
  lago cleanup --prefix-path "$prefix"
  as_root rm -rf "$prefix"
else
  cat <<EOF2

The environment is running. Its guest traffic stays inside network namespace $netns:
  cd $prefix
  ip netns exec $netns $repo/bin/lago shell vm0      # interactive shell (as root)
  ip netns exec $netns $repo/bin/lago cleanup        # tear it down (as root)
EOF2
fi
