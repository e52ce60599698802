#!/usr/bin/env python3
"""tests/serving_check.py -- the model server over real HTTP, as a client of TF Serving would use it.

    usage: serving_check.py TANDEM_SERVE FREEZE_EXAMPLE OUT_DIR        (ctest runs it; see CMakeLists.txt)

1. Runs examples/04_freeze_and_deploy, which trains the XOR classifier in graph mode and writes the
   frozen graph OUT_DIR/xor.tgraph.
2. Starts tandem_serve on 127.0.0.1 with --rest_api_port=0 (a free port, which it prints).
3. Calls it with Python's own HTTP client (http.client): model status and metadata; predictions in
   the row and the columnar format, which must agree with each other and classify the four
   quadrants' probes as XOR does; TF Serving's errors (unknown model 404, bad JSON, wrong shape,
   missing key 400); then 8 clients at once, 25 requests each, whose answers must equal the answers
   given to one client alone.
4. Stops the server with SIGTERM and checks that it exits cleanly.

Exit 0 when all of it holds, 1 otherwise (what failed is printed).
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import threading

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("serving_check: FAILED:", what)


def call(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, json.loads(text)


def main():
    serve, freeze, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    model = os.path.join(out, "xor.tgraph")
    subprocess.run([freeze, model], check=True, stdout=subprocess.DEVNULL)

    server = subprocess.Popen([serve, "--rest_api_port=0", "--model_name=xor", "--model_base_path=" + model],
                              stdout=subprocess.PIPE, text=True)
    port = None
    for line in server.stdout:  # "loaded model ...", then "Exporting HTTP/REST API at:127.0.0.1:PORT ..."
        if line.startswith("Exporting HTTP/REST API at:"):
            port = int(line.split(":")[-1].split()[0])
            break
    if port is None:
        print("serving_check: tandem_serve did not start")
        return 1
    try:
        status, body = call(port, "GET", "/v1/models/xor")
        check(status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE", "status: %s" % body)
        status, body = call(port, "GET", "/v1/models/xor/metadata")
        sig = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
        check(status == 200 and list(sig["inputs"]) == ["x"] and sig["inputs"]["x"]["dtype"] == "DT_FLOAT",
              "metadata: %s" % body)

        # XOR's classes: 1 where x0·x1 > 0. Probes well inside each quadrant.
        probes = [[0.7, 0.6], [-0.6, 0.7], [-0.7, -0.5], [0.6, -0.7]]
        status, rows = call(port, "POST", "/v1/models/xor:predict", {"instances": probes})
        check(status == 200 and len(rows["predictions"]) == 4, "predict rows: %s" % rows)
        classes = [max(range(2), key=lambda c: p[c]) for p in rows["predictions"]]
        check(classes == [1, 0, 1, 0], "XOR classes of the probes: %s" % classes)
        check(all(abs(sum(p) - 1) < 1e-5 for p in rows["predictions"]), "probabilities sum to 1")
        status, cols = call(port, "POST", "/v1/models/xor/versions/1:predict", {"inputs": probes})
        check(status == 200 and cols["outputs"] == rows["predictions"], "columnar = row format")

        for method, path, body, code, text in [
                ("POST", "/v1/models/nope:predict", {"instances": probes}, 404, "Servable not found"),
                ("POST", "/v1/models/xor:predict", "{\"instances\": [[0.1, 0.2]", 400, "JSON Parse error"),
                ("POST", "/v1/models/xor:predict", {"instances": [[1, 2, 3]]}, 400, "Cannot feed value of shape"),
                ("POST", "/v1/models/xor:predict", {"rows": probes}, 400, "Missing 'inputs' or 'instances'"),
                ("GET", "/v1/models/xor:predict", None, 400, "Malformed request")]:
            status, body = call(port, method, path, body)
            check(status == code and text in body.get("error", ""), "%s %s: %d %s" % (method, path, status, body))

        # 8 clients at once; each sends its own batch and must get what one client alone gets.
        def batch(t):
            return {"instances": [[(i - t) / 8.0, (t + 1) / 9.0 * (-1) ** i] for i in range(t + 1)]}
        alone = [call(port, "POST", "/v1/models/xor:predict", batch(t))[1] for t in range(8)]
        bad = []

        def client(t):
            for _ in range(25):
                status, body = call(port, "POST", "/v1/models/xor:predict", batch(t))
                if status != 200 or body != alone[t]:
                    bad.append((t, status))
        threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        check(not bad, "concurrent clients got other answers: %s" % bad[:5])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed"
    check(code == 0, "tandem_serve exit status after SIGTERM: %s" % code)
    if FAILURES:
        return 1
    print("serving_check: status, metadata, predict (rows and columns), 5 errors and 8 concurrent clients: all as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
