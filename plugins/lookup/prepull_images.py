"""Lookup: the image references a node pre-pulls, from the pin sites of playbooks/vars/images.yml."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: prepull_images
short_description: The image references the product deploys, for pulling them ahead of time
description:
  - Reads the C(pins) of C(playbooks/vars/images.yml) and the file and key each pin site names, and
    returns one reference per image the defaults deploy, C(<name>@sha256:<digest>) where the site is
    pinned by digest, C(<name>:<tag>) otherwise.
  - "A pin site marked C(prepull: false) is left out; so are the image names given in O(skip)."
version_added: "0.2.0"
author:
  - sparklab maintainers (!UNKNOWN)
options:
  _terms:
    description:
      - Paths of C(images.yml) files; their pin sites are relative to the folder two levels above each.
      - None given, the collection's own C(playbooks/vars/images.yml).
    required: false
  skip:
    description: Image names (without tag) to leave out.
    type: list
    elements: str
    default: []
  every_node_only:
    description:
      - "Only the pin sites marked C(every_node: true): DaemonSet images, which run on the control plane too."
    type: bool
    default: false
"""

EXAMPLES = r"""
image_prepull_images: >-
  {{ lookup('sparklab.cluster.prepull_images', every_node_only=('workers' not in group_names),
            wantlist=true) }}
"""

RETURN = r"""
_raw:
  description: The references, each once, in the order of images.yml.
  type: list
  elements: str
"""

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.sparklab.cluster.plugins.module_utils.image_refs import (
    ImageRefError,
    deployed_references,
)

# The collection's root: plugins/lookup/<this file> -> the folder holding playbooks/ and roles/.
OWN_IMAGES_YML = Path(__file__).resolve().parents[2] / "playbooks" / "vars" / "images.yml"


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[str]:
        self.set_options(var_options=variables, direct=kwargs)
        refs: list[str] = []
        for term in terms or [OWN_IMAGES_YML]:
            try:
                found = deployed_references(
                    Path(str(term)), self.get_option("skip"), self.get_option("every_node_only")
                )
                refs += [ref for ref in found if ref not in refs]
            except (OSError, ImageRefError) as exc:
                raise AnsibleLookupError(f"prepull_images: {exc}") from exc
        return refs
