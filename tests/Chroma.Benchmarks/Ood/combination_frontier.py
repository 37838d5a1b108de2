#!/usr/bin/env python3
"""How balanced's fixed signals and the production-shift lead trade off, pairwise (issue 13 item 3).

Reads an `ood --dump DIR` directory. For each shift, production is the normal digits plus that shift; the engine's
domain classifier (`domain_classifiers.engine_net(64)`, cross-fitted as the engine) is fitted on training vs that
production, its logit calibrated on the held-out training rows, and its lead surprise measured against the stream's bulk
(`ProductionShift.NullShift`: production's lowest 2% against training's). Then, per combination rule, AUROC shifted vs
normal and misclassified vs correct among the normal digits (range over the shifts):

  engine  the engine's balanced: m + lead * max(0, s_lead - max(m, 1)), lead = (1 - 10^(1 - s_lead))^2
  max     max(m, s_lead)
  lead    s_lead alone (the classifier)
  m       the weighted mean alone (the classifier's surprise one vote of it)
  sumW    m + W * s_lead

m is the weighted mean of the engine's calibrated surprises (SignalCombiner's balanced weights) with the classifier's
surprise against training as one vote. Classifier fits are cached (`CACHE`), so other rules rerun in seconds.

  OMP_NUM_THREADS=1 /usr/bin/python3 tests/Chroma.Benchmarks/Ood/combination_frontier.py DUMP CACHE engine,max,lead,m,sum1
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import domain_classifiers as dc  # noqa: E402

def main():
    directory, cache, rules = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    part, _ = dc.load(directory)
    training, normal = part("training"), part("normal")
    shifts = [part(f"shift{s}") for s in range(len(dc.SHIFTS))]
    n_all = len(normal["emb"]) + sum(len(s["emb"]) for s in shifts)
    surprise = np.fromfile(f"{directory}/production-all.surprise.f64").reshape(n_all, dc.KINDS)
    fitted = np.fromfile(f"{directory}/production-all.fitted.i32", np.int32)
    held = np.setdiff1d(np.arange(len(training["emb"])), fitted)
    x_training = dc.features(training["emb"], training["prob"])
    x_production = np.vstack([dc.features(normal["emb"], normal["prob"])] + [dc.features(s["emb"], s["prob"]) for s in shifts])
    n_normal = len(normal["emb"])
    ends = np.cumsum([n_normal] + [len(s["emb"]) for s in shifts])[1:]
    mistakes = normal["pred"] != normal["label"]

    def classifier(shift, ids):
        return dc.cached_classifier(f"{cache}/net64-shift{shift}-{len(ids)}.pkl", x_training, fitted, held, x_production[ids], ids)

    def score(rule, other, raw, held_scores):
        s_training, s_lead = dc.lead_surprises(raw, held_scores)
        m = dc.balanced(other, s_training)
        if rule == "engine":
            return dc.engine_rule(m, s_lead)
        if rule == "max":
            return np.maximum(m, s_lead)
        if rule == "lead":
            return s_lead + 1e-9 * m
        if rule == "m":
            return m
        if rule.startswith("sum"):
            return m + float(rule[3:]) * s_lead
        raise SystemExit(f"unknown rule {rule}")

    results = {rule: [] for rule in rules}
    for shift in range(len(dc.SHIFTS)):
        start, end = ends[shift] - len(shifts[shift]["emb"]), ends[shift]
        ids = list(range(n_normal)) + list(range(start, end))
        raw, held_scores = classifier(shift, ids)
        for rule in rules:
            s = score(rule, surprise[ids], raw, held_scores)
            results[rule].append((dc.auroc(s[n_normal:], s[:n_normal]), dc.auroc(s[:n_normal][mistakes], s[:n_normal][~mistakes])))
    for rule in rules:
        columns = " ".join(f"{dc.SHIFTS[s]} {results[rule][s][0]:.3f}" for s in range(len(dc.SHIFTS)))
        misclassified = [m for _, m in results[rule]]
        print(f"{rule:8s} {columns} misclassified {min(misclassified):.3f}-{max(misclassified):.3f}", flush=True)


if __name__ == "__main__":
    main()
