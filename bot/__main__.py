"""Command line: ``python -m bot <command>``. See README.md for each command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog import PROJECT_DIR, load_catalog

T = TypeVar("T")


def knowledge_check(args: argparse.Namespace) -> int:
    from bot.knowledge.checker import check_knowledge, format_report
    from bot.knowledge.loader import load_knowledge

    catalog = load_catalog(PROJECT_DIR)
    directory = Path(args.directory)
    report = check_knowledge(directory, catalog, date.today())
    office_types = len(load_knowledge(directory)[0].office_types)
    print(format_report(report, catalog, office_types))
    return 1 if report.errors else 0


def rasa_files(args: argparse.Namespace) -> int:
    from bot.rasa_files import write_rasa_files

    for path in write_rasa_files(load_catalog(PROJECT_DIR), PROJECT_DIR):
        print(f"wrote {path.relative_to(PROJECT_DIR)}")
    return 0


def nlu_coverage(args: argparse.Namespace) -> int:
    from bot.nlu_data import coverage_table

    table, ok = coverage_table(PROJECT_DIR / "nlu", load_catalog(PROJECT_DIR), args.minimum)
    print(table)
    return 0 if ok else 1


def serve(args: argparse.Namespace) -> int:
    from bot.gateway.main import main as gateway_main

    return gateway_main()


def run(args: argparse.Namespace) -> int:
    from bot.processes import run_all

    return run_all()


def with_database(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` against the gateway's database (migrated first), then close the connections."""
    import asyncio

    from bot.db import create_engine, migrate
    from bot.settings import load_settings

    url = load_settings().gateway_database_url
    migrate(url)

    async def run() -> T:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def mediator_command(args: argparse.Namespace) -> int:
    """Create or disable a mediator. The password is read from standard input, never from the command line."""
    from bot.tickets.mediators import MediatorError, MediatorStore
    from bot.tickets.model import Role

    async def change(engine: AsyncEngine) -> str:
        store = MediatorStore(engine)
        if args.mediator_command == "add":
            password = sys.stdin.readline().rstrip("\n")
            unknown = [c for c in args.cities if c not in load_catalog(PROJECT_DIR).cities]
            if unknown:
                raise MediatorError(f"unknown cities: {', '.join(unknown)}")
            mediator = await store.add(
                args.email, args.name, Role(args.role), args.cities, args.languages, password
            )
            return f"added {mediator.role.value} {mediator.email} (cities: {', '.join(mediator.cities)})"
        mediator = await store.set_active(args.email, args.mediator_command == "enable")
        return f"{args.mediator_command}d {mediator.email}"

    try:
        print(with_database(change))
    except MediatorError as exc:
        print(f"sportello: {exc}", file=sys.stderr)
        return 1
    return 0


def tickets_purge(args: argparse.Namespace) -> int:
    """Delete transcripts of tickets closed more than N days ago (run it from cron)."""
    from datetime import timedelta

    from bot.tickets.store import TicketStore

    async def purge(engine: AsyncEngine) -> int:
        return await TicketStore(engine).purge_closed(timedelta(days=args.days))

    print(f"purged the transcripts of {with_database(purge)} closed tickets older than {args.days} days")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Sportello help desk")
    commands = parser.add_subparsers(dest="command", required=True)

    knowledge = commands.add_parser("knowledge", help="knowledge files").add_subparsers(
        dest="knowledge_command", required=True
    )
    check = knowledge.add_parser("check", help="check knowledge/ and print a coverage table")
    check.add_argument("--directory", default=str(PROJECT_DIR / "knowledge"))
    check.set_defaults(handler=knowledge_check)

    nlu = commands.add_parser("nlu", help="NLU training data").add_subparsers(
        dest="nlu_command", required=True
    )
    coverage = nlu.add_parser("coverage", help="examples per intent per language")
    coverage.add_argument("--minimum", type=int, default=12)
    coverage.set_defaults(handler=nlu_coverage)

    from bot.languages import LANGUAGES

    mediator = commands.add_parser("mediator", help="dashboard accounts").add_subparsers(
        dest="mediator_command", required=True
    )
    add = mediator.add_parser("add", help="create a mediator; the password is read from stdin")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=["mediator", "coordinator"], default="mediator")
    add.add_argument("--cities", nargs="+", required=True, help="city ids, e.g. caserta roma")
    add.add_argument("--languages", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    add.set_defaults(handler=mediator_command)
    for verb in ("disable", "enable"):
        change = mediator.add_parser(verb, help=f"{verb} a mediator's login")
        change.add_argument("--email", required=True)
        change.set_defaults(handler=mediator_command)

    tickets = commands.add_parser("tickets", help="ticket maintenance").add_subparsers(
        dest="tickets_command", required=True
    )
    purge = tickets.add_parser("purge", help="delete transcripts of old closed tickets (cron)")
    purge.add_argument("--days", type=int, default=180)
    purge.set_defaults(handler=tickets_purge)

    commands.add_parser("rasa-files", help="regenerate domain.yml and data/rules.yml").set_defaults(
        handler=rasa_files
    )
    commands.add_parser("serve", help="run the gateway only").set_defaults(handler=serve)
    commands.add_parser("run", help="run Rasa, the action server and the gateway").set_defaults(handler=run)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
