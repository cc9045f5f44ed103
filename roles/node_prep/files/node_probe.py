#!/usr/bin/env python3
"""Report, as JSON, what this machine lets node_prep change at run time.

Read-only: it changes nothing. Arguments: comma-separated lists of kernel
modules, sysctl keys and packages (each may be empty).
"""

import json
import os
import platform
import subprocess
import sys

CAP_SYS_MODULE = 16
UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")


def container_type():
    """Name of the container technology, or an empty string on a real or virtual host."""
    try:
        out = subprocess.run(
            ["systemd-detect-virt", "--container"], capture_output=True, text=True, check=False
        )
        name = out.stdout.strip()
        if out.returncode == 0 and name and name != "none":
            return name
    except OSError:
        pass
    try:
        with open("/run/systemd/container", encoding="ascii") as handle:
            return handle.read().strip() or "unknown"
    except OSError:
        pass
    return "docker" if os.path.exists("/.dockerenv") else ""


def effective_capabilities():
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


# What a module provides once active, whether loaded or built into the kernel.
BUILTIN_EVIDENCE = {
    "br_netfilter": lambda: os.path.isdir("/proc/sys/net/bridge"),
    "overlay": lambda: filesystem_known("overlay"),
}


def filesystem_known(name):
    with open("/proc/filesystems", encoding="ascii") as handle:
        return any(line.split()[-1] == name for line in handle if line.strip())


def module_active(name):
    """True when the module is loaded, or built in and visible through what it provides."""
    if os.path.isdir(os.path.join("/sys/module", name)):
        return True
    try:
        with open("/proc/modules", encoding="ascii") as handle:
            if any(line.split()[0] == name for line in handle if line.strip()):
                return True
    except OSError:
        pass  # a kernel without loadable module support has no /proc/modules
    evidence = BUILTIN_EVIDENCE.get(name)
    return bool(evidence and evidence())


def sysctl_state(key):
    path = os.path.join("/proc/sys", *key.split("."))
    if not os.path.exists(path):
        return {"present": False, "writable": False, "value": None}
    with open(path, encoding="ascii") as handle:
        value = handle.read().strip()
    return {"present": True, "writable": os.access(path, os.W_OK), "value": value}


def active_swaps():
    with open("/proc/swaps", encoding="ascii") as handle:
        return [line.split()[0] for line in handle.readlines()[1:] if line.strip()]


def missing_packages(names):
    """Packages of the list that dpkg does not report as installed."""
    if not names:
        return []
    out = subprocess.run(
        ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = {line.split()[0] for line in out.stdout.splitlines() if line.endswith(" installed")}
    return [name for name in names if name not in installed]


def unit_exists(unit):
    return any(os.path.exists(os.path.join(base, unit)) for base in UNIT_DIRS)


def main(argv):
    modules = [m for m in (argv[1] if len(argv) > 1 else "").split(",") if m]
    keys = [k for k in (argv[2] if len(argv) > 2 else "").split(",") if k]
    packages = [p for p in (argv[3] if len(argv) > 3 else "").split(",") if p]
    modules_dir = os.path.join("/lib/modules", platform.release())
    caps = effective_capabilities()
    report = {
        "container": container_type(),
        "can_load_modules": bool(caps & (1 << CAP_SYS_MODULE))
        and os.path.isdir(modules_dir)
        and os.path.exists("/proc/modules"),
        "modules": {name: module_active(name) for name in modules},
        "sysctls": {key: sysctl_state(key) for key in keys},
        "swaps": active_swaps(),
        "missing_packages": missing_packages(packages),
        "chrony_unit": unit_exists("chrony.service"),
        "timesyncd_unit": unit_exists("systemd-timesyncd.service"),
    }
    json.dump(report, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
