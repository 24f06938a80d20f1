"""NLU benchmark: our pipeline against Rasa's language-agnostic pipeline and a keyword baseline.

In one run, on the same training data (data/nlu) and the same held-out set (tests/nlu/heldout.yml):

  ours          config.yml's NLU pipeline (Rasa's language-agnostic pipeline with word pairs and
                our typo corrector, bot/nlu/spelling.py, after the tokenizer; FallbackClassifier)
  rasa_default  bench/configs/rasa_default.yml: WhitespaceTokenizer, RegexFeaturizer,
                LexicalSyntacticFeaturizer, CountVectors word + char_wb 1-4, DIET 100 epochs,
                EntitySynonymMapper
  keyword       pure Python: accent-folded bag of words + character 3-grams, TF-IDF weighted,
                nearest class centroid by cosine (intents only)

For each: intent accuracy, macro-F1, entity F1 (exact span + value after synonym mapping; micro and
per entity), time to train, time to parse 1,000 messages (the held-out set cycled), and intent
accuracy on the robustness variants (accents removed, one typo per word of 5+ letters, upper case).
Timing figures are also given as ratios against rasa_default and against the keyword baseline of
the same run. Writes bench/results/nlu_bench.json, bench/results/nlu_bench.md and
bench/results/confusion_ours.png.

    .venv/bin/python bench/nlu_bench.py [--epochs-scale 1.0] [--extra bench/configs/other.yml]
        [--pipelines ours,rasa_default] [--seeds 42,7,2026] [--output-stem nlu_bench]
        [--keep-models DIR]

DIET's result moves by a point or two with its random seed on a data set of this size, so a
comparison between pipelines is only worth something over several seeds: with ``--seeds`` every
Rasa pipeline is trained once per seed (named pipeline@seed) and a table gives each pipeline's
mean, lowest and highest figures over the seeds. Ratios compare runs with the same seed.

One DIET model takes about 7 minutes on 2 cores at --epochs-scale 1.0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.text import fold_accents  # noqa: E402  (light: no Rasa import at module level)

HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
TRAIN_DIR = ROOT / "data" / "nlu"
CONFIG = ROOT / "config.yml"
RASA_DEFAULT = ROOT / "bench" / "configs" / "rasa_default.yml"
RESULTS = ROOT / "bench" / "results"
FALLBACK = "nlu_fallback"
PARSE_N = 1000
TYPO_SEED = 20240605

# --- robustness variants (shared with tests/nlu/test_robustness.py) ----------------------------

_WORD = re.compile(r"\S+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def strip_accents(text: str) -> str:
    """'¿Cuándo me pagan el jitomate de Tancítaro?' -> '¿Cuando me pagan ... Tancitaro?' (ñ -> n)."""
    return fold_accents(text)


def upper_case(text: str) -> str:
    return text.upper()


def typo(word: str, rng: random.Random) -> str:
    """One random typo on a letter of the word: swap with the next letter, drop, duplicate or
    replace it. Punctuation around the word is left alone."""
    positions = [i for i, ch in enumerate(word) if ch.isalpha()]
    kind = rng.choice(("swap", "drop", "duplicate", "replace"))
    i = rng.choice(positions[:-1] if kind == "swap" else positions)
    if kind == "swap":
        j = positions[positions.index(i) + 1]
        chars = list(word)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "duplicate":
        return word[:i] + word[i] + word[i:]
    letter = rng.choice([c for c in _LETTERS if c != word[i].lower()])
    return word[:i] + (letter.upper() if word[i].isupper() else letter) + word[i + 1 :]


def with_typos(text: str, rng: random.Random) -> str:
    """One typo in every word of 5 or more letters."""

    def one(match: re.Match) -> str:
        word = match.group(0)
        return typo(word, rng) if sum(ch.isalpha() for ch in word) >= 5 else word

    return _WORD.sub(one, text)


def make_variants(texts: list[str], seed: int = TYPO_SEED) -> dict[str, list[str]]:
    """The held-out texts clean and in the three degraded forms (typos from one seeded RNG, so the
    same run gives the same typos to every pipeline)."""
    rng = random.Random(seed)
    return {
        "clean": list(texts),
        "no_accents": [strip_accents(t) for t in texts],
        "typos": [with_typos(t, rng) for t in texts],
        "upper": [upper_case(t) for t in texts],
    }


# --- metrics (pure Python) --------------------------------------------------------------------


def accuracy(gold: list[str], predicted: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, predicted, strict=False)) / len(gold)


def per_class_f1(gold: list[str], predicted: list[str]) -> dict[str, dict]:
    labels = sorted(set(gold))
    out = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=False))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=False))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=False))
        out[label] = _prf(tp, fp, fn)
    return out


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Mean F1 over the intents of the gold set (a prediction of nlu_fallback is a miss)."""
    scores = per_class_f1(gold, predicted)
    return sum(s["f1"] for s in scores.values()) / len(scores)


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


EntityKey = tuple  # (entity, start, end, value)


def entity_keys(entities: Iterable[dict]) -> set[EntityKey]:
    return {(e["entity"], int(e["start"]), int(e["end"]), str(e.get("value"))) for e in entities}


def entity_f1(gold: list[set[EntityKey]], predicted: list[set[EntityKey]]) -> dict:
    """Exact match of entity type, character span and (synonym-mapped) value; micro over all
    entities and per entity type."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for g, p in zip(gold, predicted, strict=False):
        for key in g & p:
            counts[key[0]][0] += 1
        for key in p - g:
            counts[key[0]][1] += 1
        for key in g - p:
            counts[key[0]][2] += 1
    per = {name: _prf(*c) for name, c in sorted(counts.items())}
    micro = _prf(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return {"micro": micro, "per_entity": per}


# --- data -------------------------------------------------------------------------------------


def load_heldout() -> list[dict]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(HELDOUT))
    return [
        {"text": m.get("text"), "intent": m.get("intent"), "entities": m.get("entities") or []}
        for m in data.intent_examples
    ]


def load_training() -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(TRAIN_DIR))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


# --- keyword baseline -------------------------------------------------------------------------


class KeywordBaseline:
    """Accent-folded words and character 3-grams (inside words), TF-IDF weights, one centroid per
    intent; a message gets the intent whose centroid is nearest by cosine."""

    def __init__(self) -> None:
        self.idf: dict[str, float] = {}
        self.centroids: dict[str, dict[str, float]] = {}

    @staticmethod
    def features(text: str) -> Counter:
        words = re.findall(r"\w+", fold_accents(text).lower())
        feats = Counter(f"w:{w}" for w in words)
        for w in words:
            padded = f"<{w}>"
            feats.update(f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2))
        return feats

    def _vector(self, feats: Counter) -> dict[str, float]:
        vec = {f: (1 + math.log(n)) * self.idf[f] for f, n in feats.items() if f in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {f: v / norm for f, v in vec.items()}

    def train(self, examples: list[tuple[str, str]]) -> None:
        docs = [(self.features(t), i) for t, i in examples]
        df = Counter(f for feats, _ in docs for f in feats)
        self.idf = {f: math.log((1 + len(docs)) / (1 + n)) + 1 for f, n in df.items()}
        sums: dict[str, Counter] = defaultdict(Counter)
        for feats, intent in docs:
            for f, v in self._vector(feats).items():
                sums[intent][f] += v
        for intent, total in sums.items():
            norm = math.sqrt(sum(v * v for v in total.values())) or 1.0
            self.centroids[intent] = {f: v / norm for f, v in total.items()}

    def parse(self, text: str) -> dict:
        vec = self._vector(self.features(text))
        scores = {i: sum(v * c.get(f, 0.0) for f, v in vec.items()) for i, c in self.centroids.items()}
        best = max(scores, key=scores.get)
        return {"intent": {"name": best, "confidence": scores[best]}, "entities": []}


# --- Rasa pipelines ---------------------------------------------------------------------------


def nlu_config(
    source: Path, epochs_scale: float, out_dir: Path, seed: int | None = None, name: str = ""
) -> Path:
    """The pipeline of `source` (no policies), DIET epochs scaled and its seed set, in out_dir."""
    import yaml

    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config.pop("policies", None)
    for component in config["pipeline"]:
        if component.get("name") == "DIETClassifier":
            component["epochs"] = max(1, round(component.get("epochs", 300) * epochs_scale))
            if seed is not None:
                component["random_seed"] = seed
    path = out_dir / f"{name or source.stem}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def train_rasa(config: Path, out_dir: Path, name: str) -> tuple[str, float]:
    from rasa.model_training import train_nlu

    start = time.perf_counter()
    model = train_nlu(str(config), str(TRAIN_DIR), str(out_dir), fixed_model_name=name)
    seconds = time.perf_counter() - start
    if not model:
        raise RuntimeError(f"training {config} produced no model")
    return model, seconds


class RasaParser:
    def __init__(self, model_path: str) -> None:
        from rasa.core.agent import Agent

        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(model_path)

    def parse(self, text: str) -> dict:
        return self.loop.run_until_complete(self.agent.parse_message(text))

    def close(self) -> None:
        self.loop.close()


def top_intent(parsed: dict, skip_fallback: bool = False) -> str:
    name = (parsed.get("intent") or {}).get("name")
    if skip_fallback and name == FALLBACK:
        for item in parsed.get("intent_ranking") or []:
            if item.get("name") != FALLBACK:
                return item["name"]
    return name


# --- evaluation -------------------------------------------------------------------------------


def evaluate(
    name: str,
    parse: Callable[[str], dict],
    heldout: list[dict],
    variants: dict,
    train_seconds: float,
    with_entities: bool,
) -> dict:
    gold = [ex["intent"] for ex in heldout]
    result: dict = {"pipeline": name, "train_seconds": train_seconds}

    clean = [parse(text) for text in variants["clean"]]
    predicted = [top_intent(p) for p in clean]
    result["intent_accuracy"] = accuracy(gold, predicted)
    result["macro_f1"] = macro_f1(gold, predicted)
    result["per_intent"] = per_class_f1(gold, predicted)
    result["fallback_rate"] = sum(p == FALLBACK for p in predicted) / len(predicted)
    result["intent_accuracy_without_fallback"] = accuracy(gold, [top_intent(p, True) for p in clean])
    result["misses"] = [
        {"text": ex["text"], "expected": g, "predicted": p}
        for ex, g, p in zip(heldout, gold, predicted, strict=False)
        if g != p
    ]
    result["predicted"] = predicted
    if with_entities:
        result["entity"] = entity_f1(
            [entity_keys(ex["entities"]) for ex in heldout],
            [entity_keys(p.get("entities") or []) for p in clean],
        )
        result["entity_misses"] = [
            {
                "text": ex["text"],
                "gold": sorted(map(list, entity_keys(ex["entities"]))),
                "predicted": sorted(map(list, entity_keys(p.get("entities") or []))),
            }
            for ex, p in zip(heldout, clean, strict=False)
            if entity_keys(ex["entities"]) != entity_keys(p.get("entities") or [])
        ]
    else:
        result["entity"] = None

    result["robustness"] = {"clean": result["intent_accuracy"]}
    result["robustness_misses"] = {}
    for variant in ("no_accents", "typos", "upper"):
        predicted_variant = [top_intent(parse(t)) for t in variants[variant]]
        result["robustness"][variant] = accuracy(gold, predicted_variant)
        result["robustness_misses"][variant] = [
            {"text": t, "expected": g, "predicted": p}
            for t, g, p in zip(variants[variant], gold, predicted_variant, strict=False)
            if g != p
        ]

    cycled = [variants["clean"][i % len(heldout)] for i in range(PARSE_N)]
    start = time.perf_counter()
    for text in cycled:
        parse(text)
    result["parse_1000_seconds"] = time.perf_counter() - start
    return result


# --- output -----------------------------------------------------------------------------------


def ratio(value: float, reference: float) -> float | None:
    return value / reference if reference else None


def add_ratios(results: list[dict]) -> None:
    """Each run against rasa_default trained with the same seed, and against the keyword baseline."""
    by_key = {(r.get("base", r["pipeline"]), r.get("seed")): r for r in results}
    for r in results:
        r["ratios"] = {}
        for ref in ("rasa_default", "keyword"):
            base = by_key.get((ref, None if ref == "keyword" else r.get("seed")))
            if base is not None:
                r["ratios"][f"vs_{ref}"] = {
                    key: ratio(r[key], base[key]) for key in ("train_seconds", "parse_1000_seconds")
                }
                r["ratios"][f"vs_{ref}"]["intent_accuracy"] = ratio(
                    r["intent_accuracy"], base["intent_accuracy"]
                )


def over_seeds(results: list[dict]) -> list[dict]:
    """Mean, lowest and highest of each pipeline's figures over its seeds."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        if r.get("seed") is not None:
            groups[r["base"]].append(r)
    summary = []
    for base, runs in groups.items():
        figures = {
            "intent accuracy": [r["intent_accuracy"] for r in runs],
            "macro-F1": [r["macro_f1"] for r in runs],
            "entity F1": [r["entity"]["micro"]["f1"] for r in runs if r["entity"]],
        }
        for variant, label in (
            ("no_accents", "drop no accents (points)"),
            ("typos", "drop typos (points)"),
            ("upper", "drop upper (points)"),
        ):
            figures[label] = [100 * (r["robustness"]["clean"] - r["robustness"][variant]) for r in runs]
        summary.append(
            {
                "pipeline": base,
                "seeds": [r["seed"] for r in runs],
                "figures": {
                    k: {"mean": sum(v) / len(v), "min": min(v), "max": max(v)}
                    for k, v in figures.items()
                    if v
                },
            }
        )
    return summary


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}"


def _spread(figure: dict | None, digits: int) -> str:
    if not figure:
        return "n/a"
    return f"{figure['mean']:.{digits}f} ({figure['min']:.{digits}f}-{figure['max']:.{digits}f})"


def markdown(results: list[dict], meta: dict) -> str:
    lines = [
        "# NLU benchmark",
        "",
        f"Command: `{meta['command']}`  ",
        f"Date (UTC): {meta['date']}; {meta['machine']}; Rasa {meta['rasa']}; epochs scale "
        f"{meta['epochs_scale']}.  ",
        f"Training: data/nlu ({meta['train_examples']} examples); scored on tests/nlu/heldout.yml "
        f"({meta['heldout_examples']} messages, {meta['heldout_entities']} annotated entities).",
        "",
        "| pipeline | intent acc. | macro-F1 | entity F1 (micro) | acc. w/o fallback | fallback rate "
        "| train s | parse 1,000 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = over_seeds(results)
    if summary and any(len(g["seeds"]) > 1 for g in summary):
        names = list(summary[0]["figures"])
        lines[-2:-2] = (
            [
                "Over seeds (mean, lowest-highest):",
                "",
                "| pipeline | seeds | " + " | ".join(names) + " |",
                "|---|---|" + "---|" * len(names),
            ]
            + [
                f"| {g['pipeline']} | {', '.join(map(str, g['seeds']))} | "
                + " | ".join(_spread(g["figures"].get(n), 1 if "points" in n else 3) for n in names)
                + " |"
                for g in summary
            ]
            + ["", "Each run:", ""]
        )
    for r in results:
        ent = r["entity"]["micro"]["f1"] if r["entity"] else None
        lines.append(
            f"| {r['pipeline']} | {fmt(r['intent_accuracy'])} | {fmt(r['macro_f1'])} | {fmt(ent)} | "
            f"{fmt(r['intent_accuracy_without_fallback'])} | {fmt(r['fallback_rate'])} | "
            f"{r['train_seconds']:.1f} | {r['parse_1000_seconds']:.2f} |"
        )
    lines += [
        "",
        "Ratios (this pipeline / reference, same run):",
        "",
        "| pipeline | train vs rasa_default | parse vs rasa_default | accuracy vs rasa_default "
        "| train vs keyword | parse vs keyword |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        d, k = r["ratios"].get("vs_rasa_default", {}), r["ratios"].get("vs_keyword", {})
        lines.append(
            f"| {r['pipeline']} | {fmt(d.get('train_seconds'), 2)} | {fmt(d.get('parse_1000_seconds'), 2)} | "
            f"{fmt(d.get('intent_accuracy'), 3)} | {fmt(k.get('train_seconds'), 0)} | "
            f"{fmt(k.get('parse_1000_seconds'), 0)} |"
        )
    lines += [
        "",
        "Robustness: intent accuracy on the held-out set degraded (drop from clean in points):",
        "",
        "| pipeline | clean | no accents | one typo per word of 5+ letters | UPPER CASE |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        rb = r["robustness"]
        cells = [fmt(rb["clean"])] + [
            f"{fmt(rb[v])} ({100 * (rb[v] - rb['clean']):+.1f})" for v in ("no_accents", "typos", "upper")
        ]
        lines.append(f"| {r['pipeline']} | " + " | ".join(cells) + " |")
    for r in results:
        if not r["entity"]:
            continue
        lines += [
            "",
            f"Entity F1 per entity, {r['pipeline']} (exact span + value after synonyms):",
            "",
            "| entity | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for name, s in r["entity"]["per_entity"].items():
            lines.append(
                f"| {name} | {fmt(s['precision'])} | {fmt(s['recall'])} | {fmt(s['f1'])} | {s['support']} |"
            )
        m = r["entity"]["micro"]
        lines.append(
            f"| **micro** | {fmt(m['precision'])} | {fmt(m['recall'])} | {fmt(m['f1'])} | {m['support']} |"
        )
    ours = next((r for r in results if r.get("base") == "ours"), None)
    if ours:
        lines += [
            "",
            "Per-intent F1, ours:",
            "",
            "| intent | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for name, s in ours["per_intent"].items():
            lines.append(
                f"| {name} | {fmt(s['precision'])} | {fmt(s['recall'])} | {fmt(s['f1'])} | {s['support']} |"
            )
        lines += ["", "Confusion matrix (ours): confusion_ours.png"]
    return "\n".join(lines) + "\n"


def confusion_png(gold: list[str], predicted: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted(set(gold))
    columns = labels + sorted(set(predicted) - set(labels))
    matrix = [[0] * len(columns) for _ in labels]
    for g, p in zip(gold, predicted, strict=False):
        matrix[labels.index(g)][columns.index(p)] += 1
    fig, ax = plt.subplots(figsize=(11, 9), dpi=90)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    ax.set_title(title, fontsize=10)
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            if n:
                ax.text(
                    j,
                    i,
                    str(n),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if n > peak / 2 else ("red" if i != j else "black"),
                )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--epochs-scale",
        type=float,
        default=1.0,
        help="multiply every DIET epochs setting (e.g. 0.1 for a smoke run)",
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        type=Path,
        help="another pipeline config to compare (named after its file)",
    )
    parser.add_argument(
        "--keep-models",
        type=Path,
        default=None,
        help="copy the trained models to this directory (e.g. for RASA_MODEL=...)",
    )
    parser.add_argument(
        "--pipelines",
        default="ours,rasa_default",
        help="comma-separated built-in pipelines to train (ours, rasa_default; "
        "empty: none); the keyword baseline always runs",
    )
    parser.add_argument(
        "--seeds",
        default="",
        help="comma-separated DIET random seeds: each Rasa pipeline is trained once "
        "per seed (default: the seed in its config)",
    )
    parser.add_argument(
        "--output-stem", default="nlu_bench", help="results go to bench/results/<stem>.json and .md"
    )
    args = parser.parse_args()

    # Rasa's training cache (.rasa/cache) would restore an already trained pipeline in seconds:
    # switch it off so every pipeline is trained from scratch and train times are comparable.
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    os.environ["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(prefix="nlu-bench-cache-")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("LOG_LEVEL_LIBRARIES", "ERROR")
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    import rasa
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.ERROR)
    configure_structlog(logging.ERROR)

    heldout = load_heldout()
    training = load_training()
    variants = make_variants([ex["text"] for ex in heldout])
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []

    keyword = KeywordBaseline()
    start = time.perf_counter()
    keyword.train(training)
    results.append(
        evaluate(
            "keyword", keyword.parse, heldout, variants, time.perf_counter() - start, with_entities=False
        )
    )
    print(f"keyword: accuracy {results[-1]['intent_accuracy']:.3f}", flush=True)

    builtin = {"ours": CONFIG, "rasa_default": RASA_DEFAULT}
    pipelines = [(name, builtin[name]) for name in filter(None, args.pipelines.split(","))]
    pipelines += [(p.stem, p.resolve()) for p in args.extra]
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()] or [None]
    with tempfile.TemporaryDirectory(prefix="nlu-bench-") as tmp:
        tmp_dir = Path(tmp)
        # seed by seed, so the runs a ratio compares are trained close together in time
        for (base, source), seed in ((p, seed) for seed in seeds for p in pipelines):
            name = base if seed is None else f"{base}@{seed}"
            config = nlu_config(source, args.epochs_scale, tmp_dir, seed, name.replace("@", "_s"))
            shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
            print(f"{name}: training {shown} ...", flush=True)
            model, seconds = train_rasa(config, tmp_dir, name.replace("@", "_s"))
            print(f"{name}: trained in {seconds:.0f}s; parsing ...", flush=True)
            if args.keep_models:
                import shutil

                args.keep_models.mkdir(parents=True, exist_ok=True)
                shutil.copy(model, args.keep_models / Path(model).name)
            rasa_parser = RasaParser(model)
            results.append(evaluate(name, rasa_parser.parse, heldout, variants, seconds, with_entities=True))
            results[-1].update(base=base, seed=seed)
            rasa_parser.close()
            r = results[-1]
            print(
                f"{name}: accuracy {r['intent_accuracy']:.3f}, macro-F1 {r['macro_f1']:.3f}, "
                f"entity F1 {r['entity']['micro']['f1']:.3f}",
                flush=True,
            )

    order = {"ours": 0, "rasa_default": 1, "keyword": 9}
    results.sort(key=lambda r: (order.get(r.get("base", r["pipeline"]), 5), r.get("seed") or 0))
    add_ratios(results)
    meta = {
        "command": " ".join([".venv/bin/python", "bench/nlu_bench.py"] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "rasa": rasa.__version__,
        "epochs_scale": args.epochs_scale,
        "train_examples": len(training),
        "heldout_examples": len(heldout),
        "heldout_entities": sum(len(ex["entities"]) for ex in heldout),
        "typo_seed": TYPO_SEED,
        "diet_seeds": [x for x in seeds if x is not None] or "as in each config",
    }
    (RESULTS / f"{args.output_stem}.json").write_text(
        json.dumps(
            {"meta": meta, "results": results, "over_seeds": over_seeds(results)},
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    table = markdown(results, meta)
    (RESULTS / f"{args.output_stem}.md").write_text(table, encoding="utf-8")
    ours = next((r for r in results if r.get("base") == "ours"), None)
    if ours:
        confusion_png(
            [ex["intent"] for ex in heldout],
            ours["predicted"],
            RESULTS / "confusion_ours.png",
            f"ours: intent accuracy {ours['intent_accuracy']:.3f} on {len(heldout)} held-out messages",
        )
    print()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
