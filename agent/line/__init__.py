"""The layer drivers stand on: lines (transports, one module per URL scheme, and the
telnet codec the simulator's server shares), the console over them, transcripts, secrets
and the line's typed errors.

Nothing here imports anything else of ``agent/``; ``drivers/`` imports only this package.
A test (``tests/unit/test_layers.py``) walks the imports and enforces both rules.
"""
