#!/usr/bin/env python3
"""kNN distance in both geometries at once (tried offline, not adopted; benchmarks README, "One kNN signal per geometry").

Offline replica of the balanced strategy's calibrated mean (pooled and relative Mahalanobis, kNN distance k = 10 in
the set's metric, neighbour disagreement, feature-norm shortfall, entropy / margin / least confidence at 1/3; every
signal calibrated as -log10 p against a held-out 15% of the training rows), with and without a second kNN signal
in the other geometry (L2 on the raw vectors, or L2 on unit vectors = cosine). Each argument is an .npz with
tr_emb, tr_y, tr_probs (training rows) and pr_emb, pr_probs, pr_shift (production rows, shifted or not).

  OMP_NUM_THREADS=1 /usr/bin/python3 tests/Chroma.Benchmarks/Ood/both_geometries.py DATA/*.npz
"""
import numpy as np, sys, glob, os
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
rng = np.random.default_rng(0)

def calib(held, x):
    h = np.sort(held); n = len(h)
    ge = n - np.searchsorted(h, x, side='left')
    return -np.log10((ge + 1) / (n + 1))

def unit(e):
    n = np.linalg.norm(e, axis=1, keepdims=True); return e / np.maximum(n, 1e-12)

def signals(tr, ty, tp, pr, pp, metric):
    idx = rng.permutation(len(tr)); nh = int(0.15 * len(tr)); held, fit = idx[:nh], idx[nh:]
    F, Fy = tr[fit], ty[fit]
    classes = np.unique(Fy)
    mu = np.stack([F[Fy == c].mean(0) for c in classes])
    X = F - mu[np.searchsorted(classes, Fy)]
    cov = X.T @ X / len(X); cov = 0.9 * cov + 0.1 * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
    P = np.linalg.inv(cov)
    g = F.mean(0); G = np.cov(F.T); G = 0.9 * G + 0.1 * np.trace(G) / G.shape[0] * np.eye(G.shape[0]); PG = np.linalg.inv(G)
    med = {c: np.median(np.linalg.norm(F[Fy == c], axis=1)) for c in classes}
    def maha(E):
        d = np.stack([np.einsum('ij,jk,ik->i', E - m, P, E - m) for m in mu], 1)
        return d.min(1), d
    def rel(E, d):
        dg = np.einsum('ij,jk,ik->i', E - g, PG, E - g); return d.min(1) - dg
    geo = {}
    for name, f in (('l2', lambda e: e), ('cos', unit)):
        nn = NearestNeighbors(n_neighbors=11).fit(f(F)); geo[name] = (nn, f)
    def knn(E, name, self_=False):
        nn, f = geo[name]; d, i = nn.kneighbors(f(E), n_neighbors=10)
        return d[:, -1], i
    def probsig(p):
        s = np.sort(p, 1)[:, ::-1]
        ent = -(p * np.log(np.maximum(p, 1e-12))).sum(1)
        return ent, -(s[:, 0] - s[:, 1]), -s[:, 0]
    def raw(E, Pp):
        pred = Pp.argmax(1)
        m, d = maha(E)
        out = {'maha': m, 'rel': rel(E, d)}
        for name in ('l2', 'cos'):
            k, i = knn(E, name)
            out['knn_' + name] = k
            if name == metric:
                out['boundary'] = (Fy[i] != classes[pred][:, None]).mean(1)
        out['fnorm'] = 1 - np.linalg.norm(E, axis=1) / np.array([med[classes[c]] for c in pred])
        out['ent'], out['margin'], out['lc'] = probsig(Pp)
        return out
    H = raw(tr[held], tp[held]); R = raw(pr, pp)
    return {k: calib(H[k], R[k]) for k in R}

W = {'maha': 1, 'rel': 1, 'fnorm': 1, 'boundary': 1, 'ent': 1/3, 'margin': 1/3, 'lc': 1/3}
def combo(S, metric, extra, cap=None):
    w = dict(W); w['knn_' + metric] = 1
    if extra: w['knn_' + ('cos' if metric == 'l2' else 'l2')] = 1
    num = sum(w[k] * (np.minimum(S[k], cap) if cap else S[k]) for k in w); return num / sum(w.values())

files = sys.argv[1:]
print('%-20s %4s %6s %6s %6s | %6s %6s' % ('set', 'met', 'base', '+other', 'd', 'knnM', 'knnO'))
for f in files:
    d = np.load(f); name = os.path.basename(f)[:-4]
    for metric in ('l2', 'cos'):
        S = signals(d['tr_emb'].astype(np.float64), d['tr_y'], d['tr_probs'], d['pr_emb'].astype(np.float64), d['pr_probs'], metric)
        y = d['pr_shift']
        a0 = roc_auc_score(y, combo(S, metric, False)); a1 = roc_auc_score(y, combo(S, metric, True))
        other = 'cos' if metric == 'l2' else 'l2'
        print('%-20s %4s %6.3f %6.3f %+6.3f | %6.3f %6.3f' % (name, metric, a0, a1, a1 - a0, roc_auc_score(y, S['knn_' + metric]), roc_auc_score(y, S['knn_' + other])), flush=True)
