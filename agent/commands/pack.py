"""``pbxdiag pack --site X``: the pre-visit pack (one HTML file and a Markdown twin).

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
from agent.errors import EXIT_OK
from agent.paths import default_data_dir


def register(commands: Any) -> None:
    pack = commands.add_parser("pack", help="the pre-visit pack of a site: HTML and Markdown")
    pack.add_argument("--site", required=True, help="site id from the inventory")
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

    site = load_inventory(args.inventory).site(args.site)
    data_dir = args.data if args.data is not None else default_data_dir()
    files = write_site_pack(site, data_dir=data_dir, db_path=db_path(args), stock=args.stock,
                            output=args.output)
    print(f"pack: {files.html}\n      {files.markdown}")
    return EXIT_OK


def write_site_pack(site: Any, *, data_dir: Path, db_path: Path, stock: Path | None = None,
                    output: Path | None = None) -> Any:
    """Gather and write the pack (also called by ``run`` after a pre-visit is filed)."""
    from agent.pack import gather, write_pack
    from agent.pack.parts import load_stock

    stock_list = load_stock(stock) if stock is not None else None
    data = gather(site, data_dir=data_dir, db_path=db_path, now=datetime.now(UTC),
                  stock=stock_list)
    return write_pack(data, output if output is not None else data_dir / "packs")
