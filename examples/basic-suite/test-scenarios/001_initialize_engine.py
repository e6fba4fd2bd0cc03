"""The engine was deployed from the internal repository."""
import os

from lago_env import ssh, vms


def test_prefix_is_given():
    assert os.path.isdir(os.path.join(os.environ["LAGO_PREFIX"], ".lago"))
    assert set(vms()) == {"engine", "host0"}


def test_engine_points_at_the_internal_repo():
    assert ssh("engine", "cat /etc/yum.repos.d/lago-internal.repo").find(":8585/tiny-debian12/") > 0


def test_engine_setup_left_its_log():
    assert "completed with built-locally lago-hello" in ssh("engine", "cat /var/log/ovirt-engine/setup/*.log")
