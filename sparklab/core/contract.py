"""Facts the front end shares with the collection, loaded from ``plugins/module_utils`` by path.

Standard library only. ``plugins/module_utils`` holds the one definition of the configuration
contract (``cluster_config.py``: ``validate`` over the keys of ``config_schema.py``) and of the names
the WordCount job and the roles share (``cluster_names.py``: ``SPARKLAB_HOME``, the run folders and
ids; ``driver_log.py``: the driver's result lines); runner.py needs no installed collection to read them.
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE_UTILS_DIR = REPO_ROOT / "plugins" / "module_utils"
CONTRACT_STEM = "cluster_config"


# The package the files are loaded into, so that their relative imports of each other
# (``from .cluster_names import ...``) resolve here as they do inside the installed collection.
PACKAGE = "sparklab_module_utils"


@cache
def module_utils(stem: str) -> ModuleType:
    """Import ``plugins/module_utils/<stem>.py`` by file path (no installed collection needed)."""
    if PACKAGE not in sys.modules:
        package = ModuleType(PACKAGE, "plugins/module_utils of the checkout, loaded by path")
        package.__path__ = [str(MODULE_UTILS_DIR)]
        sys.modules[PACKAGE] = package
    return importlib.import_module(f"{PACKAGE}.{stem}")


def contract() -> ModuleType:
    """``plugins/module_utils/cluster_config.py``: the configuration keys and their check."""
    return module_utils(CONTRACT_STEM)
