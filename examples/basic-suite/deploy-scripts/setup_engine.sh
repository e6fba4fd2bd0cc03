#!/bin/sh
# The engine VM: install the packages and leave the logs an engine setup would.
set -eu
lago-install lago-hello lago-tools
mkdir -p /var/log/ovirt-engine/setup
stamp=$(date -u +%Y%m%d%H%M%S)
echo "engine-setup: completed with $(cat /usr/share/lago-hello/origin) lago-hello" >"/var/log/ovirt-engine/setup/ovirt-engine-setup-$stamp.log"
echo "engine started" >/var/log/ovirt-engine/engine.log
