#!/usr/bin/env python3
"""Genera data/nlu/lookups.yml a partir de los archivos data/lookups/*.txt.

Rasa 3 necesita los elementos de cada lookup dentro del YAML (`lookup:` +
`examples: |`), asi que este script copia cada lista y agrega variantes de
escritura que usan los productores por WhatsApp/SMS:
  - el texto tal cual,
  - sin acentos (Tancítaro -> Tancitaro),
  - en minusculas y en MAYUSCULAS (el RegexFeaturizer es sensible a
    mayusculas por defecto).

Uso (desde la raiz del repo o desde cualquier lado):
    python data/lookups/build_lookups.py

Formato de los .txt: un elemento por linea; las lineas vacias y las que
empiezan con '#' se ignoran.
"""

import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "data", "nlu", "lookups.yml")

# archivo .txt -> nombre del lookup (debe ser igual al nombre de la entidad)
LOOKUPS = [
    ("states.txt", "state"),
    ("municipalities.txt", "municipality"),
    ("products.txt", "product"),
    ("training_topics.txt", "training_topic"),
]


def strip_accents(text):
    # quita acentos y dieresis; la ñ tambien pasa a n (en SMS casi siempre se escribe "n")
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def variants(item):
    out = []
    for base in (item, strip_accents(item)):
        for v in (base, base.lower(), base.upper()):
            if v not in out:
                out.append(v)
    return out


def read_items(path):
    items = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            items.append(line)
    return items


def yaml_item(text):
    # los elementos van dentro de un bloque literal "|", no necesitan comillas;
    # solo se rechazan saltos de linea
    if "\n" in text:
        raise ValueError("elemento con salto de linea: %r" % text)
    return "    - " + text


def main():
    lines = [
        "# ARCHIVO GENERADO por data/lookups/build_lookups.py -- no editar a mano.",
        "# Edite data/lookups/*.txt y vuelva a correr: python data/lookups/build_lookups.py",
        'version: "3.1"',
        "nlu:",
    ]
    total = 0
    for fname, name in LOOKUPS:
        path = os.path.join(HERE, fname)
        items = read_items(path)
        if not items:
            sys.exit("lookup vacio: %s" % path)
        seen = set()
        expanded = []
        for item in items:
            for v in variants(item):
                if v not in seen:
                    seen.add(v)
                    expanded.append(v)
        lines.append("- lookup: %s" % name)
        lines.append("  examples: |")
        lines.extend(yaml_item(v) for v in expanded)
        total += len(expanded)
        print("%-16s %4d elementos en %s -> %4d con variantes" % (name, len(items), fname, len(expanded)))
    with open(OUT, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print("escrito %s (%d elementos)" % (os.path.relpath(OUT, ROOT), total))


if __name__ == "__main__":
    main()
