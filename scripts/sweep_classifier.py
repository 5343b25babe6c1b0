"""Intent-classifier variants on the held-out split of ``nlu/``, in seconds each, on cached embeddings.

    .venv/bin/python scripts/sweep_classifier.py

Why: ``compare_pipelines.py`` trains a whole Rasa model per pipeline, minutes each, most of it embedding
13,000 examples with e5. A classifier variant sees the same features, so this embeds the split once
(cached in SPORTELLO_CACHE_DIR, default ~/.cache/sportello, under ``embeddings/``, keyed by the texts),
rebuilds the char n-gram counts as ``config.yml`` does, and fits each variant
(``scripts/classifier_variants.py``, in Rasa's environment, which has e5 and scikit-learn). The split is
``compare_pipelines.py``'s. Prints intent accuracy per language; writes results/sweep_classifier.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "scripts"))

from compare_pipelines import RASA, split  # noqa: E402
from ensure_model import cache_dir  # noqa: E402


def main() -> int:
    cache = cache_dir() / "embeddings"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        train, test, n_train, n_test = split(workdir)
        print(f"{n_train} training examples, {n_test} held out", flush=True)
        script = PROJECT / "scripts" / "classifier_variants.py"
        out = PROJECT / "results" / "sweep_classifier.json"
        out.parent.mkdir(exist_ok=True)
        command = [str(RASA / "python"), str(script), str(train), str(test), str(cache), str(out)]
        env = {**os.environ, "PYTHONPATH": str(PROJECT)}
        return subprocess.run(command, cwd=PROJECT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
