"""Prints the side-by-side Markdown table from the two JSON reports (ours, hnswlib) of one data set."""
import json
import sys


def mib(b):
    return "%.1f" % (b / 1048576.0)


def main(ours_path, peer_path):
    ours, peer = json.load(open(ours_path)), json.load(open(peer_path))
    print("\n### %s: %d x %d, %d queries, k=%d, M=%d, ef_construction=%d, %s\n" % (
        ours["dataset"], ours["count"], ours["dim"], ours["queries"], ours["k"], ours["m"], ours["efConstruction"], ours["metric"]))
    print("| | build 1 thread (s) | build 1 thread (CPU s) | build %d threads (s) | vectors MiB | graph MiB (in memory) | file MiB | file - vectors MiB |" % ours["threads"])
    print("|---|---|---|---|---|---|---|---|")
    for r in (ours, peer):
        print("| %s | %.2f | %.2f | %.2f | %s | %s | %s | %s |" % (
            r["tool"], r["buildSeconds1Thread"], r["buildCpuSeconds1Thread"], r["buildSecondsAllCores"], mib(r["vectorBytes"]),
            mib(r["graphBytes"]) if r is ours else "n/a", mib(r["fileBytes"]), mib(r["fileBytes"] - r["vectorBytes"])))
    print("\n| ef | recall@%d ours | recall@%d hnswlib | QPS ours | QPS hnswlib | ratio | QPS/CPU-s ours | QPS/CPU-s hnswlib | ratio |" % (ours["k"], ours["k"]))
    print("|---|---|---|---|---|---|---|---|---|")
    for o, p in zip(ours["efs"], peer["efs"]):
        print("| %d | %.4f | %.4f | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |" % (
            o["ef"], o["recall"], p["recall"], o["qps"], p["qps"], o["qps"] / p["qps"], o["qpsCpu"], p["qpsCpu"], o["qpsCpu"] / p["qpsCpu"]))
    print("\nbuild time ratio ours/hnswlib, 1 thread: %.2f wall, %.2f CPU; all cores: %.2f wall" % (
        ours["buildSeconds1Thread"] / peer["buildSeconds1Thread"], ours["buildCpuSeconds1Thread"] / peer["buildCpuSeconds1Thread"],
        ours["buildSecondsAllCores"] / peer["buildSecondsAllCores"]))
    print("memory: ours vectors + graph (in memory) = %s MiB; vectors + 1.2 x hnswlib (file - vectors) = %s MiB" % (
        mib(ours["vectorBytes"] + ours["graphBytes"]), mib(ours["vectorBytes"] + 1.2 * (peer["fileBytes"] - peer["vectorBytes"]))))
    if ours.get("insertAlonePerSecond"):
        print("insert: alone %.0f/s, while 1 thread searches %.0f/s (%.0f%%), searches meanwhile %.0f/s" % (
            ours["insertAlonePerSecond"], ours["insertWhileSearchingPerSecond"],
            100 * ours["insertWhileSearchingPerSecond"] / ours["insertAlonePerSecond"], ours["searchesDuringInsertPerSecond"]))
        print("insert per CPU-second of the inserting thread: alone %.0f, while 1 thread searches %.0f (%.0f%%)" % (
            ours["insertAlonePerCpuSecond"], ours["insertWhileSearchingPerCpuSecond"],
            100 * ours["insertWhileSearchingPerCpuSecond"] / ours["insertAlonePerCpuSecond"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
