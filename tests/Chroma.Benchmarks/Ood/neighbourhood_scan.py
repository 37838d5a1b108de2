#!/usr/bin/env python3
"""A neighbourhood scan for the production-shift lead, offline (issue 13 item 3; not used by the server).

Reads an `ood --absent-classes 9 --dump DIR` directory. The pool is the fitted training rows plus production (unit
embeddings, cosine). For a record, c_k is how many of its k nearest pooled rows are production (a pooled row never
counts itself); with pi the pool's production share, z_k = (c_k - k pi) / sqrt(k pi (1 - pi)) (the binomial z under
"production is drawn like training"), and the scan is max_k z_k over k in SCALES: a group of production records that
training lacks raises c_k at the k of its own size, whatever that size is. The scan is calibrated like the engine's
classifier (on the held-out training rows, which are not in the pool; lead measured against the stream's bulk: the
2% quantiles' difference) and replaces or joins the classifier's lead in the engine's balanced rule:

  engine  the engine's rule with the classifier's lead (as `combination_frontier.py`)
  scan    the same rule with the scan's lead in its place (the classifier keeps its vote in the mean)
  both    the same rule with the larger of the two leads

Settings: the class-absent model (training without 9s; production 1,803 normal digits + 191 nines) and, for the main
model, production = the normal digits + one shift (pairwise, as `combination_frontier.py`). AUROC shifted vs normal,
and misclassified vs correct among the normal digits.

  OMP_NUM_THREADS=1 /usr/bin/python3 tests/Chroma.Benchmarks/Ood/neighbourhood_scan.py DUMP CACHE [scales]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import domain_classifiers as dc  # noqa: E402

def unit(e):
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def scan(pool, is_production, queries, scales, in_pool):
    """max_k z_k of each query; in_pool[i] >= 0: the pooled row query i is (not counted)."""
    pi = is_production.mean()
    kmax = max(scales)
    out = np.empty(len(queries))
    for s in range(0, len(queries), 1000):
        sim = queries[s:s + 1000] @ pool.T
        rows = np.arange(sim.shape[0])
        own = in_pool[s:s + 1000]
        sim[rows[own >= 0], own[own >= 0]] = -np.inf
        nn = np.argpartition(-sim, kmax, axis=1)[:, :kmax]
        order = np.argsort(-np.take_along_axis(sim, nn, axis=1), axis=1)
        nn = np.take_along_axis(nn, order, axis=1)
        counts = np.cumsum(is_production[nn], axis=1)
        z = [(counts[:, k - 1] - k * pi) / np.sqrt(k * pi * (1 - pi)) for k in scales]
        out[s:s + 1000] = np.max(z, axis=0)
    return out


def evaluate(name, training, fitted, held, production, surprise, n_normal, mistakes, classifier, scales):
    x_tr = unit(training["emb"])
    pool = np.vstack([x_tr[fitted], unit(production["emb"])])
    is_production = np.r_[np.zeros(len(fitted)), np.ones(len(production["emb"]))]
    s_prod = scan(pool, is_production, unit(production["emb"]), scales, np.arange(len(fitted), len(pool)))
    s_held = scan(pool, is_production, x_tr[held], scales, -np.ones(len(held), int))
    raw, held_scores = classifier
    c_training, c_lead = dc.lead_surprises(raw, held_scores)
    _, k_lead = dc.lead_surprises(s_prod, s_held)
    m = dc.balanced(surprise, c_training)
    rows = {"engine": dc.engine_rule(m, c_lead), "scan": dc.engine_rule(m, k_lead), "both": dc.engine_rule(m, np.maximum(c_lead, k_lead)),
            "scan alone": s_prod, "classifier alone": raw}
    result = {}
    for rule, score in rows.items():
        result[rule] = (dc.auroc(score[n_normal:], score[:n_normal]), dc.auroc(score[:n_normal][mistakes], score[:n_normal][~mistakes]))
    return result


def main():
    directory, cache = sys.argv[1], sys.argv[2]
    scales = [int(k) for k in sys.argv[3].split(",")] if len(sys.argv) > 3 else [10, 30, 100, 300, 1000]
    part, _ = dc.load(directory)
    results = {}

    training, normal, novel = part("absent9-training"), part("absent9-normal"), part("absent9-novel")
    fitted = np.fromfile(f"{directory}/absent9-production.fitted.i32", np.int32)
    held = np.setdiff1d(np.arange(len(training["emb"])), fitted)
    production = {k: np.concatenate([normal[k], novel[k]]) for k in normal}
    surprise = np.fromfile(f"{directory}/absent9-production.surprise.f64").reshape(len(production["emb"]), dc.KINDS)
    x_training = dc.features(training["emb"], training["prob"])
    x_production = dc.features(production["emb"], production["prob"])
    classifier = dc.cached_classifier(f"{cache}/scan-net64-absent9.pkl", x_training, fitted, held, x_production, np.arange(len(x_production)))
    results["class 9 absent"] = evaluate("absent", training, fitted, held, production, surprise, len(normal["emb"]),
                                         normal["pred"] != normal["label"], classifier, scales)
    print("class 9 absent", {r: f"{a:.3f}/{b:.3f}" for r, (a, b) in results["class 9 absent"].items()}, flush=True)

    training, normal = part("training"), part("normal")
    shifts = [part(f"shift{s}") for s in range(len(dc.SHIFTS))]
    n_all = len(normal["emb"]) + sum(len(s["emb"]) for s in shifts)
    surprise_all = np.fromfile(f"{directory}/production-all.surprise.f64").reshape(n_all, dc.KINDS)
    fitted = np.fromfile(f"{directory}/production-all.fitted.i32", np.int32)
    held = np.setdiff1d(np.arange(len(training["emb"])), fitted)
    x_training = dc.features(training["emb"], training["prob"])
    n_normal = len(normal["emb"])
    ends = np.cumsum([n_normal] + [len(s["emb"]) for s in shifts])[1:]
    for shift, name in enumerate(dc.SHIFTS):
        start, end = ends[shift] - len(shifts[shift]["emb"]), ends[shift]
        ids = np.r_[np.arange(n_normal), np.arange(start, end)]
        production = {k: np.concatenate([normal[k], shifts[shift][k]]) for k in normal}
        x_production = dc.features(production["emb"], production["prob"])
        classifier = dc.cached_classifier(f"{cache}/scan-net64-shift{shift}.pkl", x_training, fitted, held, x_production, np.arange(len(x_production)))
        results[name] = evaluate(name, training, fitted, held, production, surprise_all[ids], n_normal,
                                 normal["pred"] != normal["label"], classifier, scales)
        print(name, {r: f"{a:.3f}/{b:.3f}" for r, (a, b) in results[name].items()}, flush=True)

    print(f"\nscales {scales}; AUROC shifted vs normal (misclassified vs correct among the normal digits)")
    print("| rule | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for rule in next(iter(results.values())):
        print(f"| {rule} | " + " | ".join(f"{r[rule][0]:.3f} ({r[rule][1]:.3f})" for r in results.values()) + " |")


if __name__ == "__main__":
    main()
