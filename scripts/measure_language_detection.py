"""Measure language detectors on our own phone-style messages (the NLU examples, labelled by folder).

    .venv/bin/python scripts/measure_language_detection.py

For each detector, per language:
  raw    the detector's best guess is right (every example, however short)
  first  the policy picks the right language for a user's first message (default 'it' when unsure)
  keep   a user already in this language stays in it (no false switch)
  switch a user in another language (Italian; English for Italian examples) is switched to this one
Also the median time per message. Writes results/language_detection.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.conversation.language import LangidDetector, LanguagePolicy, LinguaDetector, letter_count  # noqa: E402
from bot.core.languages import LANGUAGES, load_language_names  # noqa: E402
from bot.ops.nlu_data import read_examples  # noqa: E402


def measure(policy: LanguagePolicy, examples: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    timings = []
    for language in LANGUAGES:
        texts = examples[language]
        other = "en" if language == "it" else "it"
        counts = {"raw": 0, "first": 0, "keep": 0, "switch": 0}
        for text in texts:
            started = time.perf_counter()
            guess = policy.detector.guess(text)
            timings.append(time.perf_counter() - started)
            counts["raw"] += bool(guess and guess.language == language)
            counts["first"] += policy.decide(text, None) == language
            counts["keep"] += policy.decide(text, language) == language
            counts["switch"] += policy.decide(text, other) == language
        table[language] = {k: v / len(texts) for k, v in counts.items()}
    table["_median_ms"] = {"ms": statistics.median(timings) * 1000}
    return table


def main() -> int:
    raw = read_examples(PROJECT / "nlu")
    examples = {lang: sorted({t for ts in raw[lang].values() for t in ts}) for lang in LANGUAGES}
    terms = load_language_names(PROJECT).italian_terms
    results = {}
    for name, detector in (("lingua", LinguaDetector()), ("py3langid", LangidDetector())):
        results[name] = measure(LanguagePolicy(detector, terms), examples)
    print(f"{sum(map(len, examples.values()))} messages from nlu/<lang>/ (short ones included)\n")
    for name, table in results.items():
        print(f"{name}  (median {table['_median_ms']['ms']:.2f} ms per message)")
        print("lang     raw  first   keep  switch")
        for language in LANGUAGES:
            row = table[language]
            print(
                f"{language:<5}" + "".join(f"{row[k] * 100:7.1f}" for k in ("raw", "first", "keep", "switch"))
            )
        keys = ("raw", "first", "keep", "switch")
        mean = {k: sum(table[lang][k] for lang in LANGUAGES) / len(LANGUAGES) for k in keys}
        print("mean " + "".join(f"{mean[k] * 100:7.1f}" for k in keys) + "\n")
    print("switch threshold sweep (messages of 20+ letters; mean over languages): keep / switch")
    long_examples = {lang: [t for t in ts if letter_count(t) >= 20] for lang, ts in examples.items()}
    for name, detector in (("lingua", LinguaDetector()), ("py3langid", LangidDetector())):
        cells = []
        for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
            table = measure(LanguagePolicy(detector, terms, switch_confidence=threshold), long_examples)
            keep = sum(table[lang]["keep"] for lang in LANGUAGES) / len(LANGUAGES)
            switch = sum(table[lang]["switch"] for lang in LANGUAGES) / len(LANGUAGES)
            cells.append(f"{threshold}: {keep * 100:.1f}/{switch * 100:.1f}")
            results[f"{name}_long_{threshold}"] = table
        print(f"{name:<10}" + "   ".join(cells))
    out = PROJECT / "results" / "language_detection.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
