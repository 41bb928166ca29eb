"""pbxdiag's runner: everything that is neither vendor- nor simulator-specific."""

__version__ = "0.1.0"
