"""SMDR/alarm collection: the long-running monitor (``pbxdiag smdr monitor``).

The parsers live in ``drivers/`` (pure, vendor by vendor); here is everything that
turns a site's SMDR port into rows of the register, one responsibility per module:

- ``settings``  — the inventory key ``smdr_link`` (schema fragment, validation);
- ``lines``     — bytes off the line into complete text lines, bounded;
- ``reader``    — complete lines into records and alarm lines (the drivers' parsers);
- ``align``     — which items of a new connection are re-reads of stored ones;
- ``ingest``    — storing new items with their position, then filing their alarms;
- ``alarms``    — an alarm line to the ticket a playbook run would give;
- ``collector`` — one site's connection: login, read, reconnect with back-off;
- ``monitor``   — every site's collector, structured logs, SIGTERM.
"""
