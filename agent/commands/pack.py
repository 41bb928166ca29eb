"""``pbxdiag pack --site X``: the pre-visit pack (one HTML file and a Markdown twin);
``pbxdiag pack --ticket FR-… --vendor-case``: the zip for the manufacturer's second line.

Nothing is dialled: the pack is built from the latest run of the site that read its cards
(run ``playbooks/pre-visit.yaml`` first, which also writes the pack), its open tickets and
its backup history. ``--stock`` checks each part against the office's stock list.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.commands import add_db_option, add_inventory_option, db_path
from agent.errors import EXIT_OK, InputError
from agent.paths import default_data_dir
from agent.tickets.storage.location import RegisterLocation


def register(commands: Any) -> None:
    pack = commands.add_parser("pack", help="the pre-visit pack of a site (HTML and Markdown), "
                                            "or a ticket's vendor case pack (zip)")
    pack.add_argument("--site", default=None, help="site id from the inventory")
    pack.add_argument("--ticket", default=None, metavar="REF",
                      help="the fault ticket (FR-…) of a --vendor-case pack")
    pack.add_argument("--vendor-case", action="store_true",
                      help="the vendor case pack of --ticket: model, software version, "
                           "error log, backup, what was tried, transcripts (redacted), "
                           "as a zip with an index; recorded on the ticket")
    add_inventory_option(pack, help="the inventory YAML file that names the site")
    add_db_option(pack)
    pack.add_argument("--stock", type=Path, default=None, metavar="FILE",
                      help="the office stock list: stock.yaml (part: {quantity, location}) "
                           "or a CSV (part,quantity,location)")
    pack.add_argument("--data", type=Path, default=None, metavar="DIR",
                      help="the data dir runs and backups are in (default: XDG data dir; "
                           "the `run --output` of the runs)")
    pack.add_argument("--output", type=Path, default=None, metavar="DIR",
                      help="where the pack goes (default: DATA/packs)")
    pack.set_defaults(handler=_pack)


def _pack(args: argparse.Namespace) -> int:
    from agent.inventory import load_inventory

    if args.vendor_case or args.ticket:
        return _vendor_case(args)
    if args.site is None:
        raise InputError("--site: name the site of the pre-visit pack "
                         "(or --ticket REF --vendor-case for the vendor case pack)")
    site = load_inventory(args.inventory).site(args.site)
    data_dir = args.data if args.data is not None else default_data_dir()
    files = write_site_pack(site, data_dir=data_dir, db_path=db_path(args), stock=args.stock,
                            output=args.output)
    print(f"pack: {files.html}\n      {files.markdown}")
    return EXIT_OK


def _vendor_case(args: argparse.Namespace) -> int:
    """The ticket's vendor case pack; the site's credentials are read first (when they
    can be) so the redactor masks them in every file, whatever a transcript kept."""
    import getpass

    from agent.inventory import load_inventory
    from agent.pack.vendor_case import build_vendor_case
    from agent.tickets import Register

    if not (args.ticket and args.vendor_case):
        raise InputError("--ticket and --vendor-case go together: "
                         "pbxdiag pack --ticket FR-… --vendor-case")
    if args.site is not None or args.stock is not None:
        raise InputError("--site and --stock are for the pre-visit pack, not --vendor-case")
    with Register(db_path(args)) as register:
        site_id = register.get(args.ticket).site_id  # an unknown ticket: exit 2
    inventory = load_inventory(args.inventory)
    if site_id in inventory.sites:
        _learn_secrets(inventory.site(site_id))
    data_dir = args.data if args.data is not None else default_data_dir()
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    files = build_vendor_case(args.ticket, db_path=db_path(args), data_dir=data_dir,
                              output_dir=args.output if args.output is not None
                              else data_dir / "packs", now=datetime.now(UTC), who=who)
    print(f"vendor case pack: {files.zip} ({len(files.members)} files; recorded on "
          f"{args.ticket})")
    return EXIT_OK


def _learn_secrets(site: Any) -> None:
    """Resolve the site's logins (each path's own too): resolving registers each secret
    with the redactor. One that cannot be read here was never in this process's files."""
    from agent.errors import InventoryError

    for index in range(len(site.paths) or 1):
        try:
            site.credentials_for(index).resolve()
        except (InventoryError, ValueError):
            continue


def write_site_pack(site: Any, *, data_dir: Path, db_path: RegisterLocation,
                    stock: Path | None = None, output: Path | None = None) -> Any:
    """Gather and write the pack (also called by ``run`` after a pre-visit is filed)."""
    from agent.pack import gather, write_pack
    from agent.pack.parts import load_stock

    stock_list = load_stock(stock) if stock is not None else None
    data = gather(site, data_dir=data_dir, db_path=db_path, now=datetime.now(UTC),
                  stock=stock_list)
    return write_pack(data, output if output is not None else data_dir / "packs")
