"""As OST scenarios did, reach the VMs through lago itself (the original's command lines)."""
import os
import subprocess


def lago(*args):
    result = subprocess.run(["lago", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"lago {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result.stdout


def test_prefix_is_given():
    assert os.path.isdir(os.environ["LAGO_PREFIX"])
    # The original's testlib opened the prefix as "$LAGO_WORKDIR_PATH/current".
    assert os.path.isfile(os.path.join(os.environ["LAGO_WORKDIR_PATH"], "current", "uuid"))


def test_deploy_ran_on_every_vm():
    # "lago shell VM WORDS...": no -c, the words are the command; VM by the end of its name.
    assert lago("-p", os.environ["LAGO_PREFIX"], "shell", "engine", "cat", "/root/deployed").strip() == "deployed lago-ost-2019-engine"
    assert lago("--prefix-path", os.environ["LAGO_PREFIX"], "shell", "host-0", "-c", "cat", "/root/deployed").strip() == "deployed lago-ost-2019-host-0"
