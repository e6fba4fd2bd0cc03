#!/usr/bin/env bash
# The README's first command: set this host up (packages, libvirt, a network namespace
# of its own for the demo's guest traffic), build Lago, then bring an example
# environment up, run a command in it over SSH and show its status.
#   sudo bash scripts/demo.sh            # leaves the environment running
#   sudo bash scripts/demo.sh --cleanup  # and tears it down at the end
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
netns=${LAGO_DEMO_NETNS:-lago-demo}
demo=${LAGO_DEMO_DIR:-/var/tmp/lago-demo}
prefix="$demo/env"
export OCLIF_SKIP_NEW_VERSION_CHECK=true

say() { printf '\n== %s\n' "$*"; }

say "Host setup (apt packages, libvirt in network namespace $netns)"
LAGO_TEST_NETNS="$netns" bash "$repo/test/harness/host-setup.sh"

say "Build Lago"
cd "$repo"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

say "Guest template (a tiny Debian-kernel guest, cached by recipe hash)"
image=$(bash "$repo/test/harness/build-guest-image.sh" | tail -n 1)
mkdir -p "$demo/repo"
ln -sf "$image" "$demo/repo/tiny.qcow2"
cut -d' ' -f1 "$image.sha256" >"$demo/repo/tiny.qcow2.hash"
cp "$image.metadata" "$demo/repo/tiny.qcow2.metadata"
cat >"$demo/template-repo.json" <<JSON
{"name": "demo", "sources": {"local": {"type": "file", "args": {"root": "$demo/repo"}}},
 "templates": {"tiny": {"versions": {"v1": {"source": "local", "handle": "tiny.qcow2", "timestamp": 1700000000}}}}}
JSON

lago() { ip netns exec "$netns" "$repo/bin/lago" "$@"; }
if [ -d "$prefix" ]; then
  say "Removing the previous demo environment"
  lago --prefix-path "$prefix" cleanup || true
  rm -rf "$prefix"
fi

say "lago init $prefix examples/tiny/LagoInitFile"
lago init "$prefix" "$repo/examples/tiny/LagoInitFile" --template-repo-path "$demo/template-repo.json"
cd "$prefix"
say "lago start"
lago start
say "lago shell vm0 -c 'hostname; uname -r; cat /var/log/boot.log'"
lago shell vm0 -c 'hostname; uname -r; cat /var/log/boot.log'
say "lago status"
lago status

if [ "${1:-}" = "--cleanup" ]; then
  say "lago cleanup"
  lago cleanup
  rm -rf "$prefix"
else
  cat <<EOF2

The environment is running. Its guest traffic stays inside network namespace $netns:
  cd $prefix
  sudo ip netns exec $netns $repo/bin/lago shell vm0      # interactive shell
  sudo ip netns exec $netns $repo/bin/lago cleanup        # tear it down
EOF2
fi
