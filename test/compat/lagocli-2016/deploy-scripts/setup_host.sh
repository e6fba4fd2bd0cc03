#!/bin/sh
set -e
mkdir -p /var/log/vdsm
echo "vdsm" >/var/log/vdsm/vdsm.log
