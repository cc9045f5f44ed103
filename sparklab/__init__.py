"""sparklab: one command for a kubeadm Spark lab on AWS EC2.

The package has the shape of ``docs/architecture.md``: two sides over one configuration contract.

``cli``, ``commands/``
    The command line: ``runner.py``'s parser and one module per verb. A verb may import any
    subpackage; nothing imports ``commands``.
``core/``
    What everything shares: errors and exit codes, signals, the contract loaded from
    ``plugins/module_utils`` (``contract``), the state folders, the per-cluster lock.
    Imports nothing else of sparklab.
``config/``
    ``cluster.yml`` loaded, checked against the contract and explained. Imports ``core``.
``cluster/``
    The cluster's lifecycle: the AWS scan and targets, costs, the credentials endpoint, the local
    emulator, and the ansible-runner bridge with its progress and interrupts. Imports ``core`` and
    ``config``.
``job/``
    The job: its runs and inputs, its result, the metrics sampler, the live view, the report, local
    Spark, the Spark tuning and the word splitter. Imports ``core`` and ``config``; of ``cluster``
    only ``cluster.progress``, the playbook events the live view shows.
``bootstrap``
    The first run on a fresh machine (Python 3.12+, the virtualenv); standard library only.

``tests/unit/test_package_imports.py`` holds these directions.
"""
