"""One module per step kind, each defining ``KIND = StepKind(...)`` (see ``kinds.py``).

The modules here are discovered by scanning the package: add a file to add an action.
"""
