#!/usr/bin/env python3
"""assignments/grade.py — the autograder: builds the assignment's tests, runs them, scores them.

    make grade                   in a student tree (the assignment is the one under assignments/)
    make grade A=2               in the engine's own tree: grades the reference (100%, or a bug)
    python3 assignments/grade.py --assignment 2 --results results.json

What it does, in order:
  1. configures and builds `tandem_assignment_tests` in build-grade/ (the library, Catch2's main and
     assignments/aN/test_*.cpp — not the engine's whole test suite). If that fails to compile, the
     score is 0 and the compiler's messages are the output;
  2. for each task of assignments/aN/assignment.json (points, timeout), lists the Catch2 test
     cases tagged [aN.tK] and runs each one in a process of its own. A task's points are split
     evenly among its cases (partial credit per case). A case that crashes (a segfault, a sanitizer
     report) fails alone, and a task whose time budget runs out fails the cases still to run: one
     task's crash or endless loop never costs another task anything;
  3. prints a table, and writes Gradescope's results.json (`score`, `tests[]` with `name`, `score`,
     `max_score`, `status`, `output`, `visibility`...).

Cases tagged [hidden] are hidden tests (they exist only in the autograder's copy): Gradescope shows
them after the due date. A case that passes after printing a Catch2 WARN containing "skipping" (a
GPU test on a machine without a GPU) is reported as skipped: it carries no points, and its task's
points go to the cases that ran.

Python 3 standard library only. Read next: assignments/gradescope/run_autograder.
"""

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = "tandem_assignment_tests"
OUTPUT_LIMIT = 4000  # characters of a case's output kept in results.json


# ---- which assignment ----------------------------------------------------------------------------

def find_assignment(given):
    if given is not None:
        return given
    found = sorted(int(p.parent.name[1:]) for p in (ROOT / "assignments").glob("a*/assignment.json"))
    if len(found) == 1:
        return found[0]
    raise SystemExit("grade.py: which assignment? This tree has " +
                     (f"{len(found)} ({', '.join(f'a{n}' for n in found)}): run make grade A=N"
                      if found else "none (no assignments/aN/assignment.json)"))


def load(n):
    spec = json.loads((ROOT / "assignments" / f"a{n}" / "assignment.json").read_text())
    spec.setdefault("id", f"a{n}")
    for t in spec["tasks"]:
        t.setdefault("timeout", 120)
    return spec


# ---- building ------------------------------------------------------------------------------------

def build(build_dir, cuda, sanitize, jobs):
    """Configures (once) and builds the test program. Returns (ok, output)."""
    log = []
    if not (build_dir / "build.ninja").exists() or not (build_dir / "CMakeCache.txt").exists():
        build_type = os.environ.get("TANDEM_GRADE_BUILD_TYPE", "Release")  # CI: Debug compiles faster
        cmd = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja", f"-DCMAKE_BUILD_TYPE={build_type}",
               f"-DTANDEM_CUDA={cuda}", f"-DTANDEM_SANITIZE={'ON' if sanitize else 'OFF'}"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        log.append(r.stdout + r.stderr)
        if r.returncode != 0:
            return False, "".join(log)
    cmd = ["ninja", "-C", str(build_dir), f"-j{jobs}", TARGET]
    print(f"grade.py: building {TARGET} ({' '.join(shlex.quote(c) for c in cmd)})", flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    log.append(r.stdout + r.stderr)
    return r.returncode == 0, "".join(log)


# ---- running one case ----------------------------------------------------------------------------

def escape(name):
    """A test name as a Catch2 test spec that matches it alone (\\ escapes , [ ] * ~ " \\)."""
    return re.sub(r'([\\,\[\]*~"])', r"\\\1", name)


def list_cases(binary, tag):
    r = subprocess.run([str(binary), tag, "--list-test-names-only"], capture_output=True, text=True)
    return [l.strip() for l in r.stdout.splitlines() if l.strip()]


def case_tags(binary, name):
    r = subprocess.run([str(binary), escape(name), "--list-tests"], capture_output=True, text=True)
    tag_lines = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith("[")]
    return set(re.findall(r"\[([^\]]+)\]", " ".join(tag_lines)))


def describe(xml_text):
    """(passed, skipped, messages) from Catch2's XML report of one case."""
    root = ET.fromstring(xml_text)
    case = root.find(".//TestCase")
    messages, skipped = [], False
    for el in case.iter():
        where = f"{el.get('filename')}:{el.get('line', '')}: " if el.get("filename") else ""
        if el.tag == "Expression" and el.get("success") == "false":
            orig = (el.findtext("Original") or "").strip()
            exp = (el.findtext("Expanded") or "").strip()
            extra = "".join(f"\n    {t}" for t in ((el.findtext("Exception") or "").strip(),) if t)
            messages.append(f"{where}{orig}\n    with values: {exp}{extra}")
        elif el.tag in ("Exception", "FatalErrorCondition") and el.text:
            messages.append(f"{where}{el.tag.lower()}: {el.text.strip()}")
        elif el.tag == "Warning" and el.text:
            text = el.text.strip()
            messages.append(f"{where}warning: {text}")
            skipped = skipped or "skipping" in text
        elif el.tag == "Info" and el.text and case.find(".//OverallResult").get("success") == "false":
            messages.append(f"  info: {el.text.strip()}")
    result = case.find("OverallResult")
    passed = result is not None and result.get("success") == "true"
    return passed, skipped and passed, messages


def run_case(binary, name, seconds, workdir):
    """Runs one test case in its own process. Returns (status, output), status one of 'passed',
    'failed', 'skipped', 'timeout', 'crashed'."""
    report = workdir / "case.xml"
    report.unlink(missing_ok=True)
    cmd = [str(binary), escape(name), "-r", "xml", "-o", str(report)]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        out, _ = proc.communicate(timeout=max(seconds, 1))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", f"timed out: this task's time budget ran out (after {seconds:.0f} s here)"
    text = out.decode("utf-8", "replace")
    tail = text[-OUTPUT_LIMIT:]
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        return "crashed", f"crashed ({sig}) — this case scores 0, the others are unaffected\n{tail}"
    try:
        passed, skipped, messages = describe(report.read_text())
    except (OSError, ET.ParseError, AttributeError):
        return "crashed", f"the test program stopped without a report (exit {proc.returncode}); " \
                          f"a sanitizer report or an abort, probably:\n{tail}"
    body = "\n".join(messages) + (f"\n{tail}" if tail.strip() else "")
    if skipped:
        return "skipped", body
    return ("passed" if passed else "failed"), body


# ---- grading -------------------------------------------------------------------------------------

def grade(n, binary, workdir):
    spec = load(n)
    tests, rows = [], []
    for ti, task in enumerate(spec["tasks"], 1):
        tag = f"[{spec['id']}.{task['id']}]"
        cases = list_cases(binary, tag)
        deadline = time.monotonic() + task["timeout"]
        results = []
        for name in cases:
            left = deadline - time.monotonic()
            if left <= 0:
                results.append((name, "timeout", f"not run: the task's {task['timeout']} s budget was spent"))
                continue
            status, output = run_case(binary, name, left, workdir)
            results.append((name, status, output))
        counted = [r for r in results if r[1] != "skipped"]
        each = task["points"] / len(counted) if counted else 0.0
        earned = 0.0
        for ci, (name, status, output) in enumerate(results, 1):
            hidden = "hidden" in case_tags(binary, name)
            score = each if status == "passed" else 0.0
            earned += score
            tests.append({
                "name": f"{spec['id']}.{task['id']} {task['title']}: {name.removeprefix(tag[1:-1] + ': ')}",
                "number": f"{ti}.{ci}",
                "score": round(score, 4),
                "max_score": round(each if status != "skipped" else 0.0, 4),
                "status": "passed" if status in ("passed", "skipped") else "failed",
                "output": (f"skipped: {output}" if status == "skipped" else output)[-OUTPUT_LIMIT:],
                "tags": [f"{spec['id']}.{task['id']}"] + (["hidden"] if hidden else []),
                "visibility": "after_due_date" if hidden else "visible",
            })
        if not cases:
            tests.append({"name": f"{spec['id']}.{task['id']} {task['title']}", "number": f"{ti}",
                          "score": 0.0, "max_score": task["points"], "status": "failed",
                          "output": f"no test case is tagged {tag}", "visibility": "visible"})
        rows.append((task, results, earned))
    return spec, tests, rows


def table(spec, rows):
    lines = [f"{spec['id']} — {spec['title']}", ""]
    width = max(len(t["title"]) for t, _, _ in rows) + 2
    lines.append(f"  {'task':<5}{'':<{width}}{'cases passed':>14}{'points':>16}")
    total = max_total = 0.0
    for task, results, earned in rows:
        ran = [r for r in results if r[1] != "skipped"]
        ok = sum(1 for r in ran if r[1] == "passed")
        skipped = len(results) - len(ran)
        note = f" (+{skipped} skipped)" if skipped else ""
        lines.append(f"  {task['id']:<5}{task['title']:<{width}}{f'{ok}/{len(ran)}':>14}"
                     f"{earned:>9.1f} / {task['points']:<5g}{note}")
        total += earned
        max_total += task["points"]
    lines.append(f"  {'':<5}{'total':<{width}}{'':>14}{total:>9.1f} / {max_total:<5g}")
    problems = [(task, r) for task, results, _ in rows for r in results if r[1] not in ("passed", "skipped")]
    if problems:
        lines += ["", "what failed (first lines; run ./build-grade/tandem_assignment_tests \"[aN.tK]\" "
                      "to see everything):"]
        for task, (name, status, output) in problems:
            first = next((l.strip() for l in output.splitlines() if l.strip()), "")
            lines.append(f"  {spec['id']}.{task['id']}  {name}: {status}: {first[:160]}")
    return "\n".join(lines), total, max_total


def results_json(tests, total, output, elapsed):
    return {
        "score": round(total, 4),
        "execution_time": int(elapsed),
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def compile_failure(spec, log, elapsed):
    text = "The assignment did not compile, so no test ran (score 0). The compiler said:\n" + log[-20000:]
    tests = [{"name": f"{spec['id']}.{t['id']} {t['title']}", "number": str(i), "score": 0.0,
              "max_score": t["points"], "status": "failed", "output": "not run: the build failed",
              "visibility": "visible"} for i, t in enumerate(spec["tasks"], 1)]
    return results_json(tests, 0.0, text, elapsed)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--assignment", "-a", type=int, default=None)
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build-grade")
    ap.add_argument("--results", type=Path, default=None, help="where to write results.json "
                    "(default: BUILD_DIR/results.json)")
    ap.add_argument("--cuda", default=os.environ.get("CUDA", "OFF"), help="TANDEM_CUDA: OFF, AUTO or ON")
    ap.add_argument("--sanitize", action="store_true", help="build with ASan and UBSan")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-build", action="store_true", help="grade the program already built")
    a = ap.parse_args(argv)
    n = find_assignment(a.assignment)
    spec = load(n)
    results = a.results or a.build_dir / "results.json"
    start = time.monotonic()
    a.build_dir.mkdir(parents=True, exist_ok=True)
    if not a.no_build:
        ok, log = build(a.build_dir, a.cuda, a.sanitize, a.jobs)
        if not ok:
            print(log[-8000:])
            print(f"grade.py: {spec['id']} did not compile: score 0 (results in {results})")
            results.write_text(json.dumps(compile_failure(spec, log, time.monotonic() - start), indent=2,
                                          ensure_ascii=False))
            return 1
    binary = a.build_dir / TARGET
    spec, tests, rows = grade(n, binary, a.build_dir)
    text, total, max_total = table(spec, rows)
    print("\n" + text)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(results_json(tests, total, text, time.monotonic() - start), indent=2,
                                  ensure_ascii=False))
    print(f"\ngrade.py: {total:g} / {max_total:g}; Gradescope's results.json: {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
