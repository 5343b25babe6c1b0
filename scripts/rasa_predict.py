"""Runs inside the Rasa environment: parse every test example with a trained model, write predictions.

Usage: .venv-rasa/bin/python scripts/rasa_predict.py MODEL TEST.jsonl OUT.jsonl
TEST.jsonl lines: {"language": ..., "intent": ..., "text": ...}. Called by compare_pipelines.py.
"""

import asyncio
import json
import sys
import time

from rasa.core.agent import Agent


async def main(model: str, test_path: str, out_path: str) -> None:
    agent = Agent.load(model)
    with open(test_path, encoding="utf-8") as test_file:
        rows = [json.loads(line) for line in test_file]
    with open(out_path, "w", encoding="utf-8") as out:
        for row in rows:
            started = time.perf_counter()
            parsed = await agent.parse_message(row["text"])
            ranking = parsed.get("intent_ranking") or []
            raw = next((r for r in ranking if r["name"] != "nlu_fallback"), parsed["intent"])
            row.update(
                predicted=parsed["intent"]["name"],
                confidence=parsed["intent"].get("confidence"),
                best_intent=raw["name"],
                best_confidence=raw.get("confidence"),
                entities=parsed.get("entities") or [],
                urgency=parsed.get("urgency"),
                ms=(time.perf_counter() - started) * 1000,
            )
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
