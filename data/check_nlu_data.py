#!/usr/bin/env python3
"""Checks the NLU data (Rasa 3.x YAML) against the contract in data/NLU_CONTRACT.md.

Usage:  python data/check_nlu_data.py        (needs only PyYAML)

Prints counts per intent (training and held-out) and annotated examples per entity. Exits 1 if:
  - a held-out sentence (tests/nlu/heldout.yml), normalised, equals a training sentence
    (data/nlu/*.yml);
  - a training sentence is repeated (within or across intents);
  - an intent of the contract has fewer training examples than its minimum;
  - there are intents or entities outside the contract, malformed annotations, an intent of the
    contract with no held-out sentence, or fewer than 320 held-out sentences;
  - an entity has fewer than 15 annotated training examples.
Normalise = drop entity markup, lower case, no accents, no punctuation, single spaces.

It also warns (without failing) about lookup or synonym words that appear unannotated, to be
checked by hand.
"""

import glob
import json
import os
import re
import sys
import unicodedata

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("PyYAML is missing: pip install pyyaml")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NLU_DIR = os.path.join(ROOT, "data", "nlu")
HELDOUT = os.path.join(ROOT, "tests", "nlu", "heldout.yml")
CONTRACT = os.path.join(ROOT, "data", "NLU_CONTRACT.md")

MIN_TRAIN = {
    "ask_payment_status": 80,
    "ask_trainings": 80,
    "enrol_training": 80,
    "ask_quality_standard": 80,
    "ask_avocado_size": 80,
    "request_human": 80,
    "ask_deliveries": 80,
    "ask_payment_history": 80,
    "ask_explanation": 80,
    "ask_howto": 80,
    "follow_up": 80,
    "ask_my_enrolments": 40,
    "cancel_enrolment": 40,
    "send_media": 30,
    "set_pin": 30,
    "revoke_consent": 30,
    "out_of_scope": 40,
    "help": 40,
    "inform_number": 40,
    "greet": 25,
    "goodbye": 25,
    "thank": 25,
    "affirm": 25,
    "deny": 25,
    "bot_challenge": 25,
}
MIN_HELDOUT_TOTAL = 320
MIN_ANNOTATED_PER_ENTITY = 15
ENTITIES = [
    "product",
    "calibre",
    "weight",
    "grade",
    "training_topic",
    "state",
    "municipality",
    "invoice_folio",
]
# lookup/synonym words that are also common words: no warning when they are not annotated
AMBIGUOUS = {
    "calidad",
    "agua",
    "bola",
    "sat",
    "1a",
    "2a",
    "ario",
    "guzman",
    "mich",
    "jal",
    "gro",
    "hgo",
    "oax",
    "tlax",
    "gto",
    "qro",
    "chih",
    "empaque",
}

# [text](entity)  or  [text]{"entity": ..., "value": ...}
ANN_RE = re.compile(r"\[([^\[\]]+)\](?:\(([^()]*)\)|(\{[^{}]*\}))")


def strip_accents(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def strip_markup(text):
    return ANN_RE.sub(lambda m: m.group(1), text)


def normalize(text):
    t = strip_accents(strip_markup(text).lower())
    t = re.sub(r"[^\w\s]|_", "", t)
    return " ".join(t.split())


def parse_entities(example):
    """Returns ([(text, entity, value)], [errors])."""
    ents, errs = [], []
    for m in ANN_RE.finditer(example):
        text, name, js = m.group(1), m.group(2), m.group(3)
        value = None
        if js is not None:
            try:
                d = json.loads(js)
            except ValueError:
                errs.append("invalid entity JSON: %s" % js)
                continue
            name, value = d.get("entity"), d.get("value")
        ents.append((text, name, value))
    rest = ANN_RE.sub("", example)
    if "[" in rest or "]" in rest:
        errs.append("brackets without a valid annotation")
    return ents, errs


def load_examples(path):
    """(intent, example, file) for every example of a Rasa NLU YAML file."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    out = []
    if str(data.get("version", "")) != "3.1":
        out.append((None, 'falta version: "3.1"', path))
    for item in data.get("nlu", []) or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples", "")).splitlines():
            line = line.strip()
            if not line:
                continue
            if not line.startswith("- "):
                out.append((None, "line without '- ': %r" % line, path))
                continue
            out.append((item["intent"], line[2:].strip(), path))
    return out


def contract_intents():
    if not os.path.exists(CONTRACT):
        return None
    intents, in_section = [], False
    with open(CONTRACT, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("Intents"):
                in_section = True
                continue
            if line.startswith("Entities"):
                break
            m = re.match(r"^- ([a-z_]+):", line)
            if in_section and m:
                intents.append(m.group(1))
    return intents


def term_list():
    """Lookup and synonym terms, to warn about unannotated mentions."""
    terms = set()
    for fname in ("lookups.yml", "synonyms.yml"):
        path = os.path.join(NLU_DIR, fname)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for item in data.get("nlu", []) or []:
            if "lookup" in item or "synonym" in item:
                if "synonym" in item:
                    terms.add(str(item["synonym"]))
                for line in str(item.get("examples", "")).splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        terms.add(line[2:].strip())
    norm = set()
    for t in terms:
        n = normalize(t)
        if n and n not in AMBIGUOUS and not n.isdigit():
            norm.add(n)
    return norm


def unannotated(example, terms, intent):
    masked = ANN_RE.sub(" | ", example)
    words = normalize(masked.replace("|", " ¦ ")).split()
    text = " " + " ".join(words) + " "
    hits = []
    for t in terms:
        if " %s " % t in text:
            hits.append(t)
    if intent != "inform_number":
        for n in re.findall(r"\b(32|36|40|48|50|60|70|84)\b", masked):
            hits.append(n)
        for w in (
            "treinta y dos",
            "treinta y seis",
            "cuarenta",
            "cincuenta",
            "sesenta",
            "setenta",
            "ochenta y cuatro",
        ):
            if " %s " % w in text:
                hits.append(w)
    # 'calibre' only warns about calibre number words; substrings of other hits are dropped here
    return sorted({h for h in hits if not any(h != o and h in o for o in hits)})


def table(counts_train, counts_held, order):
    print("%-22s %7s %8s %7s" % ("intent", "train", "heldout", "minimum"))
    print("-" * 48)
    for intent in order:
        print(
            "%-22s %7d %8d %7s"
            % (intent, counts_train.get(intent, 0), counts_held.get(intent, 0), MIN_TRAIN.get(intent, "-"))
        )
    print("-" * 48)
    print("%-22s %7d %8d" % ("TOTAL", sum(counts_train.values()), sum(counts_held.values())))


def main():
    errors, warnings = [], []
    contract = contract_intents()
    if contract is None:
        warnings.append("%s is missing; using the built-in list of intents" % os.path.relpath(CONTRACT, ROOT))
        contract = list(MIN_TRAIN)
    for i in contract:
        if i not in MIN_TRAIN:
            errors.append("contract intent with no minimum in this script: %s" % i)

    train_files = sorted(glob.glob(os.path.join(NLU_DIR, "*.yml")))
    train = []
    for f in train_files:
        train.extend(load_examples(f))
    if not os.path.exists(HELDOUT):
        errors.append("%s is missing" % os.path.relpath(HELDOUT, ROOT))
        held = []
    else:
        held = load_examples(HELDOUT)

    for intent, ex, path in train + held:
        if intent is None:
            errors.append("%s: %s" % (os.path.relpath(path, ROOT), ex))
    train = [t for t in train if t[0] is not None]
    held = [t for t in held if t[0] is not None]

    counts_train, counts_held = {}, {}
    for intent, _, _ in train:
        counts_train[intent] = counts_train.get(intent, 0) + 1
    for intent, _, _ in held:
        counts_held[intent] = counts_held.get(intent, 0) + 1

    # intents outside the contract / minimums
    for intent in sorted(set(counts_train) | set(counts_held)):
        if intent not in contract:
            errors.append("intent outside the contract: %s" % intent)
    for intent in contract:
        need = MIN_TRAIN.get(intent, 1)
        if counts_train.get(intent, 0) < need:
            errors.append(
                "training: %s has %d examples (minimum %d)" % (intent, counts_train.get(intent, 0), need)
            )
        if counts_held.get(intent, 0) == 0:
            errors.append("held-out: %s has no sentences" % intent)
    if sum(counts_held.values()) < MIN_HELDOUT_TOTAL:
        errors.append(
            "held-out has %d sentences (minimum %d)" % (sum(counts_held.values()), MIN_HELDOUT_TOTAL)
        )

    # duplicates in training
    seen = {}
    for intent, ex, path in train:
        n = normalize(ex)
        if not n:
            errors.append("empty sentence in %s" % os.path.relpath(path, ROOT))
            continue
        if n in seen:
            errors.append("duplicate in training: %r (%s) = %r (%s)" % (ex, intent, seen[n][1], seen[n][0]))
        else:
            seen[n] = (intent, ex)
    # held-out vs training (and duplicates within the held-out set)
    seen_held = {}
    for intent, ex, _ in held:
        n = normalize(ex)
        if n in seen:
            errors.append(
                "held-out equals training: %r (%s) = %r (%s)" % (ex, intent, seen[n][1], seen[n][0])
            )
        if n in seen_held:
            errors.append("duplicate within the held-out set: %r" % ex)
        seen_held[n] = intent

    # entities
    ent_train = dict.fromkeys(ENTITIES, 0)
    ent_held = dict.fromkeys(ENTITIES, 0)
    terms = term_list()
    for dataset, counter, label in ((train, ent_train, "train"), (held, ent_held, "heldout")):
        for intent, ex, _path in dataset:
            ents, errs = parse_entities(ex)
            for e in errs:
                errors.append("%s: %s in %r" % (label, e, ex))
            names = set()
            for _text, name, _value in ents:
                if name not in ENTITIES:
                    errors.append("%s: entity outside the contract %r in %r" % (label, name, ex))
                    continue
                names.add(name)
            for name in names:
                counter[name] += 1
            for t in unannotated(ex, terms, intent):
                warnings.append("%s/%s: possibly unannotated entity %r in %r" % (label, intent, t, ex))
    for e in ENTITIES:
        if ent_train[e] < MIN_ANNOTATED_PER_ENTITY:
            errors.append(
                "entity %s annotated in %d training examples (minimum %d)"
                % (e, ent_train[e], MIN_ANNOTATED_PER_ENTITY)
            )

    order = list(contract) + sorted((set(counts_train) | set(counts_held)) - set(contract))
    print("Training files: %s" % ", ".join(os.path.relpath(f, ROOT) for f in train_files))
    print("Held-out: %s\n" % os.path.relpath(HELDOUT, ROOT))
    table(counts_train, counts_held, order)
    print("\n%-16s %7s %8s" % ("entity", "train", "heldout"))
    print("-" * 33)
    for e in ENTITIES:
        print("%-16s %7d %8d" % (e, ent_train[e], ent_held[e]))
    print("(examples with at least one annotation of the entity)\n")

    for w in warnings:
        print("WARNING: " + w)
    for e in errors:
        print("ERROR: " + e)
    if errors:
        print("\nFAILED: %d error(s)" % len(errors))
        return 1
    print("OK: NLU data valid (%d warnings)" % len(warnings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
