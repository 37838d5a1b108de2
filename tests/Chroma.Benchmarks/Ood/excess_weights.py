#!/usr/bin/env python3
"""Weights of the fixed distance signals chosen by the stream (issue 13 item 3, probe P's P2; tried offline, not adopted).

Reads an `ood --dump DIR` directory. Each distance signal (Mahalanobis, kNN, relative Mahalanobis, feature norm) is
weighted by how many production records lie beyond surprise t against the null's 10^-t ((k + 1) / (n 10^-t + 1)),
raised to gamma and rescaled so the four weights still sum to 4; the uncertainty signals keep their weights. Compared
with the fixed weights (`fixed`), on production with every shift at once and pairwise (normal + one shift). The
production-shift signal is left out of both, so the fixed signals' mean is what is compared.

  OMP_NUM_THREADS=1 /usr/bin/python3 tests/Chroma.Benchmarks/Ood/excess_weights.py DUMP
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import domain_classifiers as dc  # noqa: E402
d = sys.argv[1]
part, _ = dc.load(d)
normal = part("normal"); shifts = [part(f"shift{s}") for s in range(len(dc.SHIFTS))]
n_normal = len(normal["emb"]); sizes=[len(s["emb"]) for s in shifts]
n_all = n_normal + sum(sizes)
S = np.fromfile(f"{d}/production-all.surprise.f64").reshape(n_all, dc.KINDS)
ends = np.cumsum([n_normal]+sizes)
mist = normal["pred"] != normal["label"]
W0 = np.array([1,1,1,1/3,1/3,1/3,1,1], float)  # maha knn bnd ent mar lc rel norm
DIST = [0,1,6,7]
def comb(s, w):
    s = s[:, :8]; pr = ~np.isnan(s)
    return (np.where(pr, s, 0)*w).sum(1)/(pr*w).sum(1)
def excess(s, t=2.0):
    # tail excess: share of production beyond surprise t, against 10^-t under the null
    n = np.sum(~np.isnan(s)); k = np.sum(s > t)
    return (k + 1) / (n * 10**-t + 1)
def adaptive(sprod, mode, t=2.0, gamma=1.0):
    w = W0.copy()
    E = np.array([excess(sprod[:, j], t) for j in DIST])
    if mode == 'fixed': return w, E
    r = E**gamma
    r = r / r.sum() * len(DIST)
    for i, j in enumerate(DIST): w[j] = r[i]
    return w, E
def auroc(p, n): return dc.auroc(p, n)
modes = [('fixed',2,1),('adapt',2,1),('adapt',2,0.5),('adapt',1,1),('adapt',3,0.5)]
print('ALL AT ONCE')
for mode,t,g in modes:
    w,E = adaptive(S, mode, t, g)
    sc = comb(S, w)
    row = [auroc(sc[ends[i]:ends[i+1]], sc[:n_normal]) for i in range(len(shifts))]
    err = auroc(sc[:n_normal][mist], sc[:n_normal][~mist])
    print(f'{mode}{t},{g}'.ljust(12), ' '.join(f'{x:.3f}' for x in row), f'err {err:.3f}', 'w', np.round(w[DIST],2))
print('PAIRWISE (normal + one shift)')
for mode,t,g in modes:
    row=[]; errs=[]
    for i in range(len(shifts)):
        idx = np.r_[0:n_normal, ends[i]:ends[i+1]]
        sp = S[idx]
        w,E = adaptive(sp, mode, t, g)
        sc = comb(sp, w)
        row.append(auroc(sc[n_normal:], sc[:n_normal])); errs.append(auroc(sc[:n_normal][mist], sc[:n_normal][~mist]))
    print(f'{mode}{t},{g}'.ljust(12), ' '.join(f'{x:.3f}' for x in row), f'err {min(errs):.3f}-{max(errs):.3f}')
print(dc.SHIFTS)
