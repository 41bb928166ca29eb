"""``pbxdiag help [TOPIC]`` and ``pbxdiag help --man``: the docs pages, in the terminal.

Topics are pages (or one section) of ``docs/``, rendered plainly (agent/helptext.py). The
man page is generated when asked — from the argparse tree by argparse-manpage, plus the
topics — rather than committed, so it can never describe an older command line:
``pbxdiag help --man | man -l -``.
"""

from __future__ import annotations

import argparse
from typing import Any

from agent.errors import EXIT_OK


def register(commands: Any) -> None:
    from agent.helptext import TOPICS

    help_ = commands.add_parser(
        "help", help="show a help topic (inventory, playbooks, tickets, exit-codes)",
        description="Print a topic from the docs/ pages; with no topic, list them.")
    help_.add_argument("topic", nargs="?", choices=list(TOPICS), metavar="TOPIC",
                       help="the topic to print (none: list the topics)")
    help_.add_argument("--man", action="store_true",
                       help="print the whole manual page (roff) instead: "
                            "pbxdiag help --man | man -l -")
    help_.set_defaults(handler=_help)


def _help(args: argparse.Namespace) -> int:
    from agent.helptext import TOPICS, render_plain, topic_markdown

    if args.man:
        print(manpage(), end="")
    elif args.topic is None:
        print("Help topics (pbxdiag help TOPIC):")
        for topic in TOPICS.values():
            print(f"  {topic.name:<12} {topic.summary}  (docs/{topic.page})")
        print("Commands: pbxdiag --help, pbxdiag COMMAND --help; the manual: "
              "pbxdiag help --man | man -l -")
    else:
        print(render_plain(topic_markdown(args.topic)), end="")
    return EXIT_OK


def manpage() -> str:
    """pbxdiag(1): every command and option from the parser, then each topic's section."""
    from argparse_manpage.manpage import Manpage

    from agent.cli import _version, build_parser
    from agent.helptext import TOPICS, render_roff, topic_markdown

    parser = build_parser()
    page = Manpage(parser, _data={"project_name": "pbxdiag", "version": _version(),
                                  "manual_title": "pbxdiag manual"})
    page.description = parser.description
    for topic in TOPICS.values():
        page.add_section(topic.name.replace("-", " "), ">",
                         render_roff(topic_markdown(topic.name)))
    return ascii_roff(str(page))


def ascii_roff(page: str) -> str:
    """Non-ASCII as groff's ``\\[uXXXX]`` escapes: the page renders the same whether or not
    the reader's man runs preconv, whatever the locale."""
    return "".join(char if ord(char) < 128 else f"\\[u{ord(char):04X}]" for char in page)
