#!/bin/sh
set -e
mkdir -p /var/log/ovirt-engine/setup
echo "engine-setup done" >/var/log/ovirt-engine/setup/ovirt-engine-setup-20151029122052-7g9q2k.log
echo "engine" >/var/log/ovirt-engine/engine.log
