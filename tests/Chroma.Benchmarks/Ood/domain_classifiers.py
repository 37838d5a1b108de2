#!/usr/bin/env python3
"""Offline comparison of domain classifiers for the production-shift signal (issue 13 item 3).

Reads an `ood --dump DIR` directory (OutputDump.cs: model outputs plus the engine's per-record surprises and fitted
rows) and, per domain classifier and production mix, prints the AUROC (shifted vs normal) of the classifier alone and
of the balanced score with it in place of the engine's production-shift signal: balanced = mean of the engine's other
calibrated surprises (weights as SignalCombiner: distances 1, boundary 1, entropy/margin/least confidence 1/3 each)
plus this classifier's surprise, calibrated on the engine's held-out training rows like the engine does.

  /usr/bin/python3 tests/Chroma.Benchmarks/Ood/domain_classifiers.py DIR [--variants linear,mlp,...] [--mixes all,...]

Cross-fitting as the engine: 5 folds by FNV-1a of the record id (production) or a multiplicative hash of the row
(training); a record is scored by the model of its own fold. Features as the engine: standardised
[x / ||x||, log ||x||, log(p + 1e-6)]. numpy / scikit-learn only; nothing here is used by the server.
"""
import argparse
import os
import pickle
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

FOLDS = 5
SHIFTS = ["letters", "rotation", "transl.", "scale", "contrast", "inversion", "blur", "noise", "7s mirrored"]
KINDS = 9  # SignalKind values: maha, knn, boundary, entropy, margin, lc, rel, norm, shift
SHIFT_WEIGHT = 1.0  # --shift-weight: the classifier's weight in the balanced mean (the engine's: 1)


def load(directory):
    counts = dict(line.split() for line in open(f"{directory}/manifest.txt"))
    def part(name, dim=128):
        n = int(counts[name])
        emb = np.fromfile(f"{directory}/{name}.emb.f32", np.float32).reshape(n, dim)
        prob = np.fromfile(f"{directory}/{name}.prob.f32", np.float32).reshape(n, -1)
        pred = np.fromfile(f"{directory}/{name}.pred.i32", np.int32)
        label = np.fromfile(f"{directory}/{name}.label.i32", np.int32)
        return dict(emb=emb, prob=prob, pred=pred, label=label)
    return part, counts


def fnv_fold(i):
    h = 2166136261
    for c in str(i):
        h = ((h ^ ord(c)) * 16777619) & 0xFFFFFFFF
    return h % FOLDS


def training_fold(r):
    return ((((r * 2654435761) & 0xFFFFFFFF) >> 16) % FOLDS)


def features(emb, prob):
    norm = np.linalg.norm(emb, axis=1, keepdims=True)
    unit = np.where(norm > 0, emb / np.maximum(norm, 1e-12), 0)
    return np.hstack([unit, np.log(np.maximum(norm, 1e-12)), np.log(np.maximum(prob, 0) + 1e-6)]).astype(np.float64)


class Calibrator:
    """EmpiricalCalibrator.PValue: empirical upper tail, exponential beyond the largest held-out value."""
    def __init__(self, held):
        self.s = np.sort(np.asarray(held, np.float64))
        t = self.s[int(np.floor(0.9 * (len(self.s) - 1)))]
        ex = self.s[self.s > t] - t
        excess = ex.mean() if len(ex) else 0
        rng = self.s[-1] - self.s[0]
        self.scale = excess if excess > 0 else (rng if rng > 0 else np.inf)

    def surprise(self, v):
        n = len(self.s)
        lb = np.searchsorted(self.s, v, side="left")
        p = (n - lb + 1) / (n + 1)
        beyond = v > self.s[-1]
        p = np.where(beyond, np.maximum(5e-324, np.exp(-(v - self.s[-1]) / self.scale) / (n + 1)), p)
        return -np.log10(p)


# ---- domain classifiers: fit(X, y, weights) -> predict(X) logit-like score -------------------------------------

def balanced_weights(y):
    n, pos = len(y), y.sum()
    return np.where(y > 0, n / (2 * pos), n / (2 * (n - pos)))


def linear(X, y, seed):
    m = LogisticRegression(C=1 / (1e-4 * len(y)), class_weight="balanced", max_iter=300)
    m.fit(X, y)
    return m.decision_function


def mlp(hidden, epochs=10, alpha=1e-4, min_steps=0):
    """One hidden layer of ReLU units, Adam (scikit-learn defaults), `epochs` epochs but at least `min_steps` steps."""
    def fit(X, y, seed):
        # sklearn's MLP has no sample weights: balance by repeating the smaller class.
        rng = np.random.default_rng(seed)
        pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y == 0)
        small, big = (pos, neg) if len(pos) < len(neg) else (neg, pos)
        idx = np.concatenate([big, small, rng.choice(small, len(big) - len(small))])
        batches = -(-len(idx) // 256)
        m = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, batch_size=256, learning_rate_init=1e-3,
                          max_iter=max(epochs, -(-min_steps // batches)), random_state=seed, early_stopping=False, tol=0, n_iter_no_change=10**9)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X[idx], y[idx])
        def score(Z):
            p = np.clip(m.predict_proba(Z)[:, 1], 1e-12, 1 - 1e-12)
            return np.log(p) - np.log1p(-p)
        return score
    return fit


def rff(features_count=1024):
    def fit(X, y, seed):
        rng = np.random.default_rng(seed)
        sub = X[rng.choice(len(X), min(2000, len(X)), replace=False)]
        d2 = ((sub[:500, None, :] - sub[None, 500:1000, :]) ** 2).sum(-1)
        gamma = 1 / np.median(d2)
        W = rng.normal(0, np.sqrt(2 * gamma), (X.shape[1], features_count))
        b = rng.uniform(0, 2 * np.pi, features_count)
        phi = lambda Z: np.sqrt(2 / features_count) * np.cos(Z @ W + b)
        m = LogisticRegression(C=1 / (1e-4 * len(y)), class_weight="balanced", max_iter=300)
        m.fit(phi(X), y)
        return lambda Z: m.decision_function(phi(Z))
    return fit


def gbm(X, y, seed):
    m = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
    m.fit(X, y, sample_weight=balanced_weights(y))
    return m.decision_function


def engine_net(hidden=64, seeds=1, whiten=False, epochs=10, min_steps=2000, validation=0.1, patience=300, alpha=1e-4):
    """A numpy replica of the engine's ShiftNetwork (one hidden ReLU layer, class-balanced log loss, Adam 1e-3, L2
    alpha / batch on the weights, Glorot-uniform start, `epochs` epochs but up to `min_steps` steps, early stopping on a
    seeded `validation` share with `patience` steps). `seeds` > 1: the mean logit of that many networks (seeds differ
    in start, shuffles and validation rows: bagging over the validation split). `whiten`: PCA-whiten the (already
    standardised) inputs on the fold's rows first, directions with under 1e-6 of the largest variance dropped. The
    labels may be soft (targets in [0, 1], `pu`): log loss against the target, classes balanced by their target mass,
    the same as hard labels when every target is 0 or 1."""
    batch = 256
    def one(X, y, seed):
        rng = np.random.default_rng(seed)
        n, p = X.shape
        b1 = np.sqrt(6 / (p + hidden)); b2 = np.sqrt(6 / (hidden + 1))
        W1 = rng.uniform(-b1, b1, (hidden, p)).astype(np.float32); c1 = rng.uniform(-b1, b1, hidden).astype(np.float32)
        w2 = rng.uniform(-b2, b2, hidden).astype(np.float32); c2 = np.float32(rng.uniform(-b2, b2))
        params = [W1, c1, w2, np.array([c2], np.float32)]
        decay = [True, False, True, False]
        rows = rng.permutation(n)
        nv = max(2, int(n * validation))
        val, rows = rows[:nv], rows[nv:]
        pos = max(1e-9, y[rows].sum()); neg = max(1e-9, (1 - y[rows]).sum())
        a, b = len(rows) / (2 * pos), len(rows) / (2 * neg)
        vp = max(1e-9, y[val].sum()); vn = max(1e-9, (1 - y[val]).sum())
        def forward(Z, P):
            H = np.maximum(0, Z @ P[0].T + P[1])
            return H, H @ P[2] + P[3][0]
        def vloss(P):
            _, z = forward(X[val], P)
            return 0.5 * ((y[val] * np.logaddexp(0, -z)).sum() / vp + ((1 - y[val]) * np.logaddexp(0, z)).sum() / vn)
        m = [np.zeros_like(q) for q in params]; v = [np.zeros_like(q) for q in params]
        best = [q.copy() for q in params]; best_loss = vloss(params)
        step = best_step = 0
        batches = -(-len(rows) // batch)
        total_epochs = max(epochs, -(-min_steps // batches))
        for epoch in range(total_epochs):
            if step - best_step >= max(patience, batches):
                break
            rows = rng.permutation(rows)
            for s in range(0, len(rows), batch):
                idx = rows[s:s + batch]
                Z = X[idx]
                H, z = forward(Z, params)
                sg, t = 1 / (1 + np.exp(-z)), y[idx]
                r = (b * (1 - t) * sg - a * t * (1 - sg)).astype(np.float32)
                back = (r[:, None] * params[2][None, :]) * (H > 0)
                grads = [back.T @ Z, back.sum(0), H.T @ r, np.array([r.sum()])]
                step += 1
                size = len(idx)
                rate = 1e-3 * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
                for k in range(4):
                    g = grads[k] / size + (alpha / batch * params[k] if decay[k] else 0)
                    m[k] = 0.9 * m[k] + 0.1 * g
                    v[k] = 0.999 * v[k] + 0.001 * g * g
                    params[k] = (params[k] - rate * m[k] / (np.sqrt(v[k]) + 1e-8)).astype(np.float32)
            l = vloss(params)
            if l < best_loss:
                best_loss, best_step, best = l, step, [q.copy() for q in params]
        return lambda Z: forward(Z.astype(np.float32), best)[1].astype(np.float64)
    def fit(X, y, seed):
        X = X.astype(np.float32); y = y.astype(np.float32)
        transform = lambda Z: Z
        if whiten:
            mu = X.mean(0)
            vals, vecs = np.linalg.eigh(np.cov((X - mu).T.astype(np.float64)))
            keep = vals > 1e-6 * vals.max()
            proj = (vecs[:, keep] / np.sqrt(vals[keep])).astype(np.float32)
            transform = lambda Z: (Z.astype(np.float32) - mu) @ proj
            X = transform(X)
        nets = [one(X, y, seed * 7919 + k) for k in range(seeds)]
        return lambda Z: np.mean([f(transform(Z)) for f in nets], axis=0)
    return fit


def pu(base, rounds=1, inner=2, hard=False):
    """PU-style refinement (production = normal rows like training + a shifted part; Elkan and Noto 2008): `base` is
    fitted `inner`-fold cross-fitted on the fold's own sample, so every row gets a logit from a model that did not see it;
    with c the median logit of the training rows (log of the share of production that is like training), a production
    row's chance of being shifted is w = max(0, 1 - exp(c - logit)); `base` is then refitted with w as the production
    rows' soft label (training rows 0), `rounds` times (`hard`: w > 1/2 as 0/1). Needs `base` to take soft labels."""
    def fit(X, y, seed):
        t = y.astype(np.float32)
        for r in range(rounds):
            f = np.random.default_rng(seed * 31 + r).integers(0, inner, len(y))
            oof = np.zeros(len(y))
            for k in range(inner):
                oof[f == k] = base(X[f != k], t[f != k], seed * 101 + r * 7 + k)(X[f == k])
            w = np.clip(1 - np.exp(np.median(oof[y == 0]) - oof[y > 0]), 0, 1)
            t = y.astype(np.float32)
            t[y > 0] = (w > 0.5) if hard else w
        return base(X, t, seed * 977)
    return fit


VARIANTS = {
    "linear": linear,
    "mlp64": mlp(64),
    "mlp128": mlp(128),
    "mlp64s": mlp(64, min_steps=2000),
    "mlp32s": mlp(32, min_steps=2000),
    "rff1024": rff(1024),
    "gbm": gbm,
    "net64": engine_net(64),
    "net128": engine_net(128),
    "net64x3": engine_net(64, seeds=3),
    "net64x5": engine_net(64, seeds=5),
    "net64w": engine_net(64, whiten=True),
    "net64wx3": engine_net(64, whiten=True, seeds=3),
    "net64a1e-2": engine_net(64, alpha=1e-2),
    "net64a1": engine_net(64, alpha=1.0),
    "net128x2": engine_net(128, seeds=2),
    "net128x3": engine_net(128, seeds=3),
    "pu1": pu(engine_net(64)),
    "pu2": pu(engine_net(64), rounds=2),
    "pu1hard": pu(engine_net(64), hard=True),
}


def cross_fitted(variant, Xs, ys, folds, X_held, held_folds, seed=1):
    """Out-of-fold scores of the sample and fold scores of the held-out training rows."""
    mean, sd = Xs.mean(0), Xs.std(0)
    inv = np.where(sd > 1e-6, 1 / np.where(sd > 1e-6, sd, 1), 0)
    Zs, Zh = (Xs - mean) * inv, (X_held - mean) * inv
    oof = np.zeros(len(ys))
    held = np.zeros(len(X_held))
    for f in range(FOLDS):
        score = variant(Zs[folds != f], ys[folds != f], seed + f)
        oof[folds == f] = score(Zs[folds == f])
        if (held_folds == f).any():
            held[held_folds == f] = score(Zh[held_folds == f])
    return oof, held


def knn_ratio(k):
    """Share of production among the k nearest pooled rows (cosine on the features' unit part), log-odds corrected
    for the pool's size ratio; a pooled row never counts itself."""
    def run(Xs, ys, X_held):
        def unit(X):
            U = X[:, :128]
            return U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
        P, H = unit(Xs), unit(X_held)
        prior = np.log(ys.mean() / (1 - ys.mean()))
        def share(Q, exclude_self):
            out = np.empty(len(Q))
            for s in range(0, len(Q), 2000):
                sim = Q[s:s + 2000] @ P.T
                if exclude_self:
                    sim[np.arange(sim.shape[0]), np.arange(s, s + sim.shape[0])] = -np.inf
                nn = np.argpartition(-sim, k, axis=1)[:, :k]
                c = ys[nn].sum(1)
                out[s:s + 2000] = np.log((c + 0.5) / (k - c + 0.5)) - prior
            return out
        return share(P, True), share(H, False)
    return run


KNN = {"knn10": knn_ratio(10), "knn50": knn_ratio(50)}


def knn_distances(queries, reference, exclude=None, k=10):
    """Log mean and log nearest L2 distance of each query to its k nearest reference rows; `exclude[i]` (>= 0) is a
    reference row query i must not count (itself)."""
    squared_reference = (reference * reference).sum(1)
    out = np.empty((len(queries), 2))
    for s in range(0, len(queries), 2000):
        q = queries[s:s + 2000]
        d = np.maximum(0, (q * q).sum(1)[:, None] - 2 * q @ reference.T + squared_reference[None, :])
        if exclude is not None:
            own = exclude[s:s + 2000]
            d[np.arange(len(q))[own >= 0], own[own >= 0]] = np.inf
        nearest = np.sort(np.partition(d, k, axis=1)[:, :k], axis=1)
        out[s:s + 2000, 0] = np.log(np.sqrt(nearest).mean(1) + 1e-9)
        out[s:s + 2000, 1] = np.log(np.sqrt(nearest[:, 0]) + 1e-9)
    return out


def append_knn_features(training, normal, shifts, fitted, Xt, Xp_all):
    """--knn-features: the kNN distance signal's raw values as two more classifier inputs (stacking a fixed signal into
    the domain classifier)."""
    reference = training["emb"][fitted].astype(np.float64)
    own = -np.ones(len(training["emb"]), np.int64)
    own[fitted] = np.arange(len(fitted))
    kt = knn_distances(training["emb"].astype(np.float64), reference, own)
    kp = np.vstack([knn_distances(p["emb"].astype(np.float64), reference) for p in [normal] + shifts])
    return np.hstack([Xt, kt]), np.hstack([Xp_all, kp])


def cached_classifier(path, x_training, fitted, held, x_production, production_ids):
    """The engine's classifier (net64), cross-fitted as the engine on the fitted training rows against `x_production`
    (fold of a production row: `fnv_fold` of its id in `production_ids`): out-of-fold production scores and the held-out
    training rows' scores, pickled at `path` so that other rules rerun in seconds."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    ys = np.r_[np.zeros(len(fitted)), np.ones(len(production_ids))]
    xs = np.vstack([x_training[fitted], x_production])
    folds = np.r_[np.array([training_fold(r) for r in fitted]), np.array([fnv_fold(i) for i in production_ids])]
    held_folds = np.array([training_fold(r) for r in held])
    oof, held_scores = cross_fitted(VARIANTS["net64"], xs, ys, folds, x_training[held], held_folds)
    result = (oof[len(fitted):], held_scores)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(result, f)
    return result


def lead_surprises(raw, held_scores):
    """The classifier's surprise against training (calibrated on the held-out rows) and its lead surprise measured
    against the stream's bulk (`ProductionShift.NullShift`: production's lowest 2% against training's)."""
    calibrator = Calibrator(held_scores)
    null = max(0.0, np.quantile(raw, 0.02) - np.quantile(held_scores, 0.02))
    return calibrator.surprise(raw), calibrator.surprise(raw - null)


def engine_rule(m, s_lead):
    """The engine's balanced score from the weighted mean m and the lead: m + lead * max(0, s_lead - max(m, 1)),
    lead = (1 - 10^(1 - s_lead))^2."""
    lead = np.clip(1 - 10 ** (1 - s_lead), 0, 1) ** 2
    return m + lead * np.maximum(0, s_lead - np.maximum(m, 1))


def auroc(pos, neg):
    return roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])


def balanced(other, shift_surprise, with_shift=True):
    """SignalCombiner balanced: distances (maha, knn, rel, norm, shift) 1, boundary 1, entropy/margin/lc 1/3."""
    w = np.array([1, 1, 1, 1 / 3, 1 / 3, 1 / 3, 1, 1], np.float64)
    s = other[:, :8]
    present = ~np.isnan(s)
    num = (np.where(present, s, 0) * w).sum(1)
    den = (present * w).sum(1)
    if with_shift:
        num, den = num + SHIFT_WEIGHT * shift_surprise, den + SHIFT_WEIGHT
    return num / den


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--variants", default="linear,mlp64,mlp128,rff1024,knn10,knn50,gbm")
    ap.add_argument("--mixes", default="all,pairwise,normal,few,absent")
    ap.add_argument("--few", default="900,100", help="normal,shifted rows of the few-shifted mix")
    ap.add_argument("--cache", help="directory keeping each variant's scores per production mix, so reruns (other --shift-weight) refit nothing")
    ap.add_argument("--seed", type=int, default=1, help="first seed of the fold models (seed + fold)")
    ap.add_argument("--shift-weight", type=float, default=1.0, help="the classifier's weight in balanced (engine: 1)")
    ap.add_argument("--knn-features", action="store_true",
                    help="append log mean and log nearest L2 distance to the 10 nearest fitted training rows (a training row never counts itself) to the classifier's features")
    args = ap.parse_args()
    global SHIFT_WEIGHT
    SHIFT_WEIGHT = args.shift_weight
    part, counts = load(args.dir)
    variants = args.variants.split(",")
    mixes = args.mixes.split(",")

    training = part("training")
    normal = part("normal")
    shifts = [part(f"shift{s}") for s in range(len(SHIFTS))]
    n_all = len(normal["emb"]) + sum(len(s["emb"]) for s in shifts)
    surprise_all = np.fromfile(f"{args.dir}/production-all.surprise.f64").reshape(n_all, KINDS)
    fitted = np.fromfile(f"{args.dir}/production-all.fitted.i32", np.int32)
    held = np.setdiff1d(np.arange(len(training["emb"])), fitted)
    Xt = features(training["emb"], training["prob"])
    offsets = np.cumsum([len(normal["emb"])] + [len(s["emb"]) for s in shifts])[1:]  # end of each shift
    Xp_all = np.vstack([features(normal["emb"], normal["prob"])] + [features(s["emb"], s["prob"]) for s in shifts])
    if args.knn_features:
        Xt, Xp_all = append_knn_features(training, normal, shifts, fitted, Xt, Xp_all)
    n_normal = len(normal["emb"])
    mistakes = normal["pred"] != normal["label"]
    has_shift = not np.isnan(surprise_all[:, 8]).all()
    engine = []
    for s in range(len(SHIFTS)):
        a, b = offsets[s] - len(shifts[s]["emb"]), offsets[s]
        engine.append(auroc(balanced(surprise_all[a:b], np.nan_to_num(surprise_all[a:b, 8]), has_shift),
                            balanced(surprise_all[:n_normal], np.nan_to_num(surprise_all[:n_normal, 8]), has_shift)))
    print(f"training {len(Xt)} (fitted {len(fitted)}, held out {len(held)}), production {n_all}; engine balanced "
          f"(all mix, from the dump): " + " ".join(f"{SHIFTS[s]} {engine[s]:.3f}" for s in range(len(SHIFTS))), flush=True)

    def run(variant, Xtrain_fit, Xheld, train_folds, held_folds, Xprod, prod_ids):
        if args.cache:
            import hashlib, os
            key = hashlib.sha1(np.ascontiguousarray(np.r_[Xtrain_fit.sum(1), Xheld.sum(1), Xprod.sum(1)]).tobytes()).hexdigest()[:16]
            path = f"{args.cache}/{variant}-s{args.seed}-{key}.npz"
            if os.path.exists(path):
                c = np.load(path)
                return c["raw"], c["sur"], float(c["auc"]), float(c["z"])
            raw, sur, auc, z = fit_and_score(variant, Xtrain_fit, Xheld, train_folds, held_folds, Xprod, prod_ids)
            os.makedirs(args.cache, exist_ok=True)
            np.savez(path, raw=raw, sur=sur, auc=auc, z=z)
            return raw, sur, auc, z
        return fit_and_score(variant, Xtrain_fit, Xheld, train_folds, held_folds, Xprod, prod_ids)

    def fit_and_score(variant, Xtrain_fit, Xheld, train_folds, held_folds, Xprod, prod_ids):
        ys = np.r_[np.zeros(len(Xtrain_fit)), np.ones(len(Xprod))]
        Xs = np.vstack([Xtrain_fit, Xprod])
        folds = np.r_[train_folds, np.array([fnv_fold(i) for i in prod_ids])]
        if variant in KNN:
            oof, hs = KNN[variant](Xs, ys, Xheld)
        else:
            oof, hs = cross_fitted(VARIANTS[variant], Xs, ys, folds, Xheld, held_folds, seed=args.seed)
        auc = roc_auc_score(ys, oof)
        n1, n2 = len(Xtrain_fit), len(Xprod)
        z = (auc - 0.5) / np.sqrt((n1 + n2 + 1) / (12 * n1 * n2))
        cal = Calibrator(hs)
        return oof[n1:], cal.surprise(oof[n1:]), auc, z

    fit_folds = np.array([training_fold(r) for r in fitted])
    held_folds = np.array([training_fold(r) for r in held])
    Xfit, Xheld = Xt[fitted], Xt[held]
    other_normal = surprise_all[:n_normal]
    base = {s: auroc(balanced(surprise_all[offsets[s] - len(shifts[s]["emb"]):offsets[s]], None, False),
                     balanced(other_normal, None, False)) for s in range(len(SHIFTS))}
    print("balanced without production_shift: " + " ".join(f"{SHIFTS[s]} {base[s]:.3f}" for s in range(len(SHIFTS))), flush=True)

    def report(mix, variant, rows, auc, z, seconds):
        print(f"[{mix}] {variant:8s} oofAUC {auc:.3f} z {z:.0f} ({seconds:.0f} s)  " + "  ".join(rows), flush=True)

    for variant in variants:
        if "all" in mixes:
            t = time.time()
            raw, sur, auc, z = run(variant, Xfit, Xheld, fit_folds, held_folds, Xp_all, range(n_all))
            rows = []
            for s in range(len(SHIFTS)):
                a, b = offsets[s] - len(shifts[s]["emb"]), offsets[s]
                alone = auroc(raw[a:b], raw[:n_normal])
                bal = auroc(balanced(surprise_all[a:b], sur[a:b]), balanced(other_normal, sur[:n_normal]))
                rows.append(f"{SHIFTS[s]} {alone:.3f}/{bal:.3f}")
            mis = auroc(balanced(other_normal[mistakes], sur[:n_normal][mistakes]), balanced(other_normal[~mistakes], sur[:n_normal][~mistakes]))
            rows.append(f"misclassified {mis:.3f}")
            report("all: alone/balanced", variant, rows, auc, z, time.time() - t)
        if "pairwise" in mixes:
            t = time.time()
            rows = []
            for s in range(len(SHIFTS)):
                a, b = offsets[s] - len(shifts[s]["emb"]), offsets[s]
                ids = list(range(n_normal)) + list(range(a, b))
                raw, sur, auc, z = run(variant, Xfit, Xheld, fit_folds, held_folds, Xp_all[ids], ids)
                alone = auroc(raw[n_normal:], raw[:n_normal])
                bal = auroc(balanced(surprise_all[a:b], sur[n_normal:]), balanced(other_normal, sur[:n_normal]))
                rows.append(f"{SHIFTS[s]} {alone:.3f}/{bal:.3f}{'' if z > 3.09 else '(gate shut)'}")
            report("pairwise: alone/balanced", variant, rows, auc, z, time.time() - t)
        if "few" in mixes:
            t = time.time()
            nn, ns = map(int, args.few.split(","))
            rng = np.random.default_rng(5)
            rows = []
            for s in range(len(SHIFTS)):
                a, b = offsets[s] - len(shifts[s]["emb"]), offsets[s]
                pick_n = np.sort(rng.choice(n_normal, nn, replace=False))
                pick_s = np.sort(rng.choice(np.arange(a, b), min(ns, b - a), replace=False))
                ids = list(pick_n) + list(pick_s)
                raw, sur, auc, z = run(variant, Xfit, Xheld, fit_folds, held_folds, Xp_all[ids], ids)
                alone = auroc(raw[nn:], raw[:nn])
                bal = auroc(balanced(surprise_all[pick_s], sur[nn:]), balanced(surprise_all[pick_n], sur[:nn]))
                rows.append(f"{SHIFTS[s]} {alone:.3f}/{bal:.3f}{'' if z > 3.09 else '(gate shut)'}")
            report(f"few {nn}+{ns}: alone/balanced", variant, rows, auc, z, time.time() - t)
        if "normal" in mixes:
            t = time.time()
            raw, sur, auc, z = run(variant, Xfit, Xheld, fit_folds, held_folds, Xp_all[:n_normal], range(n_normal))
            alone = auroc(raw[mistakes], raw[~mistakes])
            bal = auroc(balanced(other_normal[mistakes], sur[mistakes]), balanced(other_normal[~mistakes], sur[~mistakes]))
            without = auroc(balanced(other_normal[mistakes], None, False), balanced(other_normal[~mistakes], None, False))
            report("100% normal: misclassified vs correct", variant,
                   [f"alone {alone:.3f}", f"balanced {bal:.3f}{'' if z > 3.09 else ' (gate shut)'}", f"without {without:.3f}"], auc, z, time.time() - t)
        if "absent" in mixes:
            for c in [c for c in range(10) if f"absent{c}-training" in counts]:
                t = time.time()
                tr, no, nv = part(f"absent{c}-training"), part(f"absent{c}-normal"), part(f"absent{c}-novel")
                n = len(no["emb"]) + len(nv["emb"])
                sa = np.fromfile(f"{args.dir}/absent{c}-production.surprise.f64").reshape(n, KINDS)
                fa = np.fromfile(f"{args.dir}/absent{c}-production.fitted.i32", np.int32)
                ha = np.setdiff1d(np.arange(len(tr["emb"])), fa)
                X = features(tr["emb"], tr["prob"])
                Xp = np.vstack([features(no["emb"], no["prob"]), features(nv["emb"], nv["prob"])])
                raw, sur, auc, z = run(variant, X[fa], X[ha], np.array([training_fold(r) for r in fa]),
                                       np.array([training_fold(r) for r in ha]), Xp, range(n))
                m = len(no["emb"])
                alone = auroc(raw[m:], raw[:m])
                bal = auroc(balanced(sa[m:], sur[m:]), balanced(sa[:m], sur[:m]))
                without = auroc(balanced(sa[m:], None, False), balanced(sa[:m], None, False))
                engine = auroc(balanced(sa[m:], sa[m:, 8]), balanced(sa[:m], sa[:m, 8])) if not np.isnan(sa[0, 8]) else float("nan")
                report(f"class {c} absent", variant, [f"alone {alone:.3f}", f"balanced {bal:.3f}", f"without {without:.3f}", f"engine {engine:.3f}"], auc, z, time.time() - t)


if __name__ == "__main__":
    sys.exit(main())
