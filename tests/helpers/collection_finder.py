"""Let in-process Templar renders resolve ``sparklab.cluster.*`` plugins from this checkout.

Ansible keeps one collection finder per process. Whatever installed it first (another test's
render, an import of Ansible's plugin loader) decides its paths, so a finder without this
checkout's ``collections/`` link is given it as a playbook-adjacent path, as ``ansible-playbook``
does for the folder of the playbook it runs (``set_playbook_paths`` in
``ansible/utils/collection_loader/_collection_finder.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHECKOUT_COLLECTIONS = str(REPO / "collections")


def ensure_checkout_collections() -> None:
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    finder = next((f for f in sys.meta_path if isinstance(f, _AnsibleCollectionFinder)), None)
    if finder is None:
        _AnsibleCollectionFinder(paths=[CHECKOUT_COLLECTIONS])._install()
    elif CHECKOUT_COLLECTIONS not in finder._n_collection_paths:
        finder.set_playbook_paths([str(REPO)])  # adds <REPO>/collections before the configured paths
