#!/usr/bin/env python3
"""bench/bench_serving.py -- tandem_serve's latency and throughput under a bounded local load.

    usage: python3 bench/bench_serving.py [--build build] [--seconds 3] [--clients 1,4,16] [--batch 1]

Freezes example 04's XOR classifier, starts tandem_serve on a free port of 127.0.0.1 and, for each
number of clients, runs that many client threads for --seconds, each with its own keep-alive
connection sending `POST /v1/models/xor:predict {"instances": [batch of points]}` back to back.
Prints requests per second and the median and 99th-percentile latency. The model is tiny on
purpose: what is measured is the server's own cost per request (HTTP, JSON in and out, the
Session's run), not a model's arithmetic. The clients are Python threads on the same machine, so
at high counts they compete with the server for the cores: the figures are a floor, not a ceiling.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def start(build, model):
    server = subprocess.Popen([os.path.join(build, "tandem_serve"), "--rest_api_port=0", "--model_name=xor",
                               "--model_base_path=" + model], stdout=subprocess.PIPE, text=True)
    for line in server.stdout:
        if line.startswith("Exporting HTTP/REST API at:"):
            return server, int(line.split(":")[-1].split()[0])
    sys.exit("tandem_serve did not start")


def load(port, clients, seconds, body):
    latencies, errors = [], []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            conn.request("POST", "/v1/models/xor:predict", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t0)
            if resp.status != 200:
                errors.append(resp.status)
        conn.close()
        with lock:
            latencies.extend(mine)
    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return len(latencies) / elapsed, statistics.median(latencies), latencies[int(0.99 * (len(latencies) - 1))], errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "xor.tgraph")
        subprocess.run([os.path.join(args.build, "04_freeze_and_deploy"), model], check=True, stdout=subprocess.DEVNULL)
        server, port = start(args.build, model)
        body = json.dumps({"instances": [[0.5, -0.25]] * args.batch})
        try:
            load(port, 1, 0.5, body)  # warm-up: the Session plans the graph for this batch shape once
            print(f"# tandem_serve, XOR model, batch {args.batch}, {args.seconds:g} s per row, keep-alive clients")
            print("| clients | requests/s | median ms | p99 ms | errors |")
            print("|---|---|---|---|---|")
            for n in [int(c) for c in args.clients.split(",")]:
                rps, p50, p99, errors = load(port, n, args.seconds, body)
                print(f"| {n} | {rps:.0f} | {p50 * 1e3:.2f} | {p99 * 1e3:.2f} | {len(errors)} |")
                print(f"RESULT serving_rps_c{n} {rps:.1f} req/s")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
