"""Score the assistant on the development test set (``tests/devset/<lang>.yml``, written apart from nlu/).

    .venv/bin/python scripts/score_devset.py [--model models/NAME.tar.gz] [--sweep] [--fresh]

Every message is parsed by the trained model (Rasa's own Agent, in the Rasa environment), then the real
dialogue runs on what Rasa understood: ``bot.dialogue.flows.respond``, the code the action server runs.
What the person would get first is what is scored:
  - topic accuracy per language and per form (ordinary questions and greeting + question),
  - urgent recall: every indirect urgent description answered urgent first,
  - out of scope answered as a topic (or as urgent),
  - ordinary questions flagged urgent.
``--sweep`` also prints how the fallback threshold and the urgency thresholds trade these off (the
numbers that chose config.yml's values). Writes results/devset.json.
``--fresh`` scores ``tests/devset/fresh/`` instead: a second set (indirect urgent descriptions, ordinary
questions that sound alarming, out of scope), written on 2026-12-07 by helpers who had seen neither nlu/
nor the first set, after the first set had been learnt from. The urgency rule of that day was chosen on
both (README, "Danger first"). Writes results/devset_fresh.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import actions  # noqa: E402
from bot.core.languages import LANGUAGES  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from bot.dialogue import flows  # noqa: E402
from bot.dialogue.desk import Desk, build_desk  # noqa: E402
from bot.dialogue.turn import TurnContext  # noqa: E402
from bot.ops.processes import newest_model, rasa_environment  # noqa: E402
from bot.ops.rasa_files import CONVERSATION, FALLBACK_ACTION, TOPIC_ACTION  # noqa: E402

DEVSET = PROJECT / "tests" / "devset"
FRESH = DEVSET / "fresh"
RASA_PYTHON = PROJECT / ".venv-rasa" / "bin" / "python"
FALLBACK = "nlu_fallback"
CITY = "bologna"  # every message is scored as from one city, so topic answers end with its offices


def read_devset(folder: Path = DEVSET) -> list[dict[str, Any]]:
    rows = []
    for language in LANGUAGES:
        path = folder / f"{language}.yml"
        if not path.exists():
            print(f"warning: no {path.relative_to(PROJECT)}: {language} is not scored", file=sys.stderr)
            continue
        data = yaml.safe_load(path.read_text("utf-8"))
        for message in data["messages"]:
            rows.append({**message, "language": language})
    return rows


def predict(model: Path, rows: list[dict[str, Any]], workdir: Path) -> list[dict[str, Any]]:
    """Rasa's parse of every row (intent ranking, entities, urgency scores), in the Rasa environment."""
    test, out = workdir / "devset.jsonl", workdir / "predicted.jsonl"
    test.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    settings = load_settings(SPORTELLO_DATA_DIR=workdir)
    env = {**os.environ, **rasa_environment(settings), "TF_CPP_MIN_LOG_LEVEL": "3"}
    script = PROJECT / "scripts" / "rasa_predict.py"
    subprocess.run(
        [str(RASA_PYTHON), str(script), str(model), str(test), str(out)],
        cwd=PROJECT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return [json.loads(line) for line in out.read_text("utf-8").splitlines()]


def flow_for(intent: str, desk: Desk) -> flows.Flow:
    """The flow Rasa's rules would run for this intent (data/rules.yml, through the actions)."""
    by_action: dict[str, flows.Flow] = {
        cls.action_name: cls.flow for cls in (getattr(actions, n) for n in actions.__all__)
    }
    if intent in desk.catalog.topics:
        return by_action[TOPIC_ACTION]
    return by_action[CONVERSATION.get(intent, FALLBACK_ACTION)]


@dataclass(frozen=True)
class Knobs:
    """The thresholds a sweep varies; None keeps what the model decided."""

    fallback: float | None = None
    intent_weight: float | None = None  # urgency: weight of the intent model's urgent scores ...
    threshold: float | None = None  # ... and the threshold of the weighted sum
    phrase_threshold: float | None = None  # a curated danger phrase fires it from this score (None: off)


def answer(desk: Desk, row: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    """What the person gets first: urgent or not, and the topic answered (None for anything else)."""
    intent = row["predicted"]
    if knobs.fallback is not None:
        intent = row["best_intent"] if row["best_confidence"] >= knobs.fallback else FALLBACK
    entities = {str(e["entity"]): str(e["value"]) for e in row["entities"] if e.get("entity")}
    scores = row.get("urgency") or {}
    if knobs.intent_weight is not None and knobs.threshold is not None:
        weight = knobs.intent_weight
        combined = weight * scores.get("intent", 0) + (1 - weight) * scores.get("classifier", 0)
        entities.pop("urgency", None)
        phrase = str(scores.get("phrase") or "")
        by_phrase = bool(phrase) and knobs.phrase_threshold is not None and combined >= knobs.phrase_threshold
        if combined >= knobs.threshold or by_phrase:
            entities["urgency"] = phrase if by_phrase else scores["kind"]
    ctx = TurnContext(language=row["language"], city=CITY, intent=intent, text=row["text"], entities=entities)
    turn = flows.respond(desk, ctx, flow_for(intent, desk))
    return {"urgent": bool(turn.slots.get(flows.URGENT)), "topic": turn.topic, "intent": intent}


def expected_urgent(row: dict[str, Any], desk: Desk) -> bool:
    topic = row["topic"]
    return topic == "danger" or (topic in desk.catalog.topics and desk.catalog.topic(topic).urgent)


def share(hits: Iterable[bool]) -> tuple[float, int]:
    values = list(hits)
    return (sum(values) / len(values) if values else float("nan")), len(values)


def score(desk: Desk, rows: list[dict[str, Any]], knobs: Knobs) -> dict[str, Any]:
    answered = [(row, answer(desk, row, knobs)) for row in rows]
    urgent = [(r, a) for r, a in answered if expected_urgent(r, desk)]
    ordinary = [
        (r, a) for r, a in answered if r["topic"] in desk.catalog.topics and not expected_urgent(r, desk)
    ]
    outside = [(r, a) for r, a in answered if r["topic"] == "out_of_scope"]
    topical = [(r, a) for r, a in answered if r["topic"] in desk.catalog.topics]

    def correct(r: dict[str, Any], a: dict[str, Any]) -> bool:
        return a["urgent"] if expected_urgent(r, desk) else (a["topic"] == r["topic"] and not a["urgent"])

    per_language = {
        lang: share(correct(r, a) for r, a in topical if r["language"] == lang)[0] for lang in LANGUAGES
    }
    forms: dict[str, list[bool]] = defaultdict(list)
    for r, a in topical:
        forms[r["form"]].append(correct(r, a))
    return {
        "topic_accuracy": share(correct(r, a) for r, a in topical)[0],
        "topic_accuracy_per_language": per_language,
        "topic_accuracy_per_form": {form: share(v)[0] for form, v in sorted(forms.items())},
        "urgent_recall": share(a["urgent"] for _, a in urgent)[0],
        "urgent_recall_per_language": {
            lang: share(a["urgent"] for r, a in urgent if r["language"] == lang)[0] for lang in LANGUAGES
        },
        "urgent_missed": [r["language"] + ": " + r["text"] for r, a in urgent if not a["urgent"]],
        "ordinary_urgent": [r["language"] + ": " + r["text"] for r, a in ordinary if a["urgent"]],
        "out_of_scope_as_topic": share(a["topic"] is not None or a["urgent"] for _, a in outside)[0],
        "out_of_scope_said": share(a["intent"] == "out_of_scope" for _, a in outside)[0],
        "ordinary_flagged_urgent": share(a["urgent"] for _, a in ordinary)[0],
        "counts": {
            "topic": len(topical),
            "urgent": len(urgent),
            "ordinary": len(ordinary),
            "out": len(outside),
        },
        "wrong": [
            f"{r['language']} {r['form']}: {r['text']} -> {a['topic'] or a['intent']}"
            for r, a in topical
            if not correct(r, a)
        ],
        "out_of_scope_wrong": [
            f"{r['language']}: {r['text']} -> {a['topic'] or ('urgent' if a['urgent'] else a['intent'])}"
            for r, a in outside
            if a["topic"] is not None or a["urgent"]
        ],
    }


def pct(value: float) -> str:
    return f"{value * 100:5.1f}"


def report(result: dict[str, Any]) -> None:
    counts = result["counts"]
    print(
        f"messages: {counts['topic']} topic (incl. {counts['urgent']} urgent), {counts['out']} out of scope\n"
        f"topic accuracy        {pct(result['topic_accuracy'])} %\n"
        f"urgent recall         {pct(result['urgent_recall'])} %\n"
        f"out of scope as topic {pct(result['out_of_scope_as_topic'])} %"
        f"   (answered as out of scope: {pct(result['out_of_scope_said'])} %)\n"
        f"ordinary flagged urgent {pct(result['ordinary_flagged_urgent'])} %"
    )
    print("\nper language  " + "".join(f"{code:>6}" for code in LANGUAGES))
    print(
        "topic acc.    " + "".join(f"{pct(result['topic_accuracy_per_language'][c]):>6}" for c in LANGUAGES)
    )
    print("urgent recall " + "".join(f"{pct(result['urgent_recall_per_language'][c]):>6}" for c in LANGUAGES))
    print("\nper form: " + ", ".join(f"{f} {pct(v)}" for f, v in result["topic_accuracy_per_form"].items()))
    shown = (
        ("urgent missed", "urgent_missed"),
        ("ordinary flagged urgent", "ordinary_urgent"),
        ("out of scope answered", "out_of_scope_wrong"),
    )
    for title, key in shown:
        if result[key]:
            print(f"\n{title}:")
            print("\n".join(f"  {line}" for line in result[key]))


def sweep(desk: Desk, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The trade-offs behind config.yml: the fallback threshold, and the urgency combination."""
    table: dict[str, Any] = {"fallback": {}, "urgency": {}}
    print("\nfallback threshold: topic accuracy / out of scope as topic")
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6):
        got = score(desk, rows, Knobs(fallback=threshold))
        table["fallback"][threshold] = got
        print(f"  {threshold:.1f}: {pct(got['topic_accuracy'])} / {pct(got['out_of_scope_as_topic'])}")
    print("\nurgency: recall / ordinary flagged urgent / out of scope answered as topic or urgent")
    print("(score = w * intent model's urgent scores + (1 - w) * dedicated classifier)")
    print("(p: with a curated danger phrase, the score from which it fires; - : phrases off)")
    grid = [
        (weight, threshold, phrase)
        for weight in (0.0, 0.3, 0.5, 0.7, 1.0)
        for threshold in (0.3, 0.4, 0.5, 0.55, 0.6, 0.7)
        for phrase in (None, 0.0, 0.1, 0.2, 0.3)
    ]
    for weight, threshold, phrase in grid:
        if phrase is not None and phrase >= threshold:
            continue
        got = score(desk, rows, Knobs(intent_weight=weight, threshold=threshold, phrase_threshold=phrase))
        name = f"w {weight:.1f} t {threshold:.2f} p {'-' if phrase is None else f'{phrase:.1f}'}"
        table["urgency"][name] = got
        print(
            f"  {name}: {pct(got['urgent_recall'])} / {pct(got['ordinary_flagged_urgent'])}"
            f" / {pct(got['out_of_scope_as_topic'])}"
        )
    return table


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the newest in models/")
    parser.add_argument("--sweep", action="store_true", help="also print the threshold trade-offs")
    parser.add_argument("--fresh", action="store_true", help="score tests/devset/fresh/ instead")
    args = parser.parse_args(argv)
    name = "devset_fresh" if args.fresh else "devset"
    model = args.model or newest_model(PROJECT / "models")
    desk = build_desk(load_settings())
    rows = read_devset(FRESH if args.fresh else DEVSET)
    print(f"scoring {len(rows)} messages with {model.name} ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        predicted = predict(model, rows, Path(tmp))
    dump = PROJECT / "results" / f"{name}_predictions.jsonl"
    dump.parent.mkdir(exist_ok=True)
    dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in predicted), "utf-8")
    result = score(desk, predicted, Knobs())
    report(result)
    output: dict[str, Any] = {"model": model.name, "result": result}
    if args.sweep:
        output["sweep"] = sweep(desk, predicted)
    out = PROJECT / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(output, indent=1, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
