#!/bin/sh
# Every VM: fetch the internal repository's metadata from "lago ovirt deploy"'s server and
# leave the logs oVirt would.
set -eu
baseurl=$(sed -n 's/^baseurl=//p' /etc/yum.repos.d/lago-internal.repo)
wget -q -O /root/repomd.xml "${baseurl}repodata/repomd.xml"
mkdir -p /var/log/ovirt-engine /var/log/vdsm
echo "deployed $(hostname)" >/root/deployed
echo "engine log" >/var/log/ovirt-engine/engine.log
echo "vdsm log" >/var/log/vdsm/vdsm.log
