"""Facts the front end shares with the collection, loaded from ``plugins/module_utils`` by path.

Standard library only. ``plugins/module_utils/cluster_config.py`` is the one definition of the
configuration contract, ``SPARKLAB_HOME``, the run folders and the names the WordCount job and
the roles share; runner.py needs no installed collection to read it.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE_UTILS_DIR = REPO_ROOT / "plugins" / "module_utils"
CONTRACT_STEM = "cluster_config"


@cache
def module_utils(stem: str) -> ModuleType:
    """Import ``plugins/module_utils/<stem>.py`` by file path (no installed collection needed)."""
    path = MODULE_UTILS_DIR / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"sparklab_{stem}", path)
    if spec is None or spec.loader is None:  # pragma: no cover - broken checkout
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def contract() -> ModuleType:
    """``plugins/module_utils/cluster_config.py``: the schema and the shared paths and names."""
    return module_utils(CONTRACT_STEM)
