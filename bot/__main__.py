"""Command line: ``python -m bot <command>``. See README.md for each command."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.catalog import PROJECT_DIR, load_catalog


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

    commands.add_parser("rasa-files", help="regenerate domain.yml and data/rules.yml").set_defaults(
        handler=rasa_files
    )
    commands.add_parser("serve", help="run the gateway only").set_defaults(handler=serve)
    commands.add_parser("run", help="run Rasa, the action server and the gateway").set_defaults(handler=run)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
