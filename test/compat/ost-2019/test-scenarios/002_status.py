"""Scripts parsed "lago -f json status" and "lago --out-format flat status" with the original keys."""
import json
import os
import subprocess


def status(fmt):
    return subprocess.run(["lago", "--prefix-path", os.environ["LAGO_PREFIX"], "--out-format", fmt, "status"], capture_output=True, text=True, check=True).stdout


def test_json_status_has_the_original_keys():
    tree = json.loads(status("json"))["Prefix"]
    assert tree["Base directory"] == os.environ["LAGO_PREFIX"]
    engine = tree["VMs"]["lago-ost-2019-engine"]
    assert engine["status"] == "running"
    assert engine["distro"] == "tiny-debian12"
    assert engine["NICs"]["eth0"]["network"] == "lago-ost-2019-net-management"
    assert tree["Networks"]["lago-ost-2019-net-management"]["status"] == "up"


def test_flat_status():
    lines = status("flat").splitlines()
    assert "VMs/lago-ost-2019-host-0/status: running" in lines
    assert any(line.startswith("UUID: ") for line in lines)
