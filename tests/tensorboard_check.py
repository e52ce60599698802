#!/usr/bin/env python3
"""tests/tensorboard_check.py -- TensorBoard's own reader on the runs Tandem writes.

    usage: tensorboard_check.py TANDEM_TESTS OUT_DIR        (ctest runs it; see CMakeLists.txt)

1. Runs the hidden test "[.tensorboard-reader]" of the TANDEM_TESTS program, which trains a tiny
   model in both modes and logs it to OUT_DIR/tiny/eager and OUT_DIR/tiny/graph (plus the
   add_scalars runs under eager/), listing everything it logged in OUT_DIR/expected.txt.
2. Reads every run with tensorboard.backend.event_processing.event_accumulator -- the reader
   TensorBoard itself is built on -- and checks that each listed scalar, histogram, image and text is
   there at its step with its value, and that the graph is there with its nodes. Then the same runs
   through the plugin accumulator TensorBoard's web app uses (values migrated to tensors by
   data_compat), for scalars, histograms, images and text.

Exit 0 when everything is found, 1 otherwise, and 77 -- "skipped", for ctest -- when no Python here
has the tensorboard package. Tests never need the network: `scripts/setup --extras` installs the
package (into ${XDG_CACHE_HOME:-~/.cache}/tandem/tensorboard-venv, which this script finds).
"""
import os
import subprocess
import sys

SKIP = 77


def reexec_with_tensorboard():
    """Run again under an interpreter that has tensorboard, or exit 77 (skipped)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    candidates = [os.environ.get("TANDEM_TENSORBOARD_PYTHON"),
                  os.path.join(cache, "tandem", "tensorboard-venv", "bin", "python"), "/usr/bin/python3"]
    if not os.environ.get("TANDEM_TENSORBOARD_CHECK_REEXEC"):
        os.environ["TANDEM_TENSORBOARD_CHECK_REEXEC"] = "1"  # once: never loop
        for python in candidates:
            if not python or not os.path.exists(python):
                continue
            probe = subprocess.run([python, "-c", "import tensorboard.backend.event_processing.event_accumulator"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if probe.returncode == 0:
                os.execv(python, [python] + sys.argv)
    print("tensorboard_check: skipped: the Python package `tensorboard` is not installed for %s, nor in %s "
          "(scripts/setup --extras installs it there; or set TANDEM_TENSORBOARD_PYTHON to a python that has it)"
          % (sys.executable, candidates[1]))
    sys.exit(SKIP)


try:
    import tensorboard
    from tensorboard.backend.event_processing import event_accumulator, plugin_event_accumulator
    from tensorboard.util import tensor_util
except ImportError:
    reexec_with_tensorboard()

problems = []
found = 0


def check(condition, what):
    global found
    if condition:
        found += 1
    else:
        problems.append(what)


def close(a, b, rel=1e-6):
    return abs(a - b) <= rel * max(1.0, abs(b))


def at_step(events, step):
    return [e for e in events if e.step == step]


def png_size(data):
    """(width, height, colour type) from a PNG's signature and IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"), data[25]


def check_legacy(root, run, lines):
    """event_accumulator.EventAccumulator: the summary fields as they are in the file."""
    ea = event_accumulator.EventAccumulator(os.path.join(root, run), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0, event_accumulator.IMAGES: 0,
        event_accumulator.TENSORS: 0})
    ea.Reload()
    tags = ea.Tags()
    for kind, tag, step, rest in lines:
        where = "%s: %s '%s' at step %s" % (run, kind, tag, step)
        if kind == "graph":
            check(tags.get("graph"), where + ": TensorBoard finds no graph")
            if tags.get("graph"):
                names = {n.name for n in ea.Graph().node}
                for name in rest:
                    check(name in names, where + ": no node named %s in the graph" % name)
            continue
        step = int(step)
        if kind == "scalar":
            got = at_step(ea.Scalars(tag), step) if tag in tags["scalars"] else []
            check(len(got) == 1 and close(got[0].value, float(rest[0])),
                  where + ": expected %s, TensorBoard read %s" % (rest[0], [e.value for e in got]))
        elif kind == "histogram":
            got = at_step(ea.Histograms(tag), step) if tag in tags["histograms"] else []
            ok = len(got) == 1 and got[0].histogram_value.num == float(rest[0])
            if ok and rest[1] != "-":
                h = got[0].histogram_value
                ok = close(h.min, float(rest[1])) and close(h.max, float(rest[2])) and sum(h.bucket) == h.num
            check(ok, where + ": expected num %s min %s max %s, TensorBoard read %s" % (tuple(rest) + (got,)))
        elif kind == "image":
            got = at_step(ea.Images(tag), step) if tag in tags["images"] else []
            height, width, colorspace = (int(x) for x in rest)
            png = png_size(got[0].encoded_image_string) if len(got) == 1 else None
            grey = {1: 0, 2: 4, 3: 2, 4: 6}[colorspace]  # PNG colour types
            check(len(got) == 1 and (got[0].width, got[0].height) == (width, height) and png == (width, height, grey),
                  where + ": expected a %dx%d PNG, TensorBoard read %s" % (width, height, got))
        elif kind == "text":
            got = at_step(ea.Tensors(tag), step) if tag in tags["tensors"] else []
            want = bytes.fromhex(rest[0])
            check(len(got) == 1 and list(got[0].tensor_proto.string_val) == [want],
                  where + ": expected %r, TensorBoard read %s" % (want, got))
            check(ea.PluginTagToContent("text").get(tag) is not None, where + ": not marked for the text plugin")


def check_plugins(root, run, lines):
    """plugin_event_accumulator: what the web app shows, each value migrated to a tensor."""
    ea = plugin_event_accumulator.EventAccumulator(os.path.join(root, run), size_guidance={"tensors": 0})
    ea.Reload()
    plugin_of = {"scalar": "scalars", "histogram": "histograms", "image": "images", "text": "text"}
    for kind, tag, step, rest in lines:
        if kind == "graph":
            continue
        where = "%s: %s '%s' at step %s (as TensorBoard's %s plugin sees it)" % (run, kind, tag, step, plugin_of[kind])
        tagged = ea.PluginTagToContent(plugin_of[kind])
        got = at_step(ea.Tensors(tag), int(step)) if tag in tagged else []
        if len(got) != 1:
            check(False, where + ": not found")
            continue
        value = tensor_util.make_ndarray(got[0].tensor_proto)
        if kind == "scalar":
            check(close(float(value), float(rest[0])), where + ": read %s" % value)
        elif kind == "histogram":  # a [k, 3] tensor of (left edge, right edge, count)
            check(value.ndim == 2 and value.shape[1] == 3 and value[:, 2].sum() == float(rest[0]),
                  where + ": read %s" % value)
        elif kind == "image":  # [width, height, PNG bytes...]
            check(value[0] == rest[1].encode() and value[1] == rest[0].encode(), where + ": read %s" % value[:2])
        elif kind == "text":
            check(value.reshape(-1)[0] == bytes.fromhex(rest[0]), where + ": read %s" % value)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tandem_tests, root = sys.argv[1], os.path.abspath(sys.argv[2])
    env = dict(os.environ, TANDEM_TENSORBOARD_RUNS=root)
    written = subprocess.run([tandem_tests, "[.tensorboard-reader]"], env=env)
    if written.returncode != 0:
        print("tensorboard_check: %s [.tensorboard-reader] failed to write the runs" % tandem_tests)
        return 1
    runs = {}
    with open(os.path.join(root, "expected.txt")) as f:
        for line in f:
            kind, run, *rest = line.split()
            if kind == "graph":
                runs.setdefault(run, []).append((kind, "graph", "-", rest))
            else:
                runs.setdefault(run, []).append((kind, rest[0], rest[1], rest[2:]))
    for run, lines in sorted(runs.items()):
        check_legacy(root, run, lines)
        check_plugins(root, run, lines)
    for p in problems:
        print("tensorboard_check: MISSING " + p)
    print("tensorboard_check: TensorBoard %s's readers found %d of %d expected values in %d runs (%s)"
          % (tensorboard.__version__, found, found + len(problems), len(runs), root))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
