"""Make sure models/ holds a model trained on the current training data; train only when it changed.

The fingerprint covers everything that shapes the model (config, domain, rules, NLU examples, custom
components, the Rasa requirements). Trained models are also kept in a cache outside the repository
(SPORTELLO_CACHE_DIR, default ~/.cache/sportello) so that a fresh clone on the same machine reuses them;
a machine without the cached model trains one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.core.settings import load_settings  # noqa: E402
from bot.ops.processes import rasa_environment  # noqa: E402

INPUTS = ["config.yml", "domain.yml", "data", "nlu", "rasa_components", "requirements/rasa.txt"]


def cache_dir() -> Path:
    """Where what is costly to make again is kept outside the repository (models, embeddings)."""
    return Path(os.environ.get("SPORTELLO_CACHE_DIR", Path.home() / ".cache" / "sportello"))


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = PROJECT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix in {".pyc"} or file.name == "README.md":
                continue
            digest.update(str(file.relative_to(PROJECT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def main() -> int:
    name = f"sportello-{fingerprint()}"
    models = PROJECT / "models"
    target = models / f"{name}.tar.gz"
    cache = cache_dir() / "models"
    cached = cache / target.name
    if target.exists():
        print(f"model up to date: {target.relative_to(PROJECT)}")
        os.utime(target)  # newest model = the one to run
        return 0
    models.mkdir(exist_ok=True)
    if cached.exists():
        shutil.copy2(cached, target)
        os.utime(target)
        print(f"model restored from cache: {target.relative_to(PROJECT)}")
        return 0
    print(f"training {name} (the training data changed; this takes a few minutes) ...", flush=True)
    started = time.monotonic()
    command = [
        str(PROJECT / ".venv-rasa" / "bin" / "rasa"),
        "train",
        "--data",
        "nlu",
        "data",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--out",
        "models",
        "--fixed-model-name",
        name,
    ]
    env = {**os.environ, **rasa_environment(load_settings())}
    result = subprocess.run(command, cwd=PROJECT, env=env)
    if result.returncode != 0 or not target.exists():
        print("training failed", file=sys.stderr)
        return 1
    print(f"trained in {time.monotonic() - started:.0f} s: {target.relative_to(PROJECT)}")
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target, cached)
    return 0


if __name__ == "__main__":
    sys.exit(main())
