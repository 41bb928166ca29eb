"""The gates a step passes that need no PBX: the run's options and the driver's vendor.

The engine applies them step by step; the pre-dial checks (``preflight``) apply the same
ones to tell which questions a run could ask, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.errors import PlaybookError
from agent.playbook.model import Playbook, Step
from agent.playbook.runtime import RunOptions

#: Special tags: ``always`` runs whatever ``--tags`` says (``--skip-tags`` still skips it),
#: ``never`` runs only when one of its tags is asked for, ``all`` means every tag.
SPECIAL_TAGS = frozenset({"always", "never", "all"})


def check_options(playbook: Playbook, options: RunOptions) -> None:
    """Refuse tags and answer keys the playbook does not know (a typo would run nothing)."""
    known_tags = playbook.tags | SPECIAL_TAGS
    unknown = sorted((options.tags | options.skip_tags) - known_tags)
    if unknown:
        listed = ", ".join(sorted(playbook.tags)) or "none"
        raise PlaybookError(f"unknown tag{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(unknown)} (tags in this playbook: {listed})",
                            path=playbook.path)
    strays = sorted(set(options.answers) - playbook.ask_keys)
    if strays:
        keys = ", ".join(sorted(playbook.ask_keys)) or "none"
        raise PlaybookError(f"no question has the answer key{'s' if len(strays) > 1 else ''} "
                            f"{', '.join(strays)} (answer keys in this playbook: {keys})",
                            path=playbook.path)


def tag_reason(tags: Sequence[str], options: RunOptions) -> str | None:
    own = set(tags)
    skipped_by = own & options.skip_tags
    if skipped_by:
        return f"skipped by --skip-tags {', '.join(sorted(skipped_by))}"
    wanted = options.tags - {"all"}
    if "never" in own and not own & wanted:
        return "tagged never: runs only when --tags names one of its tags"
    if not options.tags or "all" in options.tags or "always" in own or own & wanted:
        return None
    return f"not selected by --tags {', '.join(sorted(options.tags))}"


def vendor_reason(step: Step, vendor: str) -> str | None:
    """The driver's vendor is the driver class's: known without dialling."""
    vendors = step.for_vendors
    if vendors and vendor not in vendors:
        return f"not for {vendor}: only {', '.join(vendors)}"
    return None
