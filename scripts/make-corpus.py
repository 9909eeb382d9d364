#!/usr/bin/env python3
"""Builds the benchmark corpus: real English sentences from CPython's standard-library
docstrings (PSF licence), deduplicated, 20-300 characters, in a stable order.

Usage: scripts/make-corpus.py crates/engram-bench/data/sentences.txt
"""
import importlib, inspect, re, sys, warnings

warnings.simplefilter("ignore")
SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3", "pty", "tty"}
seen, out = set(), []
for mod in sorted(n for n in sys.stdlib_module_names if not n.startswith("_")):
    if mod in SKIP:
        continue
    try:
        m = importlib.import_module(mod)
    except Exception:
        continue
    docs = [inspect.getdoc(m) or ""]
    for _, obj in sorted(vars(m).items()):
        if inspect.isfunction(obj) or inspect.isclass(obj):
            docs.append(inspect.getdoc(obj) or "")
    for doc in docs:
        text = " ".join(doc.split())
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text):
            if 20 <= len(s) <= 300 and s[0].isupper() and s[-1] in ".!?" and ">>>" not in s and s not in seen:
                seen.add(s)
                out.append(s)
with open(sys.argv[1], "w") as f:
    f.write("\n".join(out[:3000]) + "\n")
