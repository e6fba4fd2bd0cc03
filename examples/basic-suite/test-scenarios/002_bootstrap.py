"""The host was deployed and reaches the engine."""
from lago_env import ssh


def test_host_runs_vdsm():
    assert "vdsm started on host0" in ssh("host0", "cat /var/log/vdsm/vdsm.log")


def test_host_reaches_the_engine_by_name():
    ssh("host0", "ping -c 1 -W 5 engine")
