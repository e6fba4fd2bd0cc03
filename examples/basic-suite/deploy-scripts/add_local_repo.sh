#!/bin/sh
# Every VM: read the internal repository "lago ovirt deploy" pointed this guest at, and
# install "lago-install", which installs a package from it. (Real suites run dnf here; the
# tiny test guests have busybox: wget for HTTP, its rpm applet to unpack packages.)
set -eu
baseurl=$(sed -n 's/^baseurl=//p' /etc/yum.repos.d/lago-internal.repo)
mkdir -p /var/lib/lago-repo
cd /var/lib/lago-repo
wget -q -O repomd.xml "${baseurl}repodata/repomd.xml"
primary=$(sed -n 's/.*location href="\(repodata\/[^"]*primary\.xml\.gz\)".*/\1/p' repomd.xml)
wget -q -O - "$baseurl$primary" | gunzip >primary.xml
echo "$baseurl" >baseurl

mkdir -p /usr/local/bin
cat >/usr/local/bin/lago-install <<'SCRIPT'
#!/bin/sh
# lago-install NAME...: fetch each package's newest file from the internal repo and unpack it.
set -eu
cd /var/lib/lago-repo
for name in "$@"; do
	href=$(awk -v want="$name" '/<name>/ { gsub(/.*<name>|<\/name>.*/, ""); current = $0 }
		/<location href=/ && current == want { sub(/.*<location href="/, ""); sub(/".*/, ""); print; exit }' primary.xml)
	[ -n "$href" ] || { echo "lago-install: no package $name in $(cat baseurl)" >&2; exit 1; }
	wget -q -O "/tmp/$name.rpm" "$(cat baseurl)$href"
	(cd / && rpm -i "/tmp/$name.rpm")
	echo "$name $href" >>/var/lib/lago-repo/installed
done
SCRIPT
chmod 755 /usr/local/bin/lago-install
