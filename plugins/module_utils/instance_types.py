"""The EC2 instance types the configuration check knows offline, and the sizes sparklab needs.

Unknown types pass the offline check and are checked against DescribeInstanceTypes by the
provisioning play. Standard library only.
"""

from __future__ import annotations

import re

# Control-plane floor: kubeadm's preflight wants 2 vCPU and 1.7 GiB; sparklab also runs its
# add-ons (and with cluster_worker_count 0 the Spark job) there, so 2 GiB machines are refused.
CONTROL_PLANE_MIN_VCPU = 2
CONTROL_PLANE_MIN_MEM_GIB = 3.5
WORKER_MIN_VCPU = 2
WORKER_MIN_MEM_GIB = 2.0

# (vCPU, memory GiB) of common x86_64 types.
INSTANCE_TYPES: dict[str, tuple[int, float]] = {
    "t2.nano": (1, 0.5),
    "t2.micro": (1, 1.0),
    "t2.small": (1, 2.0),
    "t2.medium": (2, 4.0),
    "t2.large": (2, 8.0),
    "t2.xlarge": (4, 16.0),
    "t2.2xlarge": (8, 32.0),
    "t3.nano": (2, 0.5),
    "t3.micro": (2, 1.0),
    "t3.small": (2, 2.0),
    "t3.medium": (2, 4.0),
    "t3.large": (2, 8.0),
    "t3.xlarge": (4, 16.0),
    "t3.2xlarge": (8, 32.0),
    "t3a.nano": (2, 0.5),
    "t3a.micro": (2, 1.0),
    "t3a.small": (2, 2.0),
    "t3a.medium": (2, 4.0),
    "t3a.large": (2, 8.0),
    "t3a.xlarge": (4, 16.0),
    "t3a.2xlarge": (8, 32.0),
    "m5.large": (2, 8.0),
    "m5.xlarge": (4, 16.0),
    "m5.2xlarge": (8, 32.0),
    "m6i.large": (2, 8.0),
    "m6i.xlarge": (4, 16.0),
    "m6i.2xlarge": (8, 32.0),
    "m7i.large": (2, 8.0),
    "m7i.xlarge": (4, 16.0),
    "m7i-flex.large": (2, 8.0),
    "c5.large": (2, 4.0),
    "c5.xlarge": (4, 8.0),
    "c6i.large": (2, 4.0),
    "c6i.xlarge": (4, 8.0),
    "c7i.large": (2, 4.0),
    "c7i.xlarge": (4, 8.0),
    "r5.large": (2, 16.0),
    "r5.xlarge": (4, 32.0),
    "r6i.large": (2, 16.0),
    "r6i.xlarge": (4, 32.0),
}

INSTANCE_TYPE_RE = re.compile(r"^([a-z]+[0-9]+[a-z0-9-]*)\.([0-9]*[a-z]+[0-9]*)$")


def is_arm(itype: str) -> bool:
    """Whether an instance type is arm64 (Graviton: a1, or a ``g`` in the family's suffix)."""
    family = itype.split(".", 1)[0]
    suffix = re.sub(r"^[a-z]+[0-9]+", "", family)
    return family.startswith("a1") or "g" in suffix


def instance_type_problem(value: str, min_vcpu: int, min_mem: float) -> str | None:
    """Why ``value`` cannot be a node of at least ``min_vcpu`` vCPU and ``min_mem`` GiB, or None."""
    if not INSTANCE_TYPE_RE.match(value):
        return "is not an EC2 instance type like t3.medium"
    if is_arm(value):
        return "is an arm64 (Graviton) type; the Ubuntu image is amd64"
    spec = INSTANCE_TYPES.get(value)
    if spec and (spec[0] < min_vcpu or spec[1] < min_mem):
        have = f"{value} has {spec[0]} vCPU / {spec[1]:g} GiB"
        return f"{have}, needs at least {min_vcpu} vCPU / {min_mem:g} GiB"
    return None
