#!/usr/bin/env python3
"""What the server's inputs allow at most: supervised detectors with the true shifted / normal labels (issue 13 item 3).

The server sees, per record, the model's embedding and probabilities, nothing of the image. This script asks how well
any detector working on those could separate each constructed shift from the normal digits if it were *told* which
records are shifted: classifiers trained on the labels themselves, scored out of fold (5-fold stratified
cross-validation, seeded), AUROC shifted vs normal. No server detector has these labels (it sees production and
training only), so the best row per shift is a ceiling for the engine on that shift, not a target; where the ceiling is
below a goal, no detector on these embeddings and probabilities reaches the goal.

  /usr/bin/python3 tests/Chroma.Benchmarks/Ood/supervised_ceiling.py DUMP [--seed 1]

DUMP is an `ood --dump DIR` directory (OutputDump.cs). Feature sets: `outputs` = standardised [x / ||x||, log ||x||,
log(p + 1e-6)] as the engine's production-shift classifier uses; `signals` = the engine's calibrated surprises per
signal (what any combination of the engine's signals can reach). numpy / scikit-learn only; nothing here is used by
the server.
"""
import argparse
import warnings

warnings.filterwarnings("ignore")

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SHIFTS = ["letters", "rotation", "transl.", "scale", "contrast", "inversion", "blur", "noise", "7s mirrored"]
KINDS = 9  # SignalKind values in enum order


def load(directory):
    counts = {k: int(v) for k, v in (line.split() for line in open(f"{directory}/manifest.txt"))}

    def part(name):
        n = counts[name]
        return dict(
            emb=np.fromfile(f"{directory}/{name}.emb.f32", np.float32).reshape(n, -1),
            prob=np.fromfile(f"{directory}/{name}.prob.f32", np.float32).reshape(n, -1))
    return part, counts


def outputs(p):
    norm = np.linalg.norm(p["emb"], axis=1, keepdims=True)
    unit = p["emb"] / np.maximum(norm, 1e-12)
    return np.hstack([unit, np.log(np.maximum(norm, 1e-12)), np.log(p["prob"] + 1e-6)])


def classifiers(seed):
    return {
        "logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)),
        "mlp 256": lambda: make_pipeline(StandardScaler(), MLPClassifier(
            (256,), alpha=1e-3, early_stopping=True, max_iter=300, random_state=seed)),
        "gradient boosting": lambda: HistGradientBoostingClassifier(random_state=seed),
        "knn 20": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(20)),
    }


def out_of_fold_auroc(make, X, y, seed):
    scores = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y):
        model = make().fit(X[train], y[train])
        scores[test] = model.predict_proba(X[test])[:, 1]
    return roc_auc_score(y, scores)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    part, counts = load(args.dir)

    normal = part("normal")
    shifts = [part(f"shift{s}") for s in range(len(SHIFTS))]
    n_all = len(normal["emb"]) + sum(len(s["emb"]) for s in shifts)
    surprise = np.nan_to_num(np.fromfile(f"{args.dir}/production-all.surprise.f64").reshape(n_all, KINDS))
    ends = np.cumsum([len(normal["emb"])] + [len(s["emb"]) for s in shifts])
    columns = [(SHIFTS[s], outputs(normal), outputs(shifts[s]), surprise[:ends[0]], surprise[ends[s]:ends[s + 1]])
               for s in range(len(SHIFTS))]
    for name in sorted(k for k in counts if k.endswith("-novel")):
        stem = name[: -len("-novel")]
        known, novel = part(f"{stem}-normal"), part(name)
        n = len(known["emb"]) + len(novel["emb"])
        path = f"{args.dir}/{stem}-production.surprise.f64"
        s = np.nan_to_num(np.fromfile(path).reshape(n, KINDS))
        columns.append((stem.replace("absent", "class ") + " absent", outputs(known), outputs(novel),
                        s[: len(known["emb"])], s[len(known["emb"]):]))

    print("| features | classifier | " + " | ".join(c[0] for c in columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    best = {c[0]: 0.0 for c in columns}
    for features in ("outputs", "signals"):
        for label, make in classifiers(args.seed).items():
            if features == "signals" and label == "knn 20":
                continue
            cells = []
            for name, xn, xs, sn, ss in columns:
                X = np.vstack([xn, xs]) if features == "outputs" else np.vstack([sn, ss])
                y = np.r_[np.zeros(len(xn)), np.ones(len(xs))]
                auc = out_of_fold_auroc(make, X, y, args.seed)
                best[name] = max(best[name], auc)
                cells.append(f"{auc:.3f}")
            print(f"| {features} | {label} | " + " | ".join(cells) + " |", flush=True)
    print("| best | | " + " | ".join(f"{best[c[0]]:.3f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
