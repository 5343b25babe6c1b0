"""The action server: rasa_sdk's own (``python -m actions --port N`` takes its options), with the desk
(knowledge, catalog, translations) built before it listens.

Built on the first action instead, the first person to write after a start waited for it (seconds of
CPU), and so did everyone behind them on a busy machine. Here the health check answers only once it is
built.
"""

from __future__ import annotations

import logging
import time

from rasa_sdk import utils
from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

from actions.base import desk
from bot.core.heap import freeze_long_lived

log = logging.getLogger("actions")


def main() -> None:
    args = create_argument_parser().parse_args()
    args.actions = args.actions or "actions"
    utils.configure_colored_logging(args.loglevel)
    started = time.perf_counter()
    desk()
    log.info("the desk is built (%.1f s): starting the action server", time.perf_counter() - started)
    freeze_long_lived()  # the desk lives as long as the server (bot/core/heap.py)
    main_from_args(args)


if __name__ == "__main__":
    main()
