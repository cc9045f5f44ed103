"""Stand-in for the get-pip.py that ansible-test downloads to put pip into its sanity virtualenvs.

ansible-test creates one virtualenv per sanity test, without pip, and runs a cached
``~/.ansible/test/cache/get_pip_<version>.py`` in it (downloading it from ci-files.testing.ansible.com
when the cache is empty). The tests reach only PyPI, so scripts/ansible-test.sh puts this file in
that cache instead: it installs the pip bundled with Python (``ensurepip``, no network), then the
packages ansible-test asked for (its pinned pip) from PyPI with that pip.

ansible-test runs it as ``python get_pip.py [pip options] <package>==<version> ... [--no-setuptools]
[--no-wheel]``; the last two are get-pip's own options and mean "install nothing else".
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main(argv: list[str]) -> int:
    env = dict(os.environ)  # ensurepip points PIP_CONFIG_FILE at /dev/null; pip's own run reads the config
    ensurepip.bootstrap(upgrade=False, default_pip=True)
    args = [arg for arg in argv if arg not in GET_PIP_ONLY]
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
