#!/bin/sh
# Every VM: reach the internal repository the way OST's add_local_repo.sh did
# (http://<gateway>:8585/default/<dist>/, the original's repoman layout) and the way
# "lago ovirt deploy" points guests at it, then leave the logs oVirt would.
set -eu
DIST=tiny-debian12  # OST took it from "uname -r" (el7); the tiny guest's kernel has no such suffix
GW=$(ip route | awk '/^default/ {print $3; exit}')
wget -q -O /root/repomd-default.xml "http://$GW:8585/default/$DIST/repodata/repomd.xml"
baseurl=$(sed -n 's/^baseurl=//p' /etc/yum.repos.d/lago-internal.repo)
wget -q -O /root/repomd.xml "${baseurl}repodata/repomd.xml"
mkdir -p /var/log/ovirt-engine /var/log/vdsm
echo "deployed $(hostname)" >/root/deployed
echo "engine log" >/var/log/ovirt-engine/engine.log
echo "vdsm log" >/var/log/vdsm/vdsm.log
