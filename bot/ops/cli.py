"""Command line: ``python -m bot <command>``. See README.md for each command.

Every command reads the settings once (``load_settings``) and takes its paths from them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.catalog import load_catalog
from bot.core.errors import ConfigurationError, MediatorError
from bot.core.languages import LANGUAGES
from bot.core.settings import Settings, load_settings

T = TypeVar("T")


def knowledge_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.knowledge.checker import check_knowledge, format_report
    from bot.knowledge.loader import load_knowledge

    catalog = load_catalog(settings.project_dir)
    directory = Path(args.directory) if args.directory else settings.knowledge_dir
    report = check_knowledge(directory, catalog, date.today())
    office_types = len(load_knowledge(directory)[0].office_types)
    print(format_report(report, catalog, office_types))
    return 1 if report.errors else 0


def knowledge_notes(settings: Settings, args: argparse.Namespace) -> int:
    """Bring ``text/<lang>/offices.yml`` up to date with the offices' English notes."""
    from bot.knowledge.loader import load_knowledge
    from bot.knowledge.notes import update_note_translations

    kb, problems = load_knowledge(settings.knowledge_dir)
    if any(p.level == "error" for p in problems):
        print("sportello: fix the errors of 'make knowledge-check' first", file=sys.stderr)
        return 1
    for language in args.languages:
        update = update_note_translations(kb, settings.knowledge_dir, language)
        print(f"{update.path}: {update.kept} translated, {update.to_translate} to translate (todo)")
    return 0


def rasa_files(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.rasa_files import write_rasa_files

    for path in write_rasa_files(load_catalog(settings.project_dir), settings.project_dir):
        print(f"wrote {path.relative_to(settings.project_dir)}")
    return 0


def nlu_coverage(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.nlu_data import coverage_table

    catalog = load_catalog(settings.project_dir)
    table, ok = coverage_table(settings.project_dir / "nlu", catalog, args.minimum)
    print(table)
    return 0 if ok else 1


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.web.main import serve as serve_gateway

    return serve_gateway(settings)


def process(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.processes import exec_process

    exec_process(settings, args.which, args.index)  # replaces this process; returns only by raising
    return 1


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.processes import run_all

    return run_all(settings)


def with_database(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` against the gateway's database (migrated first), then close the connections."""
    from bot.adapters.sql.database import create_engine, migrate

    url = settings.gateway_database_url
    migrate(url)

    async def run() -> T:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def mediator_command(settings: Settings, args: argparse.Namespace) -> int:
    """Create or disable a mediator. The password is read from standard input, never from the command line."""
    from bot.adapters.sql.mediators import SqlMediatorStore
    from bot.adapters.sql.tickets import SqlTicketStore
    from bot.core.tickets import Role

    async def change(engine: AsyncEngine) -> str:
        store = SqlMediatorStore(engine)
        audit = SqlTicketStore(engine).audit
        if args.mediator_command == "add":
            password = sys.stdin.readline().rstrip("\n")
            unknown = [c for c in args.cities if c not in load_catalog(settings.project_dir).cities]
            if unknown:
                raise MediatorError(f"unknown cities: {', '.join(unknown)}")
            mediator = await store.add(
                args.email, args.name, Role(args.role), args.cities, args.languages, password
            )
            await audit(None, "cli:mediator_add", None, f"{mediator.id} {mediator.role.value}")
            return f"added {mediator.role.value} {mediator.email} (cities: {', '.join(mediator.cities)})"
        mediator = await store.set_active(args.email, args.mediator_command == "enable")
        await audit(None, f"cli:mediator_{args.mediator_command}", None, str(mediator.id))
        return f"{args.mediator_command}d {mediator.email}"

    try:
        print(with_database(settings, change))
    except MediatorError as exc:
        print(f"sportello: {exc}", file=sys.stderr)
        return 1
    return 0


def tickets_purge(settings: Settings, args: argparse.Namespace) -> int:
    """Delete transcripts of tickets closed more than N days ago (run it from cron)."""
    from bot.adapters.sql.attachment_files import AttachmentFiles
    from bot.adapters.sql.tickets import SqlTicketStore
    from bot.conversation.privacy import purge_closed_tickets

    async def purge(engine: AsyncEngine) -> int:
        tickets = SqlTicketStore(engine, AttachmentFiles(settings.attachments_dir))
        return await purge_closed_tickets(tickets, timedelta(days=args.days))

    count = with_database(settings, purge)
    print(f"purged the transcripts of {count} closed tickets older than {args.days} days")
    return 0


def retention(settings: Settings, args: argparse.Namespace) -> int:
    """One retention run now, with the periods of the settings (the gateway runs it by itself too)."""
    from functools import partial

    from bot.adapters.rasa.tracker import RasaTracker
    from bot.adapters.sql.attachment_files import AttachmentFiles
    from bot.adapters.sql.attachments import SqlAttachmentStore
    from bot.adapters.sql.database import flush_erased
    from bot.adapters.sql.inbox import SqlInbox
    from bot.adapters.sql.missed import SqlMissedMessages
    from bot.adapters.sql.outbox import SqlOutbox
    from bot.adapters.sql.profiles import SqlProfileStore
    from bot.adapters.sql.tickets import SqlTicketStore
    from bot.conversation.privacy import Privacy, retention_policy
    from bot.core.i18n import Translations

    async def expire(engine: AsyncEngine) -> object:
        files = AttachmentFiles(settings.attachments_dir)
        privacy = Privacy(
            SqlTicketStore(engine, files),
            RasaTracker(settings.tracker_source),
            SqlInbox(engine),
            SqlOutbox(engine),
            SqlProfileStore(engine),
            Translations(settings.locales_dir),
            partial(flush_erased, engine),
            attachments=SqlAttachmentStore(engine, files),
            missed=SqlMissedMessages(engine),
        )
        return await privacy.expire(retention_policy(settings))

    print(f"retention: {with_database(settings, expire)}")
    return 0


def review_export(settings: Settings, args: argparse.Namespace) -> int:
    """Write the missed messages staff marked as training examples (or out of scope) as NLU files."""
    from bot.adapters.sql.missed import SqlMissedMessages
    from bot.conversation.review import Review
    from bot.ops.nlu_export import write_examples

    async def examples(engine: AsyncEngine) -> dict[str, dict[str, list[str]]]:
        return await Review(SqlMissedMessages(engine)).examples()

    found = with_database(settings, examples)
    out = Path(args.out) if args.out else settings.data_dir / "review-export"
    for path in write_examples(found, out):
        count = sum(len(texts) for texts in found[path.parent.name].values())
        print(f"wrote {path} ({count} examples)")
    if not found:
        print("no marked examples to export")
    return 0


Handler = Callable[[Settings, argparse.Namespace], int]


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Sportello help desk")
    commands = parser.add_subparsers(dest="command", required=True)

    knowledge = commands.add_parser("knowledge", help="knowledge files").add_subparsers(
        dest="knowledge_command", required=True
    )
    check = knowledge.add_parser("check", help="check knowledge/ and print a coverage table")
    check.add_argument("--directory", default="", help="default: the knowledge folder of the settings")
    check.set_defaults(handler=knowledge_check)
    notes = knowledge.add_parser("notes", help="refresh text/<lang>/offices.yml from the offices' notes")
    notes.add_argument("languages", nargs="+", choices=[code for code in LANGUAGES if code != "en"])
    notes.set_defaults(handler=knowledge_notes)

    nlu = commands.add_parser("nlu", help="NLU training data").add_subparsers(
        dest="nlu_command", required=True
    )
    coverage = nlu.add_parser("coverage", help="examples per intent per language")
    coverage.add_argument("--minimum", type=int, default=12)
    coverage.set_defaults(handler=nlu_coverage)

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

    commands.add_parser("retention", help="expire old messages, transcripts and audit rows now").set_defaults(
        handler=retention
    )
    review = commands.add_parser("review", help="what the desk misses").add_subparsers(
        dest="review_command", required=True
    )
    export = review.add_parser("export", help="write the marked examples as nlu/<lang>/ files")
    export.add_argument("--out", default="", help="folder; default: review-export in the data folder")
    export.set_defaults(handler=review_export)
    commands.add_parser("rasa-files", help="regenerate domain.yml and data/rules.yml").set_defaults(
        handler=rasa_files
    )
    commands.add_parser("serve", help="run the gateway only").set_defaults(handler=serve)
    commands.add_parser("run", help="run Rasa, the action server and the gateway").set_defaults(handler=run)
    one = commands.add_parser("process", help="become one process, for systemd or a Procfile (deploy/)")
    one.add_argument("which", choices=["rasa", "actions", "gateway", "workers"])
    one.add_argument("--index", type=int, default=1, help="which Rasa server, 1 to SPORTELLO_RASA_SERVERS")
    one.set_defaults(handler=process)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return int(handler(load_settings(), args))
    except ConfigurationError as exc:
        print(f"sportello: {exc}", file=sys.stderr)
        return 2
