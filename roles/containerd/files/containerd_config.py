#!/usr/bin/env python3
"""Print containerd's default configuration with the settings Kubernetes needs.

Read-only: runs `containerd config default`, edits the text section by section and prints
JSON {"schema": <config version>, "containerd": <version string>, "config": <text>}.
containerd 1.x writes `version = 2` with the CRI plugin under io.containerd.grpc.v1.cri;
containerd 2.x writes `version = 3` and splits it into io.containerd.cri.v1.runtime/images.

Usage: containerd_config.py SANDBOX_IMAGE SYSTEMD_CGROUP(true|false) CNI_BIN_DIR
"""

import json
import re
import subprocess
import sys

SECTIONS = {
    2: {
        "runc_options": 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options',
        "sandbox": ('plugins."io.containerd.grpc.v1.cri"', "sandbox_image"),
        "cni": 'plugins."io.containerd.grpc.v1.cri".cni',
    },
    3: {
        "runc_options": "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options",
        "sandbox": ("plugins.'io.containerd.cri.v1.images'.pinned_images", "sandbox"),
        "cni": "plugins.'io.containerd.cri.v1.runtime'.cni",
    },
}
HEADER = re.compile(r"^\s*\[(?P<name>[^\[\]]+)\]\s*$")


def quote(value, schema):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(quote(item, schema) for item in value) + "]"
    return f"'{value}'" if schema >= 3 else json.dumps(value)


def set_key(lines, section, key, value, schema):
    """Set key in [section], replacing the line if present, adding it after the header if not."""
    start = next(
        (i for i, line in enumerate(lines) if (m := HEADER.match(line)) and m["name"] == section), None
    )
    if start is None:
        raise SystemExit(f"section [{section}] not found in the default configuration")
    end = next((i for i in range(start + 1, len(lines)) if HEADER.match(lines[i])), len(lines))
    pattern = re.compile(rf"^(?P<indent>\s*){re.escape(key)}\s*=")
    for index in range(start + 1, end):
        if m := pattern.match(lines[index]):
            lines[index] = f"{m['indent']}{key} = {quote(value, schema)}"
            return
    header_indent = re.match(r"^\s*", lines[start]).group(0)
    lines.insert(start + 1, f"{header_indent}  {key} = {quote(value, schema)}")


def has_key(lines, section, key):
    inside = False
    for line in lines:
        if m := HEADER.match(line):
            inside = m["name"] == section
        elif inside and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return True
    return False


def main(argv):
    sandbox_image, systemd_cgroup, cni_bin_dir = argv[1], argv[2] == "true", argv[3]
    default = subprocess.run(["containerd", "config", "default"], capture_output=True, text=True, check=True)
    version = subprocess.run(["containerd", "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"^version\s*=\s*(\d+)", default.stdout, re.MULTILINE)
    schema = int(found.group(1)) if found else 1
    if schema not in SECTIONS:
        raise SystemExit(f"containerd configuration version {schema} is not supported (expected 2 or 3)")
    names = SECTIONS[schema]
    lines = default.stdout.splitlines()
    set_key(lines, names["runc_options"], "SystemdCgroup", systemd_cgroup, schema)
    set_key(lines, names["sandbox"][0], names["sandbox"][1], sandbox_image, schema)
    if has_key(lines, names["cni"], "bin_dirs"):
        set_key(lines, names["cni"], "bin_dirs", [cni_bin_dir], schema)
    else:
        set_key(lines, names["cni"], "bin_dir", cni_bin_dir, schema)
    header = "# Managed by sparklab.cluster containerd: `containerd config default` plus edits"
    text = "\n".join([header, *lines]) + "\n"
    json.dump({"schema": schema, "containerd": version.stdout.strip(), "config": text}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
