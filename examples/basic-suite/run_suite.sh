#!/usr/bin/env bash
# Runs the basic suite end to end, as ovirt-system-tests' run_suite.sh drove Lago:
# init -> ovirt reposetup -> ovirt start -> ovirt deploy -> per scenario: ovirt runtest +
# ovirt collect. The environment stays up afterwards (lago cleanup / destroy removes it).
#
# With GOLDEN=NAME[:VERSION] it starts from a golden environment instead (lago init --from;
# no reposetup, no deploy: the provisioning is in the frozen disks); with FREEZE=NAME it
# freezes the deployed environment as NAME before the scenarios run (guests restart).
#
# Usage: run_suite.sh [PREFIX]          (default: ./deployment-basic-suite)
# Environment:
#   GOLDEN          start from this golden environment (skips upstream, reposetup, deploy)
#   FREEZE          freeze the deployed environment under this name (lago freeze)
#   LAGO            the lago command (default: lago; in a checkout: bin/lago)
#   TEMPLATE_REPO   template repository JSON (default: one for the tiny test guest, built
#                   with test/harness/build-guest-image.sh)
#   UPSTREAM_PORT   loopback port of the stand-in upstream yum repository (default 8586)
#   LAGO__OVIRT__REPOSYNC_DIR  host-wide reposync cache (default /var/lib/lago/reposync)
# Guest traffic: run it where the guests are reachable (here: ip netns exec lago-test ...).
set -euo pipefail

SUITE=$(cd "$(dirname "$0")" && pwd)
PREFIX=$(realpath -m "${1:-$PWD/deployment-basic-suite}")
LAGO=${LAGO:-lago}
UPSTREAM_PORT=${UPSTREAM_PORT:-8586}
WORK="$PREFIX.suite"  # rendered files and the stand-in upstream repository

say() { printf '\n== %s\n' "$*"; }
lago() { "$LAGO" "$@"; }

render() { sed -e "s|@SUITE@|$SUITE|g" -e "s|@UPSTREAM_PORT@|$UPSTREAM_PORT|g" "$1" >"$2"; }

# The stand-in for oVirt's release repository: RPMs built from upstream/*.spec, served on loopback.
serve_upstream() {
	rm -rf "$WORK/upstream"
	mkdir -p "$WORK/upstream/repo"
	for spec in "$SUITE"/upstream/*.spec; do
		rpmbuild -bb --quiet --define "_topdir $WORK/upstream/build" --define "_rpmdir $WORK/upstream/repo" "$spec" >/dev/null
	done
	createrepo_c -q "$WORK/upstream/repo"
	python3 -m http.server "$UPSTREAM_PORT" --bind 127.0.0.1 --directory "$WORK/upstream/repo" >"$WORK/upstream/access.log" 2>&1 &
	UPSTREAM_PID=$!
	trap 'kill "$UPSTREAM_PID" 2>/dev/null || true' EXIT
	for _ in $(seq 50); do
		python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$UPSTREAM_PORT/repodata/repomd.xml')" 2>/dev/null && return
		sleep 0.1
	done
	echo "the upstream repository did not come up on 127.0.0.1:$UPSTREAM_PORT" >&2
	exit 1
}

tiny_template_repo() {
	local image
	image=$(bash "$SUITE/../../test/harness/build-guest-image.sh" | tail -n 1)
	mkdir -p "$WORK/templates"
	ln -sf "$image" "$WORK/templates/tiny.qcow2"
	cut -d' ' -f1 "$image.sha256" >"$WORK/templates/tiny.qcow2.hash"
	cp "$image.metadata" "$WORK/templates/tiny.qcow2.metadata"
	render "$SUITE/template-repo.json" "$WORK/template-repo.json"
	sed -i "s|@TEMPLATES@|$WORK/templates|g" "$WORK/template-repo.json"
	echo "$WORK/template-repo.json"
}

provision() {
	mkdir -p "$WORK"
	render "$SUITE/LagoInitFile.in" "$WORK/LagoInitFile"
	render "$SUITE/reposync-config.repo" "$WORK/reposync-config.repo"

	say "upstream repository on 127.0.0.1:$UPSTREAM_PORT"
	serve_upstream

	say "lago init $PREFIX"
	lago init "$PREFIX" "$WORK/LagoInitFile" --template-repo-path "${TEMPLATE_REPO:-$(tiny_template_repo)}"
	cd "$PREFIX"

	say "lago ovirt reposetup"
	lago ovirt reposetup --reposync-yum-config "$WORK/reposync-config.repo" --build "$SUITE/build/lago-hello.spec"

	say "lago ovirt start"
	lago ovirt start

	say "lago ovirt deploy"
	if ! lago ovirt deploy; then
		lago ovirt collect --output "$PREFIX/test_logs/deploy" || true
		exit 1
	fi

	if [ -n "${FREEZE:-}" ]; then
		say "lago freeze $FREEZE"
		lago freeze "$FREEZE"
	fi
}

if [ -n "${GOLDEN:-}" ]; then
	say "lago init $PREFIX --from $GOLDEN"
	lago init "$PREFIX" --from "$GOLDEN"
	cd "$PREFIX"
	say "lago ovirt start"
	lago ovirt start
else
	provision
fi

status=0
for scenario in "$SUITE"/test-scenarios/[0-9][0-9][0-9]_*; do
	name=$(basename "$scenario")
	say "lago ovirt runtest $name"
	lago ovirt runtest "$scenario" --junitxml-file "$PREFIX/$name.junit.xml" || status=$?
	lago ovirt collect --output "$PREFIX/test_logs/post-$name"
	[ "$status" -eq 0 ] || break
done
exit "$status"
