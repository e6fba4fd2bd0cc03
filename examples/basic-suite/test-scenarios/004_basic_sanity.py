"""The logs the suite collects are there."""
from lago_env import ssh


def test_engine_logs():
    assert ssh("engine", "ls /var/log/ovirt-engine").split() == ["engine.log", "setup"]


def test_host_logs():
    assert ssh("host0", "ls /var/log/vdsm").split() == ["supervdsm.log", "vdsm.log"]
