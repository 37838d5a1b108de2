"""hnswlib side of the ANN benchmark: same files, same parameters, same JSON shape as `Chroma.Benchmarks ann`.

Run with /usr/bin/python3 (Debian's python3-hnswlib and python3-numpy), not a pyenv python.
"""
import argparse
import json
import os
import tempfile
import time

import hnswlib
import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def build(data, space, m, ef_construction, threads):
    index = hnswlib.Index(space=space, dim=data.shape[1])
    index.init_index(max_elements=data.shape[0], M=m, ef_construction=ef_construction, random_seed=42)
    index.set_num_threads(threads)
    start, cpu = time.perf_counter(), time.thread_time()
    index.add_items(data, np.arange(data.shape[0]), num_threads=threads)
    return index, time.perf_counter() - start, time.thread_time() - cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--groundtruth", required=True)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef", default="10,20,40,80,160")
    p.add_argument("--metric", default="l2", choices=["l2", "cosine", "ip"])
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--json", required=True)
    a = p.parse_args()

    data = read_vecs(a.base, np.float32)
    if a.limit:
        data = data[: a.limit]
    queries = read_vecs(a.queries, np.float32)
    truth = read_vecs(a.groundtruth, np.int32)[:, : a.k]
    report = {
        "tool": "hnswlib %s" % getattr(hnswlib, "__version__", "0.6.2 (Debian)"),
        "dataset": os.path.basename(a.base), "count": int(data.shape[0]), "dim": int(data.shape[1]),
        "queries": int(queries.shape[0]), "k": a.k, "m": a.m, "efConstruction": a.ef_construction,
        "metric": a.metric, "threads": os.cpu_count(), "efs": [],
    }

    # With num_threads=1 hnswlib runs in the calling thread, so thread_time() is the build's CPU time.
    index, seconds, cpu = build(data, a.metric, a.m, a.ef_construction, 1)
    report["buildSeconds1Thread"] = seconds
    report["buildCpuSeconds1Thread"] = cpu
    print("hnswlib build, 1 thread: %.2f s, %.2f CPU s" % (seconds, cpu), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.bin")
        index.save_index(path)
        report["fileBytes"] = os.path.getsize(path)
    report["vectorBytes"] = int(data.shape[0]) * int(data.shape[1]) * 4
    report["graphBytes"] = report["fileBytes"] - report["vectorBytes"]

    index.set_num_threads(1)
    for ef in [int(e) for e in a.ef.split(",")]:
        index.set_ef(ef)
        index.knn_query(queries, k=a.k, num_threads=1)  # warm-up, same as the .NET side
        start, cpu = time.perf_counter(), time.thread_time()
        labels, _ = index.knn_query(queries, k=a.k, num_threads=1)
        seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
        recall = np.mean([len(set(labels[i]) & set(truth[i])) for i in range(len(truth))]) / a.k
        n = queries.shape[0]
        report["efs"].append({"ef": ef, "recall": float(recall), "qps": n / seconds, "qpsCpu": n / cpu})
        print("hnswlib ef %4d: recall@%d %.4f, %.0f queries/s, %.0f per CPU s (1 thread)" % (ef, a.k, recall, n / seconds, n / cpu), flush=True)

    _, seconds, _ = build(data, a.metric, a.m, a.ef_construction, os.cpu_count())
    report["buildSecondsAllCores"] = seconds
    print("hnswlib build, %d threads: %.2f s" % (os.cpu_count(), seconds), flush=True)
    with open(a.json, "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
