#!/bin/sh
# A host VM: install the packages and leave the logs vdsm would.
set -eu
lago-install lago-hello
mkdir -p /var/log/vdsm
echo "vdsm started on $(hostname)" >/var/log/vdsm/vdsm.log
echo "supervdsm started" >/var/log/vdsm/supervdsm.log
