"""Backup history: every programming backup of a site kept, listed, compared, put back.

``history`` stores the text (plain files and an index per site under the data dir),
``compare`` diffs two backups with the clock and other volatile lines left out, and
``restore`` turns a revision back into ``set`` steps so it goes through the playbook's
guarded write path (read, write, read back, roll back).
"""

from agent.backups.compare import BackupDiff, diff_backups
from agent.backups.history import BackupHistory, Revision, history_for, store_run_backups

__all__ = ["BackupDiff", "BackupHistory", "Revision", "diff_backups", "history_for",
           "store_run_backups"]
