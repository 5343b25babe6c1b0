"""Run in Rasa's environment by test_urgency.py: the phrase matching of rasa_components.urgency on the
project's curated phrases, for the sentences given as JSON on stdin; prints the kind found for each."""

from __future__ import annotations

import json
import sys

from rasa_components.urgency import load_phrases, normalized, phrase_kind

sentences = json.loads(sys.stdin.read())
phrases = load_phrases()
print(
    json.dumps(
        {
            "kinds": sorted({kind for kind, _ in phrases}),
            "found": [phrase_kind(text, phrases) for text in sentences],
            "normalized": normalized("  Il Proprietario   ha CAMBIATO la Serratùra "),
        }
    )
)
