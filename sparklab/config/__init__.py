"""``cluster.yml`` and ``--key value`` overrides: loaded (``load``), checked against the contract in
``plugins/module_utils`` and, when wrong, explained in one line with a fix (``explain``).

Imports ``core`` only.
"""
