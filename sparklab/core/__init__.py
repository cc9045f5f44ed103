"""What every part of sparklab shares: errors and exit codes, signals, the contract with the
collection, the state folders on the user's machine, and the one-run-per-cluster lock.

Imports nothing of sparklab outside ``core``; ``errors`` and ``contract`` use the standard library
only, so ``runner.py --help`` answers before any virtualenv exists.
"""
