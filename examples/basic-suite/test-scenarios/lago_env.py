"""Helpers of the Python scenarios: the prefix "lago ovirt runtest" gives them, and SSH into its VMs."""
import json
import os
import subprocess


def vms():
    """The VMs of the prefix (name -> status entry), from LAGO_STATUS_FILE."""
    with open(os.environ["LAGO_STATUS_FILE"]) as status:
        return {vm["name"]: vm for vm in json.load(status)["vms"]}


def ssh(vm, command):
    """Run a shell command line on a VM as root with the prefix's key; returns its output."""
    result = subprocess.run(
        ["ssh", "-i", os.environ["LAGO_SSH_KEY"], "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
         "root@" + vms()[vm]["ip"], command],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"{vm}: {command} exited {result.returncode}: {result.stderr}"
    return result.stdout.strip()
