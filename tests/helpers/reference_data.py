"""Where the upstream reference data lives: chart values.yaml files and the SparkApplication CRD
schema, taken verbatim from the pinned upstream releases.

They are not part of this repository; the test machines keep them beside the checkout
(``../shared/reference``). ``SPARKLAB_REFERENCE_DIR`` points elsewhere. A missing folder is an
error, never a skip: these checks are the only ones the chart values get on a machine without a
cluster.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = Path(os.environ.get("SPARKLAB_REFERENCE_DIR", REPO.parent / "shared" / "reference"))

if not REFERENCE_DIR.is_dir():
    raise RuntimeError(
        f"upstream reference data not found at {REFERENCE_DIR} "
        "(fix: keep the shared reference folder beside the checkout or set SPARKLAB_REFERENCE_DIR)"
    )
