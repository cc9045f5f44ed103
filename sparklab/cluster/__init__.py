"""The cluster's lifecycle on the user's machine.

``aws`` (read-only scan of one cluster's resources, the target of a verb), ``settle`` (what exists
after an interrupted run), ``costs``, ``credentials`` (the per-run endpoint that keeps AWS keys out
of Ansible), ``emulator`` (moto for ``plan`` and the tests), and the ansible-runner side: ``bridge``
runs the playbooks, ``progress`` turns their events into roles and tasks, ``display`` draws them,
``interrupts`` handles Ctrl-C.

Imports ``core`` and ``config``. ``progress`` is the one module the job side may use.
"""
