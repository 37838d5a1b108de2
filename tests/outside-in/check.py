#!/usr/bin/env python3
"""Black-box check of a running chroma-server, written only from protos/chroma/v1/*.proto.

Calls every RPC of the Ingest, Query and Labeling services with good and bad input and checks
that what the proto comments promise is what happens. See README.md next to this file.

Usage: /usr/bin/python3 tests/outside-in/check.py --endpoint 127.0.0.1:50051 [--api-key KEY]
Exit code 0 when every check passed, 1 otherwise; the last line is a summary.
"""
import argparse
import gzip
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import grpc
import numpy as np
from google.protobuf import descriptor_pb2, message_factory

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PROTOS = os.path.join(ROOT, "protos")
DATA = os.path.join(ROOT, "samples", "data")

# ---------------------------------------------------------------------------------------------
# Messages: built from a descriptor set compiled from the .proto files (no generated code, so the
# installed protobuf runtime always fits).


def find_protoc():
    """A protoc command: grpc_tools of this Python, else protoc on PATH, else the Grpc.Tools NuGet one."""
    try:
        import grpc_tools.protoc  # noqa: F401
        return [sys.executable, "-m", "grpc_tools.protoc"]
    except ImportError:
        pass
    if shutil.which("protoc"):
        return ["protoc"]
    nuget = os.path.expanduser("~/.nuget/packages/grpc.tools")
    for root, _, files in os.walk(nuget):
        if "protoc" in files and "linux_x64" in root:
            return [os.path.join(root, "protoc")]
    sys.exit("no protoc found: install python3-grpc-tools (apt) or restore the Grpc.Tools NuGet package")


def load_messages():
    out = os.path.join(tempfile.mkdtemp(prefix="chroma-outside-"), "chroma.pb")
    protos = sorted(
        os.path.join(PROTOS, "chroma", "v1", f)
        for f in os.listdir(os.path.join(PROTOS, "chroma", "v1"))
        if f.endswith(".proto"))
    subprocess.run(find_protoc() + ["-I" + PROTOS, "--include_imports", "--descriptor_set_out=" + out] + protos,
                   check=True)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    classes = message_factory.GetMessages(fds.file)
    enums = {}
    for fd in fds.file:
        for e in fd.enum_type:
            for v in e.value:
                enums[v.name] = v.number
    services = {}
    for fd in fds.file:
        for s in fd.service:
            for m in s.method:
                services[(s.name, m.name)] = (m.input_type.lstrip("."), m.output_type.lstrip("."),
                                              m.client_streaming, m.server_streaming)
    return classes, enums, services


M, E, SERVICES = load_messages()


def msg(name, **kw):
    return M["chroma.v1." + name](**kw)


# ---------------------------------------------------------------------------------------------
# Results

RESULTS = {"pass": 0, "fail": 0}
FAILURES = []
VERBOSE = False


def check(name, ok, detail=""):
    if ok:
        RESULTS["pass"] += 1
        if VERBOSE:
            print("ok   " + name)
    else:
        RESULTS["fail"] += 1
        FAILURES.append(name + (": " + detail if detail else ""))
        print("FAIL " + name + (": " + str(detail) if detail else ""), flush=True)
    return ok


class Client:
    def __init__(self, endpoint, api_key):
        self.channel = grpc.insecure_channel(endpoint, options=[
            ("grpc.max_receive_message_length", 256 * 1024 * 1024),
            ("grpc.max_send_message_length", 256 * 1024 * 1024)])
        self.api_key = api_key
        self.stubs = {}
        for (svc, method), (inp, outp, cs, ss) in SERVICES.items():
            path = "/chroma.v1.%s/%s" % (svc, method)
            ser = M[inp].SerializeToString
            de = M[outp].FromString
            if cs and ss:
                self.stubs[method] = self.channel.stream_stream(path, request_serializer=ser, response_deserializer=de)
            else:
                self.stubs[method] = self.channel.unary_unary(path, request_serializer=ser, response_deserializer=de)

    def md(self, key="default"):
        k = self.api_key if key == "default" else key
        return [("x-api-key", k)] if k else []

    def call(self, method, request, timeout=60, key="default"):
        return self.stubs[method](request, timeout=timeout, metadata=self.md(key))

    def log(self, batches, timeout=300, key="default"):
        """Sends batches on one stream and returns the acks by batch_id."""
        acks = {}
        for ack in self.stubs["Log"](iter(batches), timeout=timeout, metadata=self.md(key)):
            acks[ack.batch_id] = ack
        return acks

    def log_one(self, batch, **kw):
        acks = self.log([batch], **kw)
        return acks.get(batch.batch_id)


def expect_status(name, fn, code, words=()):
    """Calls fn and checks that it fails with status code and a message containing every word."""
    try:
        fn()
    except grpc.RpcError as e:
        got = e.code()
        ok = got == code
        check(name + " -> " + code.name, ok, "got %s: %s" % (got.name, e.details()))
        if ok:
            text = (e.details() or "").lower()
            for w in words:
                check(name + " message names '%s'" % w, w.lower() in text, "message was: %r" % e.details())
        return e
    check(name + " -> " + code.name, False, "the call succeeded")
    return None


def expect_ack_error(name, ack, code, words=(), record_index=None):
    if not check(name + " acked", ack is not None, "no ack"):
        return
    err = ack.error
    ok = ack.HasField("error") and err.code == code
    check(name + " -> code %d" % code, ok, "ack: code=%d msg=%r accepted=%d" % (err.code, err.message, ack.accepted))
    if ok:
        check(name + " stores nothing", ack.accepted == 0 and ack.duplicates == 0, str(ack))
        for w in words:
            check(name + " message names '%s'" % w, w.lower() in err.message.lower(), "message was: %r" % err.message)
        if record_index is not None:
            check(name + " record_index=%d" % record_index, err.record_index == record_index,
                  "record_index=%d" % err.record_index)


def finite(x):
    return isinstance(x, (int, float)) and math.isfinite(x)


# ---------------------------------------------------------------------------------------------
# Data: MNIST digits (training + production) and notMNIST letters (production outliers).


def read_idx_images(path, n):
    with gzip.open(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051
        n = min(n, count)
        data = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8).reshape(n, rows * cols)
    return data.astype(np.float32) / 255.0


def read_idx_labels(path, n):
    with gzip.open(path, "rb") as f:
        magic, count = struct.unpack(">II", f.read(8))
        assert magic == 2049
        return np.frombuffer(f.read(min(n, count)), dtype=np.uint8)


def load_data(dim, seed):
    """MNIST/notMNIST projected to dim (a fixed random projection), or random clusters without the files."""
    rng = np.random.default_rng(seed)
    try:
        x = read_idx_images(os.path.join(DATA, "mnist-t10k-images-idx3-ubyte.gz"), 3000)
        y = read_idx_labels(os.path.join(DATA, "mnist-t10k-labels-idx1-ubyte.gz"), 3000)
        ox = read_idx_images(os.path.join(DATA, "notmnist-t10k-images-idx3-ubyte.gz"), 200)
        proj = rng.standard_normal((x.shape[1], dim)).astype(np.float32) / math.sqrt(dim)
        return (x @ proj).astype(np.float32), y, (ox @ proj).astype(np.float32), "mnist"
    except (OSError, AssertionError):
        centers = rng.standard_normal((10, dim)).astype(np.float32) * 4
        y = rng.integers(0, 10, 3000)
        x = centers[y] + rng.standard_normal((3000, dim)).astype(np.float32)
        ox = rng.standard_normal((200, dim)).astype(np.float32) * 4 + 12
        return x, y.astype(np.uint8), ox, "clusters"


def centroid_classifier(x_train, y_train):
    cents = np.stack([x_train[y_train == c].mean(axis=0) for c in range(10)])

    def probs(x):
        d = ((x[:, None, :] - cents[None, :, :]) ** 2).sum(-1)
        z = -d / max(float(np.median(d)), 1e-6) * 8
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    return probs


def new_id():
    return str(uuid.uuid4())


def make_record(rid, dataset, vec, probs=None, label="", meta=None, ts=0, uri=""):
    r = msg("Record", id=rid, dataset=dataset, embedding=[float(v) for v in vec], label=label,
            timestamp_unix_ms=ts, input_uri=uri)
    if probs is not None:
        r.inference.predicted_class = str(int(np.argmax(probs)))
        r.inference.class_probabilities.extend(float(p) for p in probs)
    for k, v in (meta or {}).items():
        r.metadata[k] = v
    return r


def descriptor(model, dim, metric=0, version="1", layer="penultimate"):
    return msg("EmbeddingSetDescriptor", model=model, model_version=version, layer=layer, dimension=dim,
               metric=metric)


def batch(desc, records, batch_id=None):
    b = msg("LogBatch", batch_id=new_id() if batch_id is None else batch_id, set=desc)
    b.records.extend(records)
    return b


# ---------------------------------------------------------------------------------------------
# Checks


class Run:
    def __init__(self, client, dim, seed):
        self.c = client
        self.dim = dim
        self.tag = "oi" + uuid.uuid4().hex[:8]
        self.x, self.y, self.ox, self.source = load_data(dim, seed)
        self.probs = centroid_classifier(self.x[:2000], self.y[:2000])

    def set_id(self, desc):
        return "%s/%s/%s" % (desc.model, desc.model_version, desc.layer)

    # -- ingest ---------------------------------------------------------------------------------

    def ingest_main(self):
        """2000 training digits, 800 production digits, 100 production letters in an L2 set."""
        self.desc = descriptor(self.tag + "-l2", self.dim, E["DISTANCE_METRIC_L2"])
        self.sid = self.set_id(self.desc)
        t0 = int(time.time() * 1000) - 3600_000
        self.train_ids, self.prod_ids, self.ood_ids = [], [], []
        recs = []
        for i in range(2000):
            rid = new_id()
            self.train_ids.append(rid)
            recs.append(make_record(rid, "training", self.x[i], label=str(self.y[i]), ts=t0 + i,
                                    meta={"digit": str(self.y[i]), "part": "train"}))
        batches = [batch(self.desc, recs[i:i + 500]) for i in range(0, 2000, 500)]
        prod = []
        px = self.x[2000:2800]
        pp = self.probs(px)
        for i in range(800):
            rid = new_id()
            self.prod_ids.append(rid)
            prod.append(make_record(rid, "production", px[i], probs=pp[i], ts=t0 + 5000 + i,
                                    meta={"digit": str(self.y[2000 + i]), "kind": "digit"},
                                    uri="file:///data/digits/%d.png" % i))
        op = self.probs(self.ox[:100])
        for i in range(100):
            rid = new_id()
            self.ood_ids.append(rid)
            prod.append(make_record(rid, "production", self.ox[i], probs=op[i], ts=t0 + 9000 + i,
                                    meta={"kind": "letter"}, uri="s3://bucket/letters/%d.png" % i))
        self.prod_records = {r.id: r for r in prod}
        self.train_records = {r.id: r for r in recs}
        batches += [batch(self.desc, prod[i:i + 300]) for i in range(0, 900, 300)]
        self.first_batches = batches
        acks = self.c.log(batches)
        check("Log: one ack per batch", set(acks) == {b.batch_id for b in batches},
              "acks for %d of %d batches" % (len(acks), len(batches)))
        acc = sum(a.accepted for a in acks.values())
        errs = [a.error.message for a in acks.values() if a.HasField("error")]
        check("Log: 2900 records accepted", acc == 2900 and not errs, "accepted=%d errors=%s" % (acc, errs[:3]))
        for b in batches:
            a = acks.get(b.batch_id)
            if a is not None:
                check("Log: ack echoes batch_id, accepted == batch size", a.accepted == len(b.records),
                      "accepted=%d of %d" % (a.accepted, len(b.records)))

        # Re-sent identical batches: duplicates, nothing stored twice.
        acks2 = self.c.log(batches[:2])
        for b in batches[:2]:
            a = acks2.get(b.batch_id)
            check("Log: re-sent batch acks duplicates", a is not None and a.duplicates == len(b.records)
                  and a.accepted == 0 and not a.HasField("error"), str(a))
        n = self.c.call("CountRecords", msg("CountRecordsRequest", set_id=self.sid)).count
        check("CountRecords after re-send: 2900 (nothing stored twice)", n == 2900, "count=%d" % n)

    def ingest_bad(self):
        d = self.desc
        good = lambda: make_record(new_id(), "production", self.x[0])  # noqa: E731

        # Same id, other content: AlreadyExists, whole batch rejected.
        conflict = make_record(self.prod_ids[0], "production", self.x[5])
        fresh = good()
        a = self.c.log_one(batch(d, [fresh, conflict]))
        expect_ack_error("Log same id other content", a, 6, words=[self.prod_ids[0][:8]], record_index=1)
        self._expect_absent("Log rejected batch", [fresh.id])

        # Same id, same content but another timestamp: conflict too (timestamp is content).
        orig = self.prod_records[self.prod_ids[1]]
        changed = M["chroma.v1.Record"]()
        changed.CopyFrom(orig)
        changed.timestamp_unix_ms += 1
        a = self.c.log_one(batch(d, [changed]))
        expect_ack_error("Log same id other timestamp", a, 6, record_index=0)

        def rec_with(vals):
            r = good()
            del r.embedding[:]
            r.embedding.extend(vals)
            return r
        v = [float(t) for t in self.x[1]]
        nan = list(v)
        nan[17] = float("nan")
        a = self.c.log_one(batch(d, [good(), good(), good(), rec_with(nan)]))
        expect_ack_error("Log NaN embedding", a, 3, words=["records[3]", "embedding[17]", "nan"], record_index=3)
        inf = list(v)
        inf[0] = float("inf")
        a = self.c.log_one(batch(d, [rec_with(inf)]))
        expect_ack_error("Log +Inf embedding", a, 3, words=["records[0]", "embedding[0]"], record_index=0)
        ninf = list(v)
        ninf[self.dim - 1] = float("-inf")
        a = self.c.log_one(batch(d, [rec_with(ninf)]))
        expect_ack_error("Log -Inf embedding", a, 3, words=["embedding[%d]" % (self.dim - 1)], record_index=0)

        big_value = list(v)
        big_value[5] = 3e38
        a = self.c.log_one(batch(d, [good(), rec_with(big_value)]))
        expect_ack_error("Log huge finite value 3e38 (squared distances overflow)", a, 3,
                         words=["records[1]", "embedding[5]"], record_index=1)
        big_value[5] = 1e19
        a = self.c.log_one(batch(d, [rec_with(big_value)]))
        expect_ack_error("Log value 1e19", a, 3, words=["embedding[5]"], record_index=0)
        big_value[5] = 1e14
        a = self.c.log_one(batch(d, [rec_with(big_value)]))
        check("Log value 1e14 accepted", a is not None and a.accepted == 1, str(a))
        a = self.c.log_one(batch(d, [good(), rec_with(v[:-1])]))
        expect_ack_error("Log wrong dimension", a, 3, words=["records[1]", str(self.dim), str(self.dim - 1)],
                         record_index=1)
        a = self.c.log_one(batch(d, [rec_with([])]))
        expect_ack_error("Log empty embedding", a, 3, words=["records[0]"], record_index=0)

        a = self.c.log_one(batch(d, []))
        expect_ack_error("Log empty batch", a, 3, words=["records"], record_index=-1)

        big = [make_record(new_id(), "production", self.x[i % 100]) for i in range(10001)]
        a = self.c.log_one(batch(d, big), timeout=120)
        if check("Log oversized batch (10,001) acked", a is not None):
            check("Log oversized batch rejected", a.HasField("error") and a.error.code in (3, 8),
                  "ack: code=%d msg=%r accepted=%d" % (a.error.code, a.error.message, a.accepted))
            check("Log oversized batch stores nothing", a.accepted == 0, "accepted=%d" % a.accepted)
            check("Log oversized batch message names the limit", "10000" in a.error.message.replace(",", ""),
                  a.error.message)
        self._expect_absent("Log oversized batch", [big[0].id, big[-1].id])

        r = good()
        a = self.c.log_one(batch(d, [r, good(), r]))
        expect_ack_error("Log duplicate id in batch", a, 3, words=[r.id[:8]], record_index=2)

        r = good()
        r.id = "not-a-uuid"
        a = self.c.log_one(batch(d, [good(), r]))
        expect_ack_error("Log malformed record id", a, 3, words=["records[1]", "id"], record_index=1)
        r = good()
        r.id = ""
        a = self.c.log_one(batch(d, [r]))
        expect_ack_error("Log empty record id", a, 3, words=["records[0]", "id"], record_index=0)
        r = good()
        r.id = "{" + new_id() + "}"
        a = self.c.log_one(batch(d, [r]))
        expect_ack_error("Log braced record id", a, 3, words=["records[0]"], record_index=0)

        # Upper-case UUID accepted, stored lower-case.
        up = good()
        up.id = new_id().upper()
        a = self.c.log_one(batch(d, [up]))
        check("Log upper-case id accepted", a is not None and a.accepted == 1 and not a.HasField("error"), str(a))
        got = self.c.call("GetRecords", msg("GetRecordsRequest", set_id=self.sid, ids=[up.id.lower()]))
        check("GetRecords: upper-case id stored lower-case", len(got.records) == 1
              and got.records[0].record.id == up.id.lower(), str([x.record.id for x in got.records]))
        try:
            got = self.c.call("GetRecords", msg("GetRecordsRequest", set_id=self.sid, ids=[up.id]))
            check("GetRecords: upper-case id finds the record", len(got.records) == 1, str(len(got.records)))
        except grpc.RpcError as e:
            check("GetRecords: upper-case id finds the record", False, "%s: %s" % (e.code().name, e.details()))
        self.c.call("DeleteRecords", msg("DeleteRecordsRequest", set_id=self.sid, ids=[up.id.lower()]))

        r = good()
        r.dataset = ""
        a = self.c.log_one(batch(d, [r]))
        expect_ack_error("Log missing dataset", a, 3, words=["records[0]", "dataset"], record_index=0)
        r = good()
        r.dataset = "prod uction!"
        a = self.c.log_one(batch(d, [r]))
        expect_ack_error("Log bad dataset name", a, 3, words=["records[0]", "dataset"], record_index=0)
        r = good()
        r.dataset = "x" * 65
        a = self.c.log_one(batch(d, [r]))
        expect_ack_error("Log 65-char dataset", a, 3, words=["dataset"], record_index=0)

        a = self.c.log_one(batch(d, [good()], batch_id=""))
        if check("Log empty batch_id acked", a is not None):
            check("Log empty batch_id -> stored (the proto accepts it; acks then match by order)",
                  not a.HasField("error") and a.accepted == 1, str(a))
        a = self.c.log_one(batch(d, [good()], batch_id="b" * 129))
        if check("Log 129-char batch_id acked", a is not None):
            check("Log 129-char batch_id -> code 3", a.HasField("error") and a.error.code == 3
                  and "batch_id" in a.error.message, str(a))
        a = self.c.log_one(batch(d, [good()], batch_id="b" * 128))
        check("Log 128-char batch_id accepted", a is not None and a.accepted == 1, str(a))

        b = msg("LogBatch", batch_id=new_id())
        b.records.append(good())
        a = self.c.log_one(b)
        expect_ack_error("Log missing set", a, 3, words=["set"], record_index=-1)
        for field, val in (("model", ""), ("model", "bad model"), ("model", "m" * 129), ("model_version", ""),
                           ("layer", ""), ("layer", "a/b")):
            bd = M["chroma.v1.EmbeddingSetDescriptor"]()
            bd.CopyFrom(d)
            setattr(bd, field, val)
            a = self.c.log_one(batch(bd, [good()]))
            expect_ack_error("Log set.%s=%r" % (field, val[:12]), a, 3, words=[field], record_index=-1)
        for dim in (0, -3):
            bd = descriptor(self.tag + "-dim", dim)
            a = self.c.log_one(batch(bd, [good()]))
            expect_ack_error("Log set.dimension=%d" % dim, a, 3, words=["dimension"], record_index=-1)
        bd = descriptor(self.tag + "-huge", 2_000_000_000)
        a = self.c.log_one(batch(bd, [make_record(new_id(), "production", [0.5])]))
        expect_ack_error("Log set.dimension=2e9", a, 3, words=["dimension"], record_index=-1)
        # Dimension of an existing set cannot change.
        bd = descriptor(self.desc.model, self.dim + 1, 0)
        a = self.c.log_one(batch(bd, [make_record(new_id(), "production", list(self.x[0]) + [0.0])]))
        if check("Log other dimension for existing set acked", a is not None):
            check("Log other dimension for existing set rejected", a.HasField("error") and a.error.code in (3, 9)
                  and a.accepted == 0, str(a))
        bd = msg("EmbeddingSetDescriptor")
        bd.CopyFrom(d)
        bd.metric = 77
        a = self.c.log_one(batch(bd, [good()]))
        expect_ack_error("Log unknown metric 77", a, 3, words=["metric"], record_index=-1)

        # Metadata / URI / inference limits: either accepted or a clear InvalidArgument.
        r = good()
        r.input_uri = "not a uri \x00 at all"
        a = self.c.log_one(batch(d, [r]))
        check("Log odd input_uri acked cleanly", a is not None and (a.accepted == 1 or
              (a.error.code == 3 and "input_uri" in a.error.message)), str(a))
        r = good()
        r.input_uri = "file:///" + "x" * 100_000
        a = self.c.log_one(batch(d, [r]))
        check("Log 100k-char input_uri acked cleanly", a is not None and (a.accepted == 1 or
              (a.error.code == 3 and "input_uri" in a.error.message)), "code=%d %r" % (a.error.code, a.error.message)
              if a else "no ack")
        r = good()
        for i in range(5000):
            r.metadata["k%d" % i] = "v"
        a = self.c.log_one(batch(d, [r]))
        check("Log 5000 metadata entries acked cleanly", a is not None and (a.accepted == 1 or
              (a.error.code == 3 and "metadata" in a.error.message)),
              "code=%d %r" % (a.error.code, a.error.message) if a else "no ack")
        r = good()
        r.inference.class_probabilities.extend([0.5, float("nan")])
        a = self.c.log_one(batch(d, [r]))
        expect_ack_error("Log NaN class probability", a, 3, words=["records[0]", "class_probabilities"],
                         record_index=0)
        r = good()
        r.inference.class_probabilities.extend([0.5, 0.5])
        r.inference.class_names.extend(["a", "b", "c"])
        a = self.c.log_one(batch(d, [r]))
        expect_ack_error("Log class_names length != probabilities", a, 3, words=["records[0]", "class_names"],
                         record_index=0)

        # A batch over the server's message limit (64 MiB by default) ends the stream with ResourceExhausted naming the
        # limit, after acking the batches before it.
        first = batch(d, [good()])
        huge = batch(d, [good()])
        huge.records[0].input_uri = "x" * (65 * 1024 * 1024)
        got = []
        try:
            for a in self.c.stubs["Log"](iter([first, huge]), timeout=120, metadata=self.c.md()):
                got.append(a)
            check("Log batch over the message limit -> RESOURCE_EXHAUSTED", False, "the stream ended OK")
        except grpc.RpcError as e:
            check("Log batch over the message limit -> RESOURCE_EXHAUSTED",
                  e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, "%s %s" % (e.code().name, e.details()))
            check("Log batch over the message limit: message names the limit", "message limit" in (e.details() or ""),
                  e.details())
        check("Log batch over the message limit: the batch before it was acked",
              len(got) == 1 and got[0].accepted == 1, str(got))
        del huge

        # A per-batch error does not end the stream: bad, good, bad, good on one stream.
        bads = [batch(d, []), batch(d, [good()]), batch(d, [rec_with(nan)]), batch(d, [good(), good()])]
        acks = self.c.log(bads)
        ok = (len(acks) == 4 and acks[bads[0].batch_id].error.code == 3 and acks[bads[1].batch_id].accepted == 1
              and acks[bads[2].batch_id].error.code == 3 and acks[bads[3].batch_id].accepted == 2)
        check("Log: per-batch errors do not end the stream", ok, str({k: (a.accepted, a.error.code)
                                                                     for k, a in acks.items()}))

        # Metric mismatch: FailedPrecondition naming both.
        bd = M["chroma.v1.EmbeddingSetDescriptor"]()
        bd.CopyFrom(d)
        bd.metric = E["DISTANCE_METRIC_COSINE"]
        r = good()
        a = self.c.log_one(batch(bd, [r]))
        expect_ack_error("Log COSINE batch into L2 set", a, 9, words=["l2", "cosine"], record_index=-1)
        self._expect_absent("Log COSINE batch into L2 set", [r.id])
        # UNSPECIFIED for an existing set means its metric.
        bd.metric = 0
        a = self.c.log_one(batch(bd, [good()]))
        check("Log UNSPECIFIED metric into existing L2 set accepted", a is not None and a.accepted == 1, str(a))

        # Auth: only meaningful when the server requires a key.
        if self.c.api_key:
            try:
                a = self.c.log_one(batch(d, [good()]), key=None)
                check("Log without API key rejected", a is not None and a.error.code == 16, str(a))
            except grpc.RpcError as e:
                check("Log without API key -> UNAUTHENTICATED", e.code() == grpc.StatusCode.UNAUTHENTICATED,
                      e.code().name)
            for method, req in (("ListSets", msg("ListSetsRequest")),
                                ("CountRecords", msg("CountRecordsRequest", set_id=self.sid)),
                                ("GetLabeledRecords", msg("GetLabeledRecordsRequest", set_id=self.sid))):
                expect_status("%s without API key" % method, lambda: self.c.call(method, req, key=None),
                              grpc.StatusCode.UNAUTHENTICATED)
                expect_status("%s with wrong API key" % method, lambda: self.c.call(method, req, key="wrong"),
                              grpc.StatusCode.UNAUTHENTICATED)
            n = self.c.call("CountRecords", msg("CountRecordsRequest", set_id=self.sid)).count
            check("server still serves after unauthenticated calls", n > 0)

    def _expect_absent(self, name, ids):
        for rid in ids:
            try:
                r = self.c.call("GetRecords", msg("GetRecordsRequest", set_id=self.sid, ids=[rid]))
                check(name + ": record %s not stored" % rid[:8], len(r.records) == 0, "it was stored")
            except grpc.RpcError as e:
                check(name + ": record %s not stored" % rid[:8], e.code() == grpc.StatusCode.NOT_FOUND,
                      "%s %s" % (e.code().name, e.details()))

    def cosine_set(self):
        self.cdesc = descriptor(self.tag + "-cos", self.dim, E["DISTANCE_METRIC_COSINE"])
        self.csid = self.set_id(self.cdesc)
        recs = [make_record(new_id(), "training" if i < 300 else "production", self.x[i], label=str(self.y[i]),
                            probs=None if i < 300 else self.probs(self.x[i:i + 1])[0]) for i in range(400)]
        self.cos_records = recs
        a = self.c.log_one(batch(self.cdesc, recs))
        check("Log cosine set: 400 accepted", a is not None and a.accepted == 400, str(a)[:300])
        zero = make_record(new_id(), "production", [0.0] * self.dim)
        a = self.c.log_one(batch(self.cdesc, [make_record(new_id(), "production", self.x[7]), zero]))
        expect_ack_error("Log all-zero vector in cosine set", a, 3, words=["records[1]"], record_index=1)
        bd = M["chroma.v1.EmbeddingSetDescriptor"]()
        bd.CopyFrom(self.cdesc)
        bd.metric = E["DISTANCE_METRIC_L2"]
        a = self.c.log_one(batch(bd, [make_record(new_id(), "production", self.x[7])]))
        expect_ack_error("Log L2 batch into cosine set", a, 9, words=["l2", "cosine"], record_index=-1)
        sets = {s.set_id: s for s in self.c.call("ListSets", msg("ListSetsRequest")).sets}
        s = sets.get(self.csid)
        if check("ListSets lists the cosine set", s is not None):
            check("ListSets: cosine metric", s.metric == E["DISTANCE_METRIC_COSINE"]
                  and s.descriptor.metric == E["DISTANCE_METRIC_COSINE"], "%d/%d" % (s.metric, s.descriptor.metric))
        # FindNearest under cosine matches brute force.
        q = self.x[2500]
        r = self.c.call("FindNearest", msg("FindNearestRequest", set_id=self.csid, embedding=msg("Vector", values=q),
                                           k=10, exact=True, include_embeddings=True))
        emb = np.array([list(rr.embedding) for rr in recs], dtype=np.float64)
        qq = q.astype(np.float64)
        cosd = 1 - emb @ qq / (np.linalg.norm(emb, axis=1) * np.linalg.norm(qq))
        want = np.sort(cosd)[:10]
        got = np.array([nb.distance for nb in r.neighbors])
        check("FindNearest cosine: 10 neighbours", len(got) == 10, str(len(got)))
        check("FindNearest: index_behind false once every record logged before is indexed", not r.index_behind)
        if len(got) == 10:
            check("FindNearest cosine: distances = 1 - cos (brute force)", np.allclose(got, want, atol=1e-4),
                  "got %s want %s" % (got[:3], want[:3]))
        # Scaled query: same cosine neighbours.
        r2 = self.c.call("FindNearest", msg("FindNearestRequest", set_id=self.csid,
                                            embedding=msg("Vector", values=q * 7.5), k=10, exact=True))
        check("FindNearest cosine: scaling the query changes nothing",
              [n.record.record.id for n in r.neighbors] == [n.record.record.id for n in r2.neighbors])
        expect_status("FindNearest cosine: zero query vector",
                      lambda: self.c.call("FindNearest", msg("FindNearestRequest", set_id=self.csid,
                                                              embedding=msg("Vector", values=[0.0] * self.dim), k=3)),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["embedding"])

    # -- query ----------------------------------------------------------------------------------

    def query(self):
        c, sid = self.c, self.sid
        whole = c.call("ListSets", msg("ListSetsRequest"))
        sets = {s.set_id: s for s in whole.sets}
        paged, token, pages = [], "", 0
        while True:
            page = c.call("ListSets", msg("ListSetsRequest", page_size=1, page_token=token))
            paged += [s.set_id for s in page.sets]
            pages += 1
            token = page.next_page_token
            if not token or pages > 1000:
                break
        check("ListSets in pages of 1 = the whole listing, in order", paged == [s.set_id for s in whole.sets]
              and pages == len(whole.sets) and not whole.next_page_token, "%s vs %s" % (paged[:5], list(sets)[:5]))
        s = sets.get(sid)
        if check("ListSets lists the set as model/version/layer", s is not None, str(list(sets)[:5])):
            check("ListSets: descriptor echoes", s.descriptor.model == self.desc.model
                  and s.descriptor.dimension == self.dim, str(s.descriptor))
            check("ListSets: metric L2", s.metric == E["DISTANCE_METRIC_L2"], str(s.metric))
            counts = {d.dataset: d.count for d in s.datasets}
            check("ListSets: dataset counts", counts.get("training") == 2000 and counts.get("production", 0) >= 900,
                  str(counts))
            check("ListSets: total_records = sum of datasets", s.total_records == sum(counts.values()),
                  "%d vs %s" % (s.total_records, counts))
            now = time.time() * 1000
            check("ListSets: created/updated times are Unix ms", abs(s.created_unix_ms - now) < 86400_000
                  and s.updated_unix_ms >= s.created_unix_ms, "%d %d" % (s.created_unix_ms, s.updated_unix_ms))
            if s.HasField("index"):
                ix = s.index
                check("ListSets: index counts sane", ix.indexed_count >= 0 and 0 <= ix.estimated_recall_at_10 <= 1,
                      str(ix))
            for dr in list(s.drift_history) + ([s.drift] if s.HasField("drift") else []):
                check("ListSets: drift p-value in [0,1], mmd2 finite", 0 <= dr.p_value <= 1 and finite(dr.mmd2),
                      str(dr))

        # CountRecords with filters.
        n = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid, filter=msg("RecordFilter", dataset="training"))).count
        check("CountRecords dataset=training", n == 2000, str(n))
        f = msg("RecordFilter", dataset="production")
        f.metadata["kind"] = "letter"
        n = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid, filter=f)).count
        check("CountRecords dataset+metadata (AND)", n == 100, str(n))
        f = msg("RecordFilter", dataset="training")
        f.metadata["kind"] = "letter"
        n = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid, filter=f)).count
        check("CountRecords contradictory filter = 0", n == 0, str(n))
        expect_status("CountRecords unknown set", lambda: c.call("CountRecords", msg("CountRecordsRequest", set_id="no/such/set")),
                      grpc.StatusCode.NOT_FOUND, words=["no/such/set"])
        expect_status("CountRecords empty set_id", lambda: c.call("CountRecords", msg("CountRecordsRequest")),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["set_id"])

        # GetRecords pagination: every training record once, in a stable order.
        seen, token, pages = [], "", 0
        while True:
            r = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, filter=msg("RecordFilter", dataset="training"),
                                         page_token=token))
            pages += 1
            if pages == 1:
                check("GetRecords page_size 0 = 100", len(r.records) == 100, str(len(r.records)))
                check("GetRecords leaves embeddings out by default", all(len(x.record.embedding) == 0 for x in r.records))
            seen += [x.record.id for x in r.records]
            token = r.next_page_token
            if not token or pages > 50:
                break
        check("GetRecords pages cover every training record once", len(seen) == 2000 and set(seen) == set(self.train_ids),
              "%d seen, %d distinct" % (len(seen), len(set(seen))))
        r = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, page_size=1000, include_embeddings=True,
                                     filter=msg("RecordFilter", dataset="training")))
        check("GetRecords page_size 1000", len(r.records) == 1000, str(len(r.records)))
        seqs = [x.sequence for x in r.records]
        check("GetRecords: sequences increase", all(a < b for a, b in zip(seqs, seqs[1:])))
        sr = r.records[0]
        orig = self.train_records.get(sr.record.id)
        if check("GetRecords returns a record we sent", orig is not None):
            check("GetRecords round-trips embedding exactly", list(sr.record.embedding) == list(orig.embedding))
            check("GetRecords round-trips label/metadata/timestamp", sr.record.label == orig.label
                  and dict(sr.record.metadata) == dict(orig.metadata)
                  and sr.record.timestamp_unix_ms == orig.timestamp_unix_ms and sr.set_id == sid)
            check("GetRecords: no review for an unreviewed record", not sr.HasField("review"))
        pr = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, ids=[self.prod_ids[3]])).records
        if check("GetRecords by id", len(pr) == 1):
            o = self.prod_records[self.prod_ids[3]]
            check("GetRecords round-trips inference and input_uri", pr[0].record.input_uri == o.input_uri
                  and pr[0].record.inference.predicted_class == o.inference.predicted_class
                  and list(pr[0].record.inference.class_probabilities) == list(o.inference.class_probabilities))
        for ps in (1001, 1_000_000, 2**31 - 1, -1):
            expect_status("GetRecords page_size=%d" % ps,
                          lambda: c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, page_size=ps)),
                          grpc.StatusCode.INVALID_ARGUMENT, words=["page_size"])
        expect_status("GetRecords garbage page_token",
                      lambda: c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, page_token="garbage!!")),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["page_token"])
        expect_status("GetRecords unknown id", lambda: c.call("GetRecords", msg("GetRecordsRequest", set_id=sid,
                                                                              ids=[self.prod_ids[0], new_id()])),
                      grpc.StatusCode.NOT_FOUND)
        expect_status("GetRecords malformed id", lambda: c.call("GetRecords", msg("GetRecordsRequest", set_id=sid,
                                                                                ids=["nope"])),
                      grpc.StatusCode.INVALID_ARGUMENT)
        expect_status("GetRecords unknown set", lambda: c.call("GetRecords", msg("GetRecordsRequest", set_id="a/b/c")),
                      grpc.StatusCode.NOT_FOUND)
        # Page token of one set used on another
        r = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, page_size=5))
        try:
            r2 = c.call("GetRecords", msg("GetRecordsRequest", set_id=self.csid, page_size=5,
                                          page_token=r.next_page_token))
            check("GetRecords: another set's page token is refused or harmless", all(x.set_id == self.csid for x in r2.records))
        except grpc.RpcError as e:
            check("GetRecords: another set's page token -> INVALID_ARGUMENT",
                  e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code().name)

        # FindNearest (L2): brute-force comparison.
        allemb = {}
        tok = ""
        while True:
            r = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, page_size=1000, include_embeddings=True,
                                         page_token=tok))
            for x in r.records:
                allemb[x.record.id] = (x.record.dataset, np.array(x.record.embedding, dtype=np.float64))
            tok = r.next_page_token
            if not tok:
                break
        self.allemb = allemb
        ids = list(allemb)
        mat = np.stack([allemb[i][1] for i in ids])
        q = self.x[2900].astype(np.float64)
        d2 = ((mat - q) ** 2).sum(1)
        order = np.argsort(d2)[:10]
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, embedding=msg("Vector", values=q), k=10, exact=True))
        got = [nb.distance for nb in r.neighbors]
        check("FindNearest L2 exact: ids = brute force", [nb.record.record.id for nb in r.neighbors] ==
              [ids[i] for i in order], "")
        check("FindNearest L2: distance is squared Euclidean", np.allclose(got, d2[order], rtol=1e-4, atol=1e-4),
              "got %s want %s" % (got[:3], d2[order][:3]))
        check("FindNearest: ascending distance", all(a <= b for a, b in zip(got, got[1:])))
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, embedding=msg("Vector", values=q), k=10))
        check("FindNearest default (no exact) finds >= 8 of the true 10",
              len(set(nb.record.record.id for nb in r.neighbors) & set(ids[i] for i in order)) >= 8)
        rid = self.prod_ids[10]
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, record_id=rid, k=5))
        check("FindNearest by record_id: the record first at distance 0", len(r.neighbors) == 5
              and r.neighbors[0].record.record.id == rid and r.neighbors[0].distance == 0.0,
              str([(n.record.record.id[:8], n.distance) for n in r.neighbors]))
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, record_id=rid, k=5, dataset="training",
                                      include_embeddings=True))
        check("FindNearest dataset=training: only training neighbours",
              all(n.record.record.dataset == "training" for n in r.neighbors) and len(r.neighbors) == 5)
        check("FindNearest include_embeddings", all(len(n.record.record.embedding) == self.dim for n in r.neighbors))
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, record_id=rid, k=1000))
        check("FindNearest k=1000", len(r.neighbors) == 1000, str(len(r.neighbors)))
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, record_id=rid, k=10, search_breadth=10000))
        check("FindNearest search_breadth=10000", len(r.neighbors) == 10)
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, record_id=rid, k=10, dataset="nosuchdataset"))
        check("FindNearest unknown dataset filter: empty", len(r.neighbors) == 0, str(len(r.neighbors)))
        bad = [("k=0", dict(k=0), ["k"]), ("k=-5", dict(k=-5), ["k"]), ("k=1001", dict(k=1001), ["k"]),
               ("search_breadth=-1", dict(k=5, search_breadth=-1), ["search_breadth"]),
               ("search_breadth=10001", dict(k=5, search_breadth=10001), ["search_breadth"])]
        for name, kw, words in bad:
            expect_status("FindNearest " + name, lambda: c.call("FindNearest", msg("FindNearestRequest", set_id=sid,
                                                                                 record_id=rid, **kw)),
                          grpc.StatusCode.INVALID_ARGUMENT, words=words)
        v = list(self.x[0])
        expect_status("FindNearest wrong dimension", lambda: c.call("FindNearest", msg(
            "FindNearestRequest", set_id=sid, embedding=msg("Vector", values=v[:-2]), k=5)),
            grpc.StatusCode.INVALID_ARGUMENT, words=["embedding", str(self.dim)])
        vn = list(v)
        vn[3] = float("nan")
        expect_status("FindNearest NaN query", lambda: c.call("FindNearest", msg(
            "FindNearestRequest", set_id=sid, embedding=msg("Vector", values=vn), k=5)),
            grpc.StatusCode.INVALID_ARGUMENT, words=["embedding", "nan"])
        vn[3] = float("inf")
        expect_status("FindNearest Inf query", lambda: c.call("FindNearest", msg(
            "FindNearestRequest", set_id=sid, embedding=msg("Vector", values=vn), k=5)),
            grpc.StatusCode.INVALID_ARGUMENT, words=["embedding"])
        expect_status("FindNearest no query", lambda: c.call("FindNearest", msg("FindNearestRequest", set_id=sid, k=5)),
                      grpc.StatusCode.INVALID_ARGUMENT)
        expect_status("FindNearest unknown record_id", lambda: c.call("FindNearest", msg(
            "FindNearestRequest", set_id=sid, record_id=new_id(), k=5)), grpc.StatusCode.NOT_FOUND)
        expect_status("FindNearest unknown set", lambda: c.call("FindNearest", msg(
            "FindNearestRequest", set_id="x/y/z", record_id=rid, k=5)), grpc.StatusCode.NOT_FOUND)
        expect_status("FindNearest huge finite query (3e38)", lambda: c.call("FindNearest", msg(
            "FindNearestRequest", set_id=sid, embedding=msg("Vector", values=[3e38] * self.dim), k=5)),
            grpc.StatusCode.INVALID_ARGUMENT, words=["embedding.values[0]", "too large"])
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, embedding=msg("Vector", values=[1e14] * self.dim),
                                      k=5))
        check("FindNearest large allowed query (1e14): finite distances",
              len(r.neighbors) == 5 and all(math.isfinite(n.distance) for n in r.neighbors),
              str([n.distance for n in r.neighbors]))

        # TagRecords
        r = c.call("TagRecords", msg("TagRecordsRequest", set_id=sid, ids=self.prod_ids[:3], tags={"reviewed_by": "qa",
                                                                                                  "kind": "digit2"}))
        check("TagRecords updated=3", r.updated == 3, str(r.updated))
        g = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, ids=self.prod_ids[:1])).records[0]
        check("TagRecords merges (overwrites kind, keeps digit)", g.record.metadata.get("kind") == "digit2"
              and g.record.metadata.get("reviewed_by") == "qa" and "digit" in g.record.metadata, str(dict(g.record.metadata)))
        f = msg("RecordFilter", dataset="production")
        f.metadata["kind"] = "digit2"
        n = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid, filter=f)).count
        check("CountRecords sees tags", n == 3, str(n))
        try:
            r = c.call("TagRecords", msg("TagRecordsRequest", set_id=sid, ids=[new_id()], tags={"a": "b"}))
            check("TagRecords unknown id: NOT_FOUND or updated=0", r.updated == 0, str(r.updated))
        except grpc.RpcError as e:
            check("TagRecords unknown id -> NOT_FOUND", e.code() == grpc.StatusCode.NOT_FOUND, e.code().name)
        expect_status("TagRecords no tags", lambda: c.call("TagRecords", msg("TagRecordsRequest", set_id=sid,
                                                                            ids=self.prod_ids[:1])),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["tags"])
        expect_status("TagRecords no ids", lambda: c.call("TagRecords", msg("TagRecordsRequest", set_id=sid,
                                                                           tags={"a": "b"})),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["ids"])

        # DeleteRecords
        victims = self.prod_ids[-2:]
        r = c.call("DeleteRecords", msg("DeleteRecordsRequest", set_id=sid, ids=victims + [new_id()]))
        check("DeleteRecords counts only existing ids", r.deleted == 2, str(r.deleted))
        r = c.call("DeleteRecords", msg("DeleteRecordsRequest", set_id=sid, ids=victims))
        check("DeleteRecords again: 0", r.deleted == 0, str(r.deleted))
        self._expect_absent("DeleteRecords", victims)
        r = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, embedding=msg("Vector", values=allemb[victims[0]][1]),
                                      k=3))
        check("FindNearest no longer returns a deleted record", victims[0] not in [n.record.record.id for n in r.neighbors])
        expect_status("DeleteRecords no ids", lambda: c.call("DeleteRecords", msg("DeleteRecordsRequest", set_id=sid)),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["ids"])
        self.prod_ids = self.prod_ids[:-2]
        # Re-log a deleted id: acked as a duplicate, stays deleted.
        a = c.log_one(batch(self.desc, [self.prod_records[victims[0]]]))
        check("Log a deleted record again: duplicate, not stored", a is not None and a.duplicates == 1
              and a.accepted == 0 and not a.HasField("error"), str(a))
        self._expect_absent("Log a deleted record again", victims[:1])

    # -- recommendations ------------------------------------------------------------------------

    def rec(self, **kw):
        kw.setdefault("set_id", self.sid)
        return self.c.call("GetRecommendations", msg("GetRecommendationsRequest", **kw), timeout=120)

    def recommendations(self):
        c, sid = self.c, self.sid
        r = self.rec(wait_for_acknowledged=True, wait_timeout_ms=120000)
        check("GetRecommendations wait_for_acknowledged covers", r.covers_request,
              "covered=%d latest=%d stale=%s" % (r.covered_through_sequence, r.latest_sequence, r.stale))
        check("GetRecommendations: covered >= latest", r.covered_through_sequence >= r.latest_sequence,
              "%d < %d" % (r.covered_through_sequence, r.latest_sequence))
        nprod = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid, filter=msg("RecordFilter", dataset="production"))).count
        check("GetRecommendations: scored_records = production records", r.scored_records == nprod,
              "%d vs %d" % (r.scored_records, nprod))
        check("GetRecommendations: pending 0 after covering wait", r.pending_records == 0, str(r.pending_records))
        check("GetRecommendations: computed_unix_ms is recent", abs(r.computed_unix_ms - time.time() * 1000) < 600_000,
              str(r.computed_unix_ms))
        check("GetRecommendations default page non-empty", len(r.recommendations) > 0)
        self._sane("default", r)

        # Letters (out of distribution) should rank high under OUT_OF_DISTRIBUTION.
        for strat in ("UNSPECIFIED", "BALANCED", "OUT_OF_DISTRIBUTION", "UNCERTAINTY", "LABELING"):
            s = E["RECOMMENDATION_STRATEGY_" + strat]
            r = self.rec(strategy=s, all_scores=True, page_size=1000)
            self._sane("all_scores " + strat, r)
            scores = [x.score for x in r.recommendations]
            check("all_scores %s: descending score" % strat, all(a >= b for a, b in zip(scores, scores[1:])))
            got = [x.record.record.id for x in r.recommendations]
            tok = r.next_page_token
            while tok:
                r2 = self.rec(strategy=s, all_scores=True, page_size=1000, page_token=tok)
                got += [x.record.record.id for x in r2.recommendations]
                tok = r2.next_page_token
            check("all_scores %s: every production record once" % strat, len(got) == len(set(got)) == nprod,
                  "%d got, %d distinct, %d production" % (len(got), len(set(got)), nprod))
            check("all_scores %s: total_results = production records" % strat, r.total_results == nprod,
                  "%d vs %d" % (r.total_results, nprod))
            check("all_scores %s: no duplicate_ids" % strat,
                  all(len(x.duplicate_ids) == 0 and x.duplicate_count == 0 for x in r.recommendations))
            check("all_scores %s: score_rank is position" % strat,
                  [x.score_rank for x in r.recommendations] == list(range(1, len(r.recommendations) + 1)),
                  str([x.score_rank for x in r.recommendations][:10]))
            diffs = [abs(score_from_wire(strat, x.signals) - x.score) for x in r.recommendations]
            check("all_scores %s: every score follows from its signals by the proto's formula" % strat,
                  len(diffs) > 0 and max(diffs) < 1e-6, "max difference %.3g" % (max(diffs) if diffs else float("nan")))
            ood = set(self.ood_ids)
            if strat in ("OUT_OF_DISTRIBUTION", "BALANCED", "UNSPECIFIED") and self.source == "mnist":
                top = got[:100]
                hits = sum(1 for t in top if t in ood)
                check("all_scores %s: letters dominate the top 100 (%d/100)" % (strat, hits), hits >= 60, str(hits))
                labels = np.array([1 if i in ood else 0 for i in got])
                sc = -np.arange(len(got))
                auroc = auc(labels, sc)
                check("all_scores %s: AUROC letters vs digits >= 0.9 (%.3f)" % (strat, auroc), auroc >= 0.9)
            if strat == "UNSPECIFIED":
                self.balanced_ids = got
            if strat == "BALANCED":
                check("UNSPECIFIED strategy = BALANCED", got == self.balanced_ids)
        for div in ("UNSPECIFIED", "OFF", "DEFAULT", "STRONG"):
            r = self.rec(diversity=E["DIVERSITY_" + div], page_size=200)
            self._sane("diversity " + div, r)
            window = {"OFF": 1, "DEFAULT": 10, "UNSPECIFIED": 10, "STRONG": 50}[div]
            ranks = [x.score_rank for x in r.recommendations]
            bad = [(t, rk) for t, rk in enumerate(ranks, 1) if rk >= t + window + sum(
                x.duplicate_count for x in r.recommendations[:t])]
            check("diversity %s: score_rank < position + window (+collapsed)" % div, not bad, str(bad[:5]))
            check("diversity %s: score_rank distinct" % div, len(set(ranks)) == len(ranks))
            if div == "OFF":
                check("diversity OFF: score order", all(a.score >= b.score for a, b in
                                                       zip(r.recommendations, r.recommendations[1:])))
            ids = [x.record.record.id for x in r.recommendations]
            dups = [d for x in r.recommendations for d in x.duplicate_ids]
            check("diversity %s: no id twice (entries and duplicates)" % div,
                  len(ids + dups) == len(set(ids + dups)))
            check("diversity %s: duplicate_count counts every duplicate_id, at most 1,000 ids listed" % div,
                  all(len(x.duplicate_ids) <= min(1000, x.duplicate_count) for x in r.recommendations),
                  str([(len(x.duplicate_ids), x.duplicate_count) for x in r.recommendations
                       if len(x.duplicate_ids) > min(1000, x.duplicate_count)][:5]))
        # Pagination of the ranked list.
        full = self.rec(page_size=1000)
        allids = []
        tok = ""
        pages = 0
        while True:
            r = self.rec(page_size=37, page_token=tok)
            allids += [x.record.record.id for x in r.recommendations]
            tok = r.next_page_token
            pages += 1
            if not tok or pages > 100:
                break
        check("GetRecommendations: pages of 37 = one page of 1000", allids == [x.record.record.id for x in full.recommendations],
              "%d vs %d" % (len(allids), len(full.recommendations)))
        for ps in (-1, 1001, 10**9):
            expect_status("GetRecommendations page_size=%d" % ps, lambda: self.rec(page_size=ps),
                          grpc.StatusCode.INVALID_ARGUMENT, words=["page_size"])
        r = self.rec(page_size=0)
        check("GetRecommendations page_size 0: a default page", 0 < len(r.recommendations) <= 1000, str(len(r.recommendations)))
        expect_status("GetRecommendations bad page_token", lambda: self.rec(page_token="zzz"),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["page_token"])
        expect_status("GetRecommendations unknown set", lambda: self.rec(set_id="no/such/set"), grpc.StatusCode.NOT_FOUND)
        expect_status("GetRecommendations strategy 99", lambda: self.rec(strategy=99),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["strategy"])
        expect_status("GetRecommendations diversity 99", lambda: self.rec(diversity=99),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["diversity"])
        for w in (-1, 600001):
            expect_status("GetRecommendations wait_timeout_ms=%d" % w,
                          lambda: self.rec(wait_for_acknowledged=True, wait_timeout_ms=w),
                          grpc.StatusCode.INVALID_ARGUMENT, words=["wait_timeout_ms"])
        expect_status("GetRecommendations wait_through_sequence=-1", lambda: self.rec(wait_through_sequence=-1),
                      grpc.StatusCode.INVALID_ARGUMENT, words=["wait_through_sequence"])
        # A wait that cannot be met runs out: not an error, covers_request false.
        t = time.time()
        r = self.rec(wait_through_sequence=2**62, wait_timeout_ms=1500)
        el = time.time() - t
        check("GetRecommendations unmeetable wait: covers_request false", not r.covers_request)
        check("GetRecommendations unmeetable wait: returns after ~1.5 s (%.1f s)" % el, 1.2 <= el < 10)
        # The call's deadline bounds the wait: answer before it instead of DEADLINE_EXCEEDED.
        t = time.time()
        try:
            r = self.c.call("GetRecommendations", msg("GetRecommendationsRequest", set_id=sid, wait_through_sequence=2**62,
                                                      wait_timeout_ms=60000), timeout=5)
            check("GetRecommendations deadline 5 s < wait: answers covers_request=false", not r.covers_request)
        except grpc.RpcError as e:
            check("GetRecommendations deadline 5 s < wait: answers before the deadline", False,
                  "%s after %.1f s: %s" % (e.code().name, time.time() - t, e.details()))
        r = self.rec(page_size=5)
        check("GetRecommendations without wait: covers_request true", r.covers_request)
        # A wait through the highest sequence GetRecords shows (StoredRecord.sequence) is met, also after a restart.
        top = max_sequence(c, sid)
        r = self.rec(page_size=5, wait_through_sequence=top, wait_timeout_ms=60000)
        check("GetRecommendations wait_through_sequence = highest stored sequence: covers", r.covers_request
              and r.covered_through_sequence >= top and r.latest_sequence >= top,
              "covered %d latest %d sequence %d" % (r.covered_through_sequence, r.latest_sequence, top))
        # Filter: metadata kind=letter only letters.
        f = msg("RecordFilter")
        f.metadata["kind"] = "letter"
        r = self.rec(filter=f, all_scores=True, page_size=1000)
        check("GetRecommendations filter kind=letter", len(r.recommendations) == 100 and all(
            x.record.record.metadata.get("kind") == "letter" for x in r.recommendations), str(len(r.recommendations)))
        expect_status("GetRecommendations filter dataset=training", lambda: self.rec(
            filter=msg("RecordFilter", dataset="training"), page_size=10), grpc.StatusCode.INVALID_ARGUMENT,
            words=["filter.dataset"])
        # Reasons reproducible with FindNearest (training, k 10, exact).
        r = self.rec(strategy=E["RECOMMENDATION_STRATEGY_OUT_OF_DISTRIBUTION"], page_size=5, include_embeddings=True)
        for x in r.recommendations[:3]:
            check("recommendation has reasons", len(x.reasons) > 0)
            sig = {s.signal: s for s in x.signals}
            nn = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, record_id=x.record.record.id, k=10,
                                           dataset="training", exact=True))
            dists = np.array([n.distance for n in nn.neighbors], dtype=np.float64)
            if "knn_distance" in sig:
                v = sig["knn_distance"].value
                cands = {"mean": dists.mean(), "kth": dists[-1], "first": dists[0], "median": np.median(dists),
                         "mean_sqrt": np.sqrt(dists).mean(), "kth_sqrt": math.sqrt(dists[-1])}
                match = [k for k, cv in cands.items() if abs(cv - v) <= 1e-3 * max(1, abs(v))]
                check("knn_distance reproducible from FindNearest training k10 exact", bool(match),
                      "value %.5f, candidates %s" % (v, {k: round(float(cv), 5) for k, cv in cands.items()}))
        # "neighbours disagree: N of 10 are class C" must match the labels FindNearest returns for the same query.
        seen_reason = 0
        for strat in ("BALANCED", "UNCERTAINTY", "LABELING"):
            rr = self.rec(strategy=E["RECOMMENDATION_STRATEGY_" + strat], page_size=100)
            for x in rr.recommendations:
                for reason in x.reasons:
                    m = re.search(r"neighbours disagree: (\d+) of (\d+) are class (\S+)", reason)
                    if not m or seen_reason >= 10:
                        continue
                    seen_reason += 1
                    nn = c.call("FindNearest", msg("FindNearestRequest", set_id=sid, record_id=x.record.record.id,
                                                   k=int(m.group(2)), dataset="training", exact=True))
                    labels = [n.record.record.label for n in nn.neighbors]
                    check("reason '%s' reproducible with FindNearest" % reason,
                          labels.count(m.group(3)) == int(m.group(1)), "FindNearest labels %s" % labels)
        check("some recommendation gives a neighbour-disagreement reason", seen_reason > 0)
        self.reasons_sample = [list(x.reasons) for x in r.recommendations[:3]]
        if VERBOSE:
            for x in r.recommendations[:3]:
                print("   reasons:", list(x.reasons), [(s.signal, round(s.value, 4), round(s.p_value, 4))
                                                      for s in x.signals])
        # include_embeddings
        check("GetRecommendations include_embeddings", all(len(x.record.record.embedding) == self.dim
                                                           for x in r.recommendations))
        r = self.rec(page_size=5)
        check("GetRecommendations leaves embeddings out by default",
              all(len(x.record.record.embedding) == 0 for x in r.recommendations))

    def _sane(self, name, r):
        bad = []
        for x in r.recommendations:
            if not finite(x.score):
                bad.append(("score", x.score))
            for s in x.signals:
                if not finite(s.value):
                    bad.append((s.signal, "value", s.value))
                if not (0 <= s.p_value <= 1):
                    bad.append((s.signal, "p", s.p_value))
                if not (0 <= s.percentile <= 1):
                    bad.append((s.signal, "pct", s.percentile))
            if x.record.record.dataset == "training":
                bad.append(("training record ranked",))
        check("GetRecommendations %s: scores finite, p-values and percentiles in [0,1]" % name, not bad, str(bad[:5]))

    # -- labeling -------------------------------------------------------------------------------

    def labeling(self):
        c, sid = self.c, self.sid
        L = lambda rid, lab, note="": msg("RecordLabel", record_id=rid, label=lab, note=note)  # noqa: E731
        targets = self.prod_ids[20:30]
        r = c.call("LabelRecords", msg("LabelRecordsRequest", set_id=sid, reviewer="alice",
                                       labels=[L(t, str(self.y[2000 + 20 + i]), "n%d" % i) for i, t in enumerate(targets)]))
        check("LabelRecords updated=10", r.updated == 10, str(r.updated))
        g = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, ids=targets[:1])).records[0]
        check("LabelRecords: record reviewed with label, labeled_by, note", g.HasField("review")
              and g.review.state == E["REVIEW_STATE_REVIEWED"] and g.review.label == str(self.y[2020])
              and g.review.labeled_by == "alice" and g.review.note == "n0" and g.review.labeled_unix_ms > 0,
              str(g.review))
        # Labeled records left out of recommendations unless include_reviewed.
        r = self.rec(all_scores=True, page_size=1000)
        ids = {x.record.record.id for x in r.recommendations}
        check("GetRecommendations leaves labeled records out", not (ids & set(targets)),
              "%d labeled records still listed" % len(ids & set(targets)))
        r = self.rec(all_scores=True, page_size=1000, include_reviewed=True)
        ids = {x.record.record.id for x in r.recommendations}
        check("GetRecommendations include_reviewed lists them", set(targets) <= ids)
        tok, pages, ranked = "", 0, []
        while True:
            r = self.rec(page_size=100, page_token=tok)
            ranked += [x.record.record.id for x in r.recommendations] + [d for x in r.recommendations for d in x.duplicate_ids]
            tok = r.next_page_token
            pages += 1
            if not tok or pages > 30:
                break
        check("GetRecommendations ranked list leaves labeled records out", not (set(ranked) & set(targets)))

        # SetReviewState
        r = c.call("SetReviewState", msg("SetReviewStateRequest", set_id=sid, ids=self.prod_ids[30:33],
                                         state=E["REVIEW_STATE_DISMISSED"], reviewer="bob"))
        check("SetReviewState dismissed updated=3", r.updated == 3, str(r.updated))
        g = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, ids=self.prod_ids[30:31])).records[0]
        check("SetReviewState: review.state DISMISSED by bob", g.review.state == E["REVIEW_STATE_DISMISSED"]
              and g.review.reviewed_by == "bob" and g.review.reviewed_unix_ms > 0, str(g.review))
        r = c.call("SetReviewState", msg("SetReviewStateRequest", set_id=sid, ids=self.prod_ids[30:31],
                                         state=E["REVIEW_STATE_UNREVIEWED"], reviewer="bob"))
        check("SetReviewState back to unreviewed updated=1", r.updated == 1)
        r = self.rec(all_scores=True, page_size=1000)
        ids = {x.record.record.id for x in r.recommendations}
        check("reopened record listed again, dismissed ones not", self.prod_ids[30] in ids
              and not ({self.prod_ids[31], self.prod_ids[32]} & ids))

        # Bad labeling input.
        bad = [
            ("LabelRecords no reviewer", "LabelRecords", dict(set_id=sid, labels=[L(targets[0], "1")]),
             grpc.StatusCode.INVALID_ARGUMENT, ["reviewer"]),
            ("LabelRecords empty label", "LabelRecords", dict(set_id=sid, reviewer="a", labels=[L(targets[0], "")]),
             grpc.StatusCode.INVALID_ARGUMENT, ["label"]),
            ("LabelRecords 257-char label", "LabelRecords", dict(set_id=sid, reviewer="a",
                                                                 labels=[L(targets[0], "x" * 257)]),
             grpc.StatusCode.INVALID_ARGUMENT, ["label"]),
            ("LabelRecords 2001-char note", "LabelRecords", dict(set_id=sid, reviewer="a",
                                                                 labels=[L(targets[0], "1", "n" * 2001)]),
             grpc.StatusCode.INVALID_ARGUMENT, ["note"]),
            ("LabelRecords 257-char reviewer", "LabelRecords", dict(set_id=sid, reviewer="r" * 257,
                                                                    labels=[L(targets[0], "1")]),
             grpc.StatusCode.INVALID_ARGUMENT, ["reviewer"]),
            ("LabelRecords no labels", "LabelRecords", dict(set_id=sid, reviewer="a"),
             grpc.StatusCode.INVALID_ARGUMENT, ["labels"]),
            ("LabelRecords 1001 labels", "LabelRecords", dict(set_id=sid, reviewer="a",
                                                              labels=[L(new_id(), "1") for _ in range(1001)]),
             grpc.StatusCode.INVALID_ARGUMENT, ["labels"]),
            ("LabelRecords same id twice", "LabelRecords", dict(set_id=sid, reviewer="a",
                                                                labels=[L(targets[0], "1"), L(targets[0], "2")]),
             grpc.StatusCode.INVALID_ARGUMENT, [targets[0][:8]]),
            ("LabelRecords unknown id", "LabelRecords", dict(set_id=sid, reviewer="a", labels=[L(new_id(), "1")]),
             grpc.StatusCode.NOT_FOUND, []),
            ("LabelRecords training record", "LabelRecords", dict(set_id=sid, reviewer="a",
                                                                  labels=[L(self.train_ids[0], "1")]),
             grpc.StatusCode.FAILED_PRECONDITION, ["training"]),
            ("LabelRecords unknown set", "LabelRecords", dict(set_id="q/q/q", reviewer="a", labels=[L(targets[0], "1")]),
             grpc.StatusCode.NOT_FOUND, []),
            ("LabelRecords empty set_id", "LabelRecords", dict(reviewer="a", labels=[L(targets[0], "1")]),
             grpc.StatusCode.INVALID_ARGUMENT, ["set_id"]),
            ("SetReviewState no reviewer", "SetReviewState", dict(set_id=sid, ids=targets[:1], state=1),
             grpc.StatusCode.INVALID_ARGUMENT, ["reviewer"]),
            ("SetReviewState no ids", "SetReviewState", dict(set_id=sid, state=1, reviewer="a"),
             grpc.StatusCode.INVALID_ARGUMENT, ["ids"]),
            ("SetReviewState state 9", "SetReviewState", dict(set_id=sid, ids=targets[:1], state=9, reviewer="a"),
             grpc.StatusCode.INVALID_ARGUMENT, ["state"]),
            ("SetReviewState unknown id", "SetReviewState", dict(set_id=sid, ids=[new_id()], state=1, reviewer="a"),
             grpc.StatusCode.NOT_FOUND, []),
            ("SetReviewState training record", "SetReviewState", dict(set_id=sid, ids=self.train_ids[:1], state=1,
                                                                      reviewer="a"),
             grpc.StatusCode.FAILED_PRECONDITION, ["training"]),
            ("PromoteLabels no promoted_by", "PromoteLabels", dict(set_id=sid),
             grpc.StatusCode.INVALID_ARGUMENT, ["promoted_by"]),
            ("PromoteLabels unknown id", "PromoteLabels", dict(set_id=sid, ids=[new_id()], promoted_by="a"),
             grpc.StatusCode.NOT_FOUND, []),
            ("GetLabeledRecords page_size 1001", "GetLabeledRecords", dict(set_id=sid, page_size=1001),
             grpc.StatusCode.INVALID_ARGUMENT, ["page_size"]),
            ("GetLabeledRecords page_size -1", "GetLabeledRecords", dict(set_id=sid, page_size=-1),
             grpc.StatusCode.INVALID_ARGUMENT, ["page_size"]),
            ("GetLabeledRecords bad token", "GetLabeledRecords", dict(set_id=sid, page_token="@@"),
             grpc.StatusCode.INVALID_ARGUMENT, ["page_token"]),
            ("GetLabeledRecords unknown set", "GetLabeledRecords", dict(set_id="n/o/pe"), grpc.StatusCode.NOT_FOUND, []),
            ("GetReviewHistory page_size -1", "GetReviewHistory", dict(set_id=sid, page_size=-1),
             grpc.StatusCode.INVALID_ARGUMENT, ["page_size"]),
            ("GetReviewHistory page_size 10^9", "GetReviewHistory", dict(set_id=sid, page_size=10**9),
             grpc.StatusCode.INVALID_ARGUMENT, ["page_size"]),
            ("GetReviewHistory bad token", "GetReviewHistory", dict(set_id=sid, page_token="@@"),
             grpc.StatusCode.INVALID_ARGUMENT, ["page_token"]),
            ("GetReviewHistory unknown record", "GetReviewHistory", dict(set_id=sid, record_id=new_id()),
             grpc.StatusCode.NOT_FOUND, []),
            ("GetReviewHistory unknown set", "GetReviewHistory", dict(set_id="n/o/pe"), grpc.StatusCode.NOT_FOUND, []),
        ]
        for name, method, kw, code, words in bad:
            req_name = method + "Request"
            expect_status(name, lambda: c.call(method, msg(req_name, **kw)), code, words=words)
        # Unlabeled record cannot be promoted.
        try:
            r = c.call("PromoteLabels", msg("PromoteLabelsRequest", set_id=sid, ids=[self.prod_ids[40]], promoted_by="a"))
            check("PromoteLabels of an unlabeled record is refused", False, str(r))
        except grpc.RpcError as e:
            check("PromoteLabels of an unlabeled record -> FAILED_PRECONDITION or INVALID_ARGUMENT",
                  e.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT),
                  "%s %s" % (e.code().name, e.details()))

        # Promote: a subset, then everything else, then again (already promoted).
        ntrain = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid, filter=msg("RecordFilter", dataset="training"))).count
        r = c.call("PromoteLabels", msg("PromoteLabelsRequest", set_id=sid, ids=targets[:3], promoted_by="carol"))
        check("PromoteLabels 3 ids: 3 promoted", len(r.promoted) == 3 and r.already_promoted == 0, str(r))
        tmap = {p.record_id: p.training_record_id for p in r.promoted}
        r = c.call("PromoteLabels", msg("PromoteLabelsRequest", set_id=sid, promoted_by="carol"))
        check("PromoteLabels empty ids: the other 7", len(r.promoted) == 7, str(len(r.promoted)))
        tmap.update({p.record_id: p.training_record_id for p in r.promoted})
        r = c.call("PromoteLabels", msg("PromoteLabelsRequest", set_id=sid, ids=targets, promoted_by="carol"))
        check("PromoteLabels again: 10 already promoted", len(r.promoted) == 0 and r.already_promoted == 10, str(r))
        n2 = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid, filter=msg("RecordFilter", dataset="training"))).count
        check("PromoteLabels: training grew by 10", n2 == ntrain + 10, "%d -> %d" % (ntrain, n2))
        if targets[0] in tmap:
            tr = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, ids=[tmap[targets[0]]],
                                          include_embeddings=True)).records
            src = self.prod_records[targets[0]]
            check("promoted training record: dataset training, reviewer's label, same embedding",
                  len(tr) == 1 and tr[0].record.dataset == "training" and tr[0].record.label == str(self.y[2020])
                  and list(tr[0].record.embedding) == list(src.embedding), str(tr[0].record.label if tr else None))
            g = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, ids=targets[:1])).records[0]
            check("promotion recorded on the production record", g.review.promoted_record_id == tmap[targets[0]]
                  and g.review.promoted_by == "carol" and g.review.promoted_unix_ms > 0, str(g.review))
            # Relabel and promote again: replaces the earlier training copy.
            c.call("LabelRecords", msg("LabelRecordsRequest", set_id=sid, reviewer="alice", labels=[L(targets[0], "relabeled")]))
            r = c.call("PromoteLabels", msg("PromoteLabelsRequest", set_id=sid, promoted_by="carol"))
            check("PromoteLabels after relabel: 1 promoted", len(r.promoted) == 1 and r.promoted[0].record_id == targets[0],
                  str(r))
            n3 = c.call("CountRecords", msg("CountRecordsRequest", set_id=sid,
                                            filter=msg("RecordFilter", dataset="training"))).count
            check("PromoteLabels after relabel replaces the copy (training count unchanged)", n3 == n2, "%d -> %d" % (n2, n3))
            if r.promoted:
                tr = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, ids=[r.promoted[0].training_record_id])).records
                check("replaced training copy has the new label", tr and tr[0].record.label == "relabeled")

        # GetLabeledRecords: every labeled record, in sequence order, paged.
        got, tok, pages = [], "", 0
        while True:
            r = c.call("GetLabeledRecords", msg("GetLabeledRecordsRequest", set_id=sid, page_size=3, page_token=tok,
                                                include_embeddings=(pages == 0)))
            if pages == 0:
                check("GetLabeledRecords include_embeddings", all(len(x.record.embedding) == self.dim for x in r.records))
            got += list(r.records)
            tok = r.next_page_token
            pages += 1
            if not tok or pages > 20:
                break
        gids = [x.record.id for x in got]
        check("GetLabeledRecords: the 10 labeled records once", sorted(gids) == sorted(targets), str(len(gids)))
        seqs = [x.sequence for x in got]
        check("GetLabeledRecords: sequence order", seqs == sorted(seqs))
        check("GetLabeledRecords: each with its review", all(x.HasField("review") and x.review.label for x in got))
        r = c.call("GetLabeledRecords", msg("GetLabeledRecordsRequest", set_id=sid))
        check("GetLabeledRecords page_size 0 = 100 (10 here)", len(r.records) == 10 and not r.next_page_token)

        # GetReviewHistory: oldest first.
        ev, tok, pages = [], "", 0
        while True:
            r = c.call("GetReviewHistory", msg("GetReviewHistoryRequest", set_id=sid, page_size=7, page_token=tok))
            ev += list(r.events)
            tok = r.next_page_token
            pages += 1
            if not tok or pages > 50:
                break
        acts = [e.action for e in ev]
        check("GetReviewHistory: actions from the documented set",
              set(acts) <= {"label", "review", "dismiss", "reopen", "promote"}, str(set(acts)))
        check("GetReviewHistory: oldest first", all(a.unix_ms <= b.unix_ms for a, b in zip(ev, ev[1:])))
        check("GetReviewHistory: 11 labels, 3 dismiss, 1 reopen, 11 promote",
              acts.count("label") == 11 and acts.count("dismiss") == 3 and acts.count("reopen") == 1
              and acts.count("promote") == 11, str({a: acts.count(a) for a in set(acts)}))
        lab = [e for e in ev if e.action == "label" and e.record_id == targets[1]]
        check("GetReviewHistory: label event detail = label, actor = reviewer",
              lab and lab[0].detail == str(self.y[2021]) and lab[0].actor == "alice", str(lab[:1]))
        pro = [e for e in ev if e.action == "promote" and e.record_id == targets[1]]
        check("GetReviewHistory: promote detail = training record id", pro and pro[0].detail == tmap.get(targets[1]))
        r = c.call("GetReviewHistory", msg("GetReviewHistoryRequest", set_id=sid, record_id=targets[0]))
        check("GetReviewHistory record_id: only its events", r.events and all(e.record_id == targets[0] for e in r.events)
              and [e.action for e in r.events] == ["label", "promote", "label", "promote"],
              str([e.action for e in r.events]))
        # Unlabeled records do not show.
        r = c.call("GetReviewHistory", msg("GetReviewHistoryRequest", set_id=sid, record_id=self.prod_ids[50]))
        check("GetReviewHistory of an untouched record: empty", len(r.events) == 0)

    def concurrency_and_ack_durability(self):
        """Many streams in parallel; every acked record is readable."""
        d = descriptor(self.tag + "-par", 16)
        sid = self.set_id(d)
        rng = np.random.default_rng(3)
        accepted, lock = [], threading.Lock()
        errors = []

        def worker(w):
            try:
                bs = []
                for i in range(5):
                    recs = [make_record(new_id(), "production" if i % 2 else "training", rng.standard_normal(16),
                                        label="x") for _ in range(200)]
                    bs.append(batch(d, recs))
                acks = self.c.log(bs)
                with lock:
                    for b in bs:
                        a = acks.get(b.batch_id)
                        if a is not None and a.accepted == len(b.records):
                            accepted.extend(r.id for r in b.records)
                        else:
                            errors.append(str(a)[:200])
            except grpc.RpcError as e:
                errors.append(e.code().name + " " + str(e.details()))
        ts = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check("8 parallel streams: every batch accepted", not errors and len(accepted) == 8000, str(errors[:3]))
        n = self.c.call("CountRecords", msg("CountRecordsRequest", set_id=sid)).count
        check("8 parallel streams: every acked record stored", n == len(accepted), "%d vs %d" % (n, len(accepted)))
        # New set's first batch: dimension fixed by it.
        r = self.rec(set_id=sid, wait_for_acknowledged=True, wait_timeout_ms=60000, page_size=5)
        check("parallel set: recommendations cover", r.covers_request)
        self._sane("parallel set", r)


DISTANCE_SIGNALS = ("mahalanobis", "relative_mahalanobis", "knn_distance", "feature_norm", "production_shift")
PROBABILITY_SIGNALS = ("entropy", "margin", "least_confidence")


def score_from_wire(strategy, signals):
    """The combined score as chroma.v1.Recommendation.score documents it, from the wire signals alone."""
    s = {x.signal: -math.log10(x.p_value) for x in signals}
    # Each signal's weight times its weight_factor; the boundary factor f also scales the p = 0.5 stand-in
    # of a record without probabilities (2 - f, as the probability signals' own factor).
    factor = {x.signal: x.weight_factor for x in signals}
    f = factor.get("boundary", 1.0)
    if strategy == "LABELING":
        weights = {"boundary": 1.0, **{k: 1.0 / 3 for k in PROBABILITY_SIGNALS}}
        present = [k for k in weights if k in s]
        total = sum(weights[k] * factor[k] for k in present)
        u = sum(weights[k] * factor[k] * s[k] for k in present) / total if total > 0 else 0.0
        return u - max(0.0, max(s.get("mahalanobis", 0.0), s.get("knn_distance", 0.0)) - 3)
    distance, uncertainty = {"UNSPECIFIED": (1, 1), "BALANCED": (1, 1), "OUT_OF_DISTRIBUTION": (1, 0.1),
                             "UNCERTAINTY": (0.1, 1)}[strategy]
    weighted = total = 0.0
    for name, value in s.items():
        w = (distance if name in DISTANCE_SIGNALS else uncertainty if name == "boundary" else uncertainty / 3) * factor[name]
        if strategy == "UNCERTAINTY" and name in DISTANCE_SIGNALS:
            value = min(value, 3.0)  # under UNCERTAINTY each distance signal counts at most 3
        if strategy == "UNCERTAINTY" and name == "boundary" and s.get("knn_distance", 0.0) > 3:
            value = min(value, -math.log10(0.5))  # and boundary at most p = 0.5 beyond 3 on kNN distance
        weighted += w * value
        total += w
    if not any(k in s for k in PROBABILITY_SIGNALS):
        weighted += uncertainty * (2 - f) * -math.log10(0.5)
        total += uncertainty * (2 - f)
    m = weighted / total if total > 0 else 0.0
    balanced = strategy in ("UNSPECIFIED", "BALANCED")
    shift = [x for x in signals if x.signal == "production_shift"]
    if (balanced or strategy == "OUT_OF_DISTRIBUTION") and shift:
        against_bulk = shift[0].lead_p_value > 0
        p = shift[0].lead_p_value if against_bulk else shift[0].p_value
        if not balanced:
            lead = 1.0
        elif against_bulk:
            lead = max(0.0, 1 - 10 * p) ** 2  # (1 - 10^(1 - s))^2: 0 at one in ten of the bulk, rising towards 1
        else:
            lead = 0.5
        excess = -math.log10(p) - max(m, 1.0 if against_bulk else 2.0)
        if excess > 0:
            m += lead * excess
    return m


def max_sequence(c, sid):
    top, tok = 0, ""
    while True:
        r = c.call("GetRecords", msg("GetRecordsRequest", set_id=sid, page_size=1000, page_token=tok))
        top = max([top] + [x.sequence for x in r.records])
        tok = r.next_page_token
        if not tok:
            return top


def auc(labels, scores):
    order = np.argsort(-scores, kind="stable")
    l = labels[order]
    pos = l.sum()
    neg = len(l) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = np.arange(1, len(l) + 1)
    return 1 - ((ranks[l == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default="127.0.0.1:50051")
    ap.add_argument("--api-key", default=os.environ.get("CHROMA_API_KEY"))
    ap.add_argument("--dim", type=int, default=64, help="embedding dimension (MNIST projected at random)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="comma-separated parts: ingest,cosine,query,recommend,label,parallel")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    VERBOSE = a.verbose
    client = Client(a.endpoint, a.api_key)
    try:
        grpc.channel_ready_future(client.channel).result(timeout=30)
    except grpc.FutureTimeoutError:
        sys.exit("cannot connect to %s" % a.endpoint)
    run = Run(client, a.dim, a.seed)
    parts = [("ingest", lambda: (run.ingest_main(), run.ingest_bad())), ("cosine", run.cosine_set),
             ("query", run.query), ("recommend", run.recommendations), ("label", run.labeling),
             ("parallel", run.concurrency_and_ack_durability)]
    only = set(a.only.split(",")) if a.only else None
    t0 = time.time()
    for name, fn in parts:
        if only and name not in only and name != "ingest":
            continue
        t = time.time()
        try:
            fn()
        except Exception as e:  # a crash in one part is a failed check, the others still run
            import traceback
            traceback.print_exc()
            check("%s: ran to the end" % name, False, "%s: %s" % (type(e).__name__, e))
        print("-- %s done in %.1f s" % (name, time.time() - t), flush=True)
    # The server still serves after everything above.
    try:
        client.call("ListSets", msg("ListSetsRequest"))
        check("server still serving at the end", True)
    except grpc.RpcError as e:
        check("server still serving at the end", False, e.code().name)
    print("SUMMARY: %d passed, %d failed (%s data, dim %d, %.0f s) against %s" % (
        RESULTS["pass"], RESULTS["fail"], run.source, a.dim, time.time() - t0, a.endpoint))
    sys.exit(1 if RESULTS["fail"] else 0)


if __name__ == "__main__":
    main()
