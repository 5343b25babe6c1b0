"""Compare NLU pipelines on the same held-out split of our own examples, per language.

    .venv/bin/python scripts/compare_pipelines.py [pipelines/rasa_default.yml pipelines/e5_logreg.yml ...]

For each language and intent, every 5th example (by a stable hash) is held out; the rest trains one
multilingual model per pipeline. Prints intent accuracy per language, training time, and for the
FallbackClassifier how many answers would be wrong-but-confident at several thresholds.
Writes results/compare_pipelines.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.core.languages import LANGUAGES  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from bot.ops.nlu_data import read_examples  # noqa: E402
from bot.ops.processes import rasa_environment  # noqa: E402

RASA = PROJECT / ".venv-rasa" / "bin"
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 5 == 0


def split(workdir: Path) -> tuple[Path, Path, int, int]:
    examples = read_examples(PROJECT / "nlu")
    train: dict[str, set[str]] = {}
    test_rows = []
    for language in LANGUAGES:
        for intent, texts in examples[language].items():
            for text in dict.fromkeys(texts):
                if held_out(f"{language}|{text}"):
                    test_rows.append({"language": language, "intent": intent, "text": text})
                else:
                    train.setdefault(intent, set()).add(text)
    # an example held out in one language may be trained in another (e.g. "ISEE?"): drop it from the test
    test_rows = [r for r in test_rows if r["text"] not in train.get(r["intent"], set())]
    nlu = [
        {"intent": intent, "examples": "".join(f"- {t}\n" for t in sorted(texts))}
        for intent, texts in train.items()
    ]
    train_path = workdir / "train.yml"
    train_path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True), "utf-8")
    test_path = workdir / "test.jsonl"
    test_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in test_rows), "utf-8")
    return train_path, test_path, sum(len(v) for v in train.values()), len(test_rows)


def evaluate(config: Path, train: Path, test: Path, workdir: Path) -> dict[str, object]:
    settings = load_settings(SPORTELLO_DATA_DIR=workdir)
    env = {**os.environ, **rasa_environment(settings), "TF_CPP_MIN_LOG_LEVEL": "3"}
    name = config.stem
    started = time.monotonic()
    subprocess.run(
        [
            str(RASA / "rasa"),
            "train",
            "nlu",
            "--nlu",
            str(train),
            "--config",
            str(config),
            "--out",
            str(workdir),
            "--fixed-model-name",
            name,
        ],
        cwd=PROJECT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    training_seconds = time.monotonic() - started
    predictions = workdir / f"{name}.jsonl"
    subprocess.run(
        [
            str(RASA / "python"),
            str(PROJECT / "scripts" / "rasa_predict.py"),
            str(workdir / f"{name}.tar.gz"),
            str(test),
            str(predictions),
        ],
        cwd=PROJECT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = [json.loads(line) for line in predictions.read_text("utf-8").splitlines()]
    per_language = {}
    for language in LANGUAGES:
        mine = [r for r in rows if r["language"] == language]
        per_language[language] = sum(r["best_intent"] == r["intent"] for r in mine) / max(len(mine), 1)
    by_threshold = {}
    for threshold in THRESHOLDS:
        answered = [r for r in rows if r["best_confidence"] >= threshold]
        wrong = sum(r["best_intent"] != r["intent"] for r in answered)
        by_threshold[threshold] = {
            "answered": len(answered) / len(rows),
            "wrong_confident": wrong / len(rows),
            "correct": (len(answered) - wrong) / len(rows),
        }
    ms = sorted(r["ms"] for r in rows)
    wrong = [
        {k: r[k] for k in ("language", "intent", "best_intent", "best_confidence", "text")}
        for r in rows
        if r["best_intent"] != r["intent"]
    ]
    return {
        "wrong": wrong,
        "accuracy": sum(r["best_intent"] == r["intent"] for r in rows) / len(rows),
        "per_language": per_language,
        "training_seconds": training_seconds,
        "parse_ms_median": ms[len(ms) // 2],
        "by_threshold": by_threshold,
    }


def main(configs: list[str]) -> int:
    configs = configs or ["pipelines/rasa_default.yml", "pipelines/e5_logreg.yml", "pipelines/e5_diet.yml"]
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        train, test, n_train, n_test = split(workdir)
        print(f"{n_train} training examples, {n_test} held out", flush=True)
        for config in configs:
            print(f"training and testing {config} ...", flush=True)
            evaluated = evaluate(PROJECT / config, train, test, workdir)
            results[config] = evaluated
            shown = {k: v for k, v in evaluated.items() if k != "wrong"}
            print(json.dumps(shown, indent=1), flush=True)
    print("\naccuracy per language (held-out split)")
    print("pipeline".ljust(30) + "".join(f"{code:>6}" for code in LANGUAGES) + "   all  train s")
    for config, result in results.items():
        assert isinstance(result, dict)
        cells = "".join(f"{result['per_language'][code] * 100:6.1f}" for code in LANGUAGES)
        total = f"{result['accuracy'] * 100:6.1f}{result['training_seconds']:8.0f}"
        print(f"{Path(config).stem:<30}{cells}{total}")
    out = PROJECT / "results" / "compare_pipelines.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"train": n_train, "test": n_test, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
