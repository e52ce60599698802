#!/usr/bin/env python3
"""assignments/assign.py — a student's copy of Tandem, generated from the engine's own source.

The idea (nbgrader's and otter-grader's, for a C++ engine): the reference solution of every
assignment *is* the shipped engine. The code a student writes is marked in place, in ordinary
comments, so the engine builds and passes every test with the markers there:

    // BEGIN SOLUTION a2.t1             a region of task t1 of assignment a2
    ...reference code...
    // END SOLUTION
    b = b + g;  // SOLUTION a2.t1       the one-line form: one statement
    // BEGIN HIDDEN TESTS               tests only the grader runs (tag them [hidden])
    ...
    // END HIDDEN TESTS

From that source this script writes, for assignment N:
  student      the tree a student gets: N's regions replaced by stubs that compile and throw
               NotImplemented("a2.t1: implement ... — see assignments/a2/README.md") at run time,
               the markers of other assignments removed (their code stays: the engine works),
               hidden tests removed, instructor-only files left out;
  autograder   the same tree with the hidden tests kept, plus Gradescope's setup.sh and
               run_autograder at the top (and a zip of it all, to upload as is);
  reinsert     the reference code put back into a student tree's stubs (what CI grades at 100%);
  check        the generator's own checks: every assignment generates, twice identically, and no
               student tree holds a fragment of a reference region or a hidden test.

Only files whose content changed are written, so a build folder beside (or inside) a generated
tree recompiles only the files the generator touched.

Python 3 standard library only. Read next: assignments/grade.py (the autograder), docs/teaching.md.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_ID = r"a\d+\.t\d+"
BEGIN = re.compile(r"^(?P<indent>\s*)//\s*BEGIN SOLUTION\s+(?P<task>" + TASK_ID + r")\s*$")
END = re.compile(r"^\s*//\s*END SOLUTION\s*$")
ONE_LINE = re.compile(r"^(?P<indent>\s*)(?P<code>\S.*?)\s*//\s*SOLUTION\s+(?P<task>" + TASK_ID + r")\s*$")
HIDDEN_BEGIN = re.compile(r"^\s*//\s*BEGIN HIDDEN TESTS\s*$")
HIDDEN_END = re.compile(r"^\s*//\s*END HIDDEN TESTS\s*$")
# What a student tree marks as theirs to write (reinsert finds these).
YOURS_BEGIN = re.compile(r"^\s*//\s*BEGIN YOUR CODE\s+(?P<task>" + TASK_ID + r")\b.*$")
YOURS_END = re.compile(r"^\s*//\s*END YOUR CODE\s*$")
YOURS_ONE = re.compile(r"^.*//\s*YOUR CODE\s+(?P<task>" + TASK_ID + r")\s*$")

MARKED_SUFFIXES = (".cpp", ".h", ".hpp", ".cu", ".cuh")
# Never in a student's tree: the generator, the grader's wrapper, CI, and the other assignments.
INSTRUCTOR_ONLY = (".ci/", "assignments/assign.py", "assignments/gradescope/", "assignments/test_assign.py")
TOOLS_SHIPPED = ("assignments/grade.py", "assignments/README.md")


class MarkerError(Exception):
    """A marker that cannot be read: the message names the file and line."""


# ---- the assignments ---------------------------------------------------------------------------

def load_assignment(n):
    """assignments/aN/assignment.json: the title, and per task its title, points and timeout (and,
    for a task that writes nothing new but puts earlier ones together, "builds_on": their ids)."""
    path = ROOT / "assignments" / f"a{n}" / "assignment.json"
    if not path.is_file():
        known = sorted(p.parent.name for p in (ROOT / "assignments").glob("a*/assignment.json"))
        raise SystemExit(f"assign.py: there is no assignment {n} ({path} is missing); "
                         f"the assignments are: {', '.join(known) or 'none'}")
    spec = json.loads(path.read_text())
    spec.setdefault("id", f"a{n}")
    for task in spec["tasks"]:
        task.setdefault("timeout", 120)
    return spec


def all_assignments():
    return sorted(int(p.parent.name[1:]) for p in (ROOT / "assignments").glob("a*/assignment.json"))


def stub_message(spec, task):
    t = next((t for t in spec["tasks"] if f"{spec['id']}.{t['id']}" == task), None)
    title = t["title"] if t else "this task"
    return f"{task}: implement {title} — see assignments/{spec['id']}/README.md"


# ---- reading markers ---------------------------------------------------------------------------

def parse(lines, where):
    """The file as a list of pieces: ('text', line), ('region', task, indent, [lines], first line
    number), ('one', task, indent, code), ('hidden', [lines]). Raises MarkerError on a bad nest."""
    pieces, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = BEGIN.match(line)
        if m:
            body, j = [], i + 1
            while j < len(lines) and not END.match(lines[j]):
                if BEGIN.match(lines[j]) or HIDDEN_BEGIN.match(lines[j]):
                    raise MarkerError(f"{where}:{j + 1}: a marker inside the solution region opened "
                                      f"at line {i + 1}; close it first with // END SOLUTION")
                body.append(lines[j])
                j += 1
            if j == len(lines):
                raise MarkerError(f"{where}:{i + 1}: // BEGIN SOLUTION {m['task']} is never closed "
                                  f"(add // END SOLUTION after the reference code)")
            pieces.append(("region", m["task"], m["indent"], body, i + 1))
            i = j + 1
            continue
        if END.match(line):
            raise MarkerError(f"{where}:{i + 1}: // END SOLUTION without a BEGIN SOLUTION before it")
        if HIDDEN_BEGIN.match(line):
            body, j = [], i + 1
            while j < len(lines) and not HIDDEN_END.match(lines[j]):
                body.append(lines[j])
                j += 1
            if j == len(lines):
                raise MarkerError(f"{where}:{i + 1}: // BEGIN HIDDEN TESTS is never closed")
            pieces.append(("hidden", body))
            i = j + 1
            continue
        if HIDDEN_END.match(line):
            raise MarkerError(f"{where}:{i + 1}: // END HIDDEN TESTS without a BEGIN before it")
        m = ONE_LINE.match(line)
        if m and "//" not in m["code"]:
            pieces.append(("one", m["task"], m["indent"], m["code"], i + 1))
        else:
            pieces.append(("text", line))
        i += 1
    return pieces


def one_line_stub(code, indent, message, where, line):
    """`return x;` -> `return tandem::todo(...);`, `Type name = x;` -> `Type name = tandem::todo(...);`,
    any other statement (an assignment `name = x;` too) -> a throw. todo() converts to any type
    (core/error.h), throwing as it does; the declared name stays, so the code after it compiles."""
    literal = json.dumps(message, ensure_ascii=False)
    if code.startswith("return ") or code == "return;":
        return f"{indent}return tandem::todo({literal});" if code != "return;" else \
            f"{indent}throw tandem::NotImplemented({literal});"
    m = re.match(r"^(?P<lhs>[^=;]*?[^=!<>+\-*/%&|^])\s=\s(?P<rhs>.*);$", code)
    if m and re.search(r"\s", m["lhs"].strip()):  # a declaration, `Type name = x;`
        if re.match(r"^(const\s+)?auto\b", m["lhs"]):
            raise MarkerError(f"{where}:{line}: a one-line solution that declares an `auto` variable "
                              f"has no type for its stub; name the type, or use BEGIN/END SOLUTION")
        return f"{indent}{m['lhs']} = tandem::todo({literal});"
    return f"{indent}throw tandem::NotImplemented({literal});"


def render(pieces, assignment, spec, mode, where):
    """The file's lines for `mode`: 'student' (stubs, no hidden tests), 'autograder' (stubs, hidden
    tests kept), 'solved' (a student tree with the reference filled in: what reinsert makes) or
    'reference' (every region as plain code, hidden tests kept)."""
    stubs = mode in ("student", "autograder")
    out = []
    # A file with functions that also run on the GPU (cuda/, or any file using TANDEM_HD, such as
    # core/ops/update_math.h) gets the stub that compiles in device code too (core/error.h).
    device = where.startswith("cuda/") or any(p[0] == "text" and "TANDEM_HD" in p[1] for p in pieces)
    for p in pieces:
        kind = p[0]
        if kind == "text":
            out.append(p[1])
        elif kind == "hidden":
            if mode in ("autograder", "reference"):
                out.extend(p[1])
        elif kind == "region":
            _, task, indent, body, line = p
            if stubs and task.startswith(f"a{assignment}."):
                message = stub_message(spec, task)
                literal = json.dumps(message, ensure_ascii=False)
                out.append(f"{indent}// BEGIN YOUR CODE {task}")
                if device:  # a function that also runs on the GPU, where nothing can throw
                    out.append(f"{indent}TANDEM_NOT_IMPLEMENTED({literal});")
                else:
                    out.append(f"{indent}throw tandem::NotImplemented({literal});")
                out.append(f"{indent}// END YOUR CODE")
            else:
                out.extend(body)
        elif kind == "one":
            _, task, indent, code, line = p
            if stubs and task.startswith(f"a{assignment}."):
                if device:
                    raise MarkerError(f"{where}:{line}: the one-line form is not supported in code that runs on the GPU "
                                      f"(device code cannot throw); use BEGIN/END SOLUTION")
                stub = one_line_stub(code, indent, stub_message(spec, task), where, line)
                out.append(f"{stub}  // YOUR CODE {task}")
            else:
                out.append(indent + code)
    return out


def regions_of(pieces, assignment):
    """The reference code of assignment N's regions, in file order: a list of lists of lines."""
    found = []
    for p in pieces:
        if p[0] == "region" and p[1].startswith(f"a{assignment}."):
            found.append(p[3])
        elif p[0] == "one" and p[1].startswith(f"a{assignment}."):
            found.append([p[2] + p[3]])
    return found


# ---- the source tree ---------------------------------------------------------------------------

def source_files():
    """The engine's files: what git tracks, plus new files git does not ignore (a fresh clone's view).
    Without git, every file outside the build folders."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                                cwd=ROOT, check=True, capture_output=True).stdout.decode()
        files = [f for f in listed.split("\0") if f and (ROOT / f).is_file()]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            rel = Path(dirpath).relative_to(ROOT)
            dirnames[:] = [d for d in dirnames if not d.startswith(("build", ".git", "handout"))]
            files += [str(rel / f) if str(rel) != "." else f for f in filenames]
    return sorted(files)


def read_lines(path):
    text = path.read_text(encoding="utf-8")
    return text.split("\n")


def marked_pieces(rel):
    """The parsed pieces of a marked source file, or None for a file with no markers."""
    if not rel.endswith(MARKED_SUFFIXES):
        return None
    lines = read_lines(ROOT / rel)
    if not any("SOLUTION" in l or "HIDDEN TESTS" in l for l in lines):
        return None
    return parse(lines, rel)


def belongs(rel, assignment, with_grader_files):
    if rel.startswith(INSTRUCTOR_ONLY):
        return with_grader_files and rel.startswith("assignments/gradescope/")
    m = re.match(r"^assignments/a(\d+)/", rel)
    return not m or int(m.group(1)) == assignment


def tree(assignment, mode):
    """{relative path: bytes} of the tree for `mode` ('student', 'autograder')."""
    spec = load_assignment(assignment)
    out = {}
    for rel in source_files():
        if not belongs(rel, assignment, False):
            continue
        pieces = marked_pieces(rel)
        if pieces is None:
            out[rel] = (ROOT / rel).read_bytes()
        else:
            out[rel] = "\n".join(render(pieces, assignment, spec, mode, rel)).encode("utf-8")
    return out


def student_files(assignment):
    """The files a student edits: those holding assignment N's regions (what run_autograder takes
    from a submission)."""
    files = []
    for rel in source_files():
        pieces = marked_pieces(rel)
        if pieces and regions_of(pieces, assignment):
            files.append(rel)
    return files


# ---- writing a tree ----------------------------------------------------------------------------

LISTING = ".handout-files"  # what the generator wrote last time, so it can remove what went away


def write_tree(files, out, executable=(), prefix=""):
    """Writes `files` under `out`, touching only files whose bytes changed (mtimes stay otherwise,
    so a build folder recompiles only what changed), and removes files it wrote before that are no
    longer part of the tree. Returns the number of files written."""
    out.mkdir(parents=True, exist_ok=True)
    listing = out / LISTING
    before = set(listing.read_text().split("\n")) - {""} if listing.exists() else set()
    written = 0
    for rel, data in sorted(files.items()):
        target = out / rel
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
        source = ROOT / rel[len(prefix):] if rel.startswith(prefix) else None
        if rel in executable or (source and source.is_file() and os.access(source, os.X_OK)):
            target.chmod(0o755)
    for rel in sorted(before - set(files)):
        (out / rel).unlink(missing_ok=True)
    new_listing = "\n".join(sorted(files)) + "\n"
    if not listing.exists() or listing.read_text() != new_listing:
        listing.write_text(new_listing)
    return written


def write_student(assignment, out):
    return write_tree(tree(assignment, "student"), out)


def write_autograder(assignment, out, make_zip=True):
    """The Gradescope autograder: setup.sh and run_autograder at the top, the tree (hidden tests
    kept) under tandem/, and the list of files taken from a submission."""
    files = {f"tandem/{rel}": data for rel, data in tree(assignment, "autograder").items()}
    for name in ("setup.sh", "run_autograder"):
        files[name] = (ROOT / "assignments" / "gradescope" / name).read_bytes()
    files["student_files.txt"] = ("\n".join(student_files(assignment)) + "\n").encode()
    files["assignment.txt"] = f"{assignment}\n".encode()
    written = write_tree(files, out, executable=("setup.sh", "run_autograder"), prefix="tandem/")
    if make_zip:
        archive = out.parent / f"{out.name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for rel in sorted(files):
                info = zipfile.ZipInfo(rel, date_time=(2020, 1, 1, 0, 0, 0))  # the same bytes every time
                info.external_attr = (0o755 if rel in ("setup.sh", "run_autograder") else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, files[rel])
    return written


def reinsert(assignment, student_tree):
    """Puts the reference code back into every stub of assignment N in `student_tree`: the k-th
    YOUR CODE region of a file receives the k-th reference region of the same file. Returns the
    number of regions filled."""
    filled = 0
    for rel in student_files(assignment):
        regions = regions_of(marked_pieces(rel), assignment)
        target = student_tree / rel
        lines = read_lines(target)
        out, i, k = [], 0, 0
        while i < len(lines):
            if YOURS_BEGIN.match(lines[i]):
                j = i + 1
                while j < len(lines) and not YOURS_END.match(lines[j]):
                    j += 1
                if k >= len(regions) or j == len(lines):
                    raise MarkerError(f"{target}:{i + 1}: a YOUR CODE region the reference has no match for")
                out.extend(regions[k])
                k, i = k + 1, j + 1
            elif YOURS_ONE.match(lines[i]):
                if k >= len(regions):
                    raise MarkerError(f"{target}:{i + 1}: a YOUR CODE line the reference has no match for")
                out.extend(regions[k])
                k, i = k + 1, i + 1
            else:
                out.append(lines[i])
                i += 1
        if k != len(regions):
            raise MarkerError(f"{target}: {len(regions)} reference regions but {k} YOUR CODE regions")
        data = "\n".join(out).encode("utf-8")
        if target.read_bytes() != data:
            target.write_bytes(data)
        filled += k
    return filled


# ---- the generator's own checks ----------------------------------------------------------------

def fragments(assignment):
    """Lines of N's reference regions that a student tree must not contain: the distinctive ones
    (at least 16 characters of code, not a comment) that appear nowhere else in the engine's source."""
    elsewhere, candidates = set(), set()
    for rel in source_files():
        if not rel.endswith(MARKED_SUFFIXES):
            continue
        pieces = marked_pieces(rel)
        if pieces is None:
            elsewhere.update(l.strip() for l in read_lines(ROOT / rel))
            continue
        for p in pieces:
            if p[0] == "text":
                elsewhere.add(p[1].strip())
            elif p[0] in ("region", "one"):
                body = p[3] if p[0] == "region" else [p[3]]
                target = candidates if p[1].startswith(f"a{assignment}.") else elsewhere
                target.update(l.strip() for l in body)
    return {l for l in candidates - elsewhere if len(l) >= 16 and not l.startswith("//")}


def check(assignment, scratch):
    """Generates N's student tree twice into `scratch` and checks it. Returns a list of problems."""
    problems = []
    spec = load_assignment(assignment)
    out = scratch / f"a{assignment}"
    if out.exists():
        shutil.rmtree(out)
    write_student(assignment, out)
    again = write_student(assignment, out)
    if again:
        problems.append(f"a{assignment}: not idempotent: a second run rewrote {again} files")
    if not student_files(assignment):
        problems.append(f"a{assignment}: no // BEGIN SOLUTION a{assignment}.tN region in the engine")
    tasks = {f"a{assignment}.{t['id']}" for t in spec["tasks"]}
    seen = set()
    for rel in source_files():
        pieces = marked_pieces(rel)
        for p in pieces or []:
            if p[0] in ("region", "one") and p[1].startswith(f"a{assignment}."):
                seen.add(p[1])
                if p[1] not in tasks:
                    problems.append(f"{rel}: region of {p[1]}, which assignments/a{assignment}/assignment.json "
                                    f"does not list")
    # A task with "builds_on" (the tasks it puts together, e.g. a4.t5: the seed ConvNet trained on
    # the student's layers and optimizers) has no region of its own: its tests grade the whole.
    whole = {f"a{assignment}.{t['id']}" for t in spec["tasks"] if t.get("builds_on")}
    for t in sorted(tasks - seen - whole):
        problems.append(f"a{assignment}: task {t} has no region in the engine")
    for t in sorted(whole & seen):
        problems.append(f"a{assignment}: task {t} builds on others (builds_on) but has a region of its own")
    leaks = fragments(assignment)
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name == LISTING:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(out)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "[hidden]"):
            if marker in text and rel.suffix in MARKED_SUFFIXES:
                problems.append(f"a{assignment}: {rel} contains '{marker}'")
        stripped = {l.strip() for l in text.split("\n")}
        for leak in sorted(leaks & stripped):
            problems.append(f"a{assignment}: {rel} contains reference code: {leak}")
    for rel in INSTRUCTOR_ONLY:
        if (out / rel).exists():
            problems.append(f"a{assignment}: instructor-only {rel} is in the student tree")
    return problems


# ---- results.json, as Gradescope documents it ---------------------------------------------------

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "simple_format", "html", "md", "ansi"}


def validate_results(r):
    """Problems with a results.json against Gradescope's specification
    (gradescope-autograders.readthedocs.io/en/latest/specs/): an empty list when it conforms."""
    problems = []
    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)
    if not isinstance(r, dict):
        return ["results.json is not an object"]
    if "score" not in r and not all("score" in t for t in r.get("tests", [])):
        problems.append("no top-level score, and some tests carry none")
    if "score" in r and not number(r["score"]):
        problems.append("score is not a number")
    if "execution_time" in r and not number(r["execution_time"]):
        problems.append("execution_time is not a number")
    for key in ("visibility", "stdout_visibility"):
        if key in r and r[key] not in VISIBILITY:
            problems.append(f"{key} {r[key]!r} is not one of {sorted(VISIBILITY)}")
    if "output_format" in r and r["output_format"] not in FORMATS:
        problems.append(f"output_format {r['output_format']!r}")
    if not isinstance(r.get("tests", []), list):
        problems.append("tests is not a list")
    for i, t in enumerate(r.get("tests", [])):
        where = f"tests[{i}] ({t.get('name', '?')})"
        for key in ("score", "max_score"):
            if key in t and not number(t[key]):
                problems.append(f"{where}: {key} is not a number")
        if "status" in t and t["status"] not in ("passed", "failed"):
            problems.append(f"{where}: status {t['status']!r} is neither passed nor failed")
        if "visibility" in t and t["visibility"] not in VISIBILITY:
            problems.append(f"{where}: visibility {t['visibility']!r}")
        for key in ("name", "output", "number"):
            if key in t and not isinstance(t[key], str):
                problems.append(f"{where}: {key} is not a string")
        if "tags" in t and not (isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])):
            problems.append(f"{where}: tags is not a list of strings")
        if number(t.get("score")) and number(t.get("max_score")) and t["score"] > t["max_score"] + 1e-9:
            problems.append(f"{where}: score above max_score")
    return problems


# ---- CI: every assignment built and graded, as stubs and as the reference -----------------------

def run_autograder(root):
    """Runs assignments/gradescope/run_autograder with AUTOGRADER_ROOT=root; returns results.json."""
    results = root / "results" / "results.json"
    results.unlink(missing_ok=True)
    script = root / "source" / "run_autograder"
    env = dict(os.environ, AUTOGRADER_ROOT=str(root))
    subprocess.run(["bash", str(script)], env=env, check=False)
    return json.loads(results.read_text()) if results.exists() else None


def ci(assignments, work):
    """For each assignment: its autograder folder is generated over work/root/source (only changed
    files written: the build folder inside it recompiles only what changed since the last
    assignment), the student tree becomes the submission, and run_autograder grades it twice:
    as handed out (every graded test must fail with the stub's message: score 0) and with the
    reference re-inserted (score = the points of all tasks). results.json is validated each time."""
    import time
    problems = []
    root = work / "root"
    for n in assignments:
        spec = load_assignment(n)
        total = sum(t["points"] for t in spec["tasks"])
        start = time.monotonic()
        write_autograder(n, root / "source", make_zip=False)
        submission = root / "submission"
        if submission.exists():
            shutil.rmtree(submission)
        write_student(n, submission)
        r = run_autograder(root)
        stub_time = time.monotonic() - start
        if r is None:
            problems.append(f"a{n}: run_autograder wrote no results.json (stubs)")
            continue
        problems += [f"a{n} (stubs): {p}" for p in validate_results(r)]
        if r["score"] != 0:
            problems.append(f"a{n}: the stubs score {r['score']}, not 0")
        for t in r["tests"]:
            if t["max_score"] == 0:
                continue  # skipped (a GPU test without a GPU)
            if t["status"] != "failed":
                problems.append(f"a{n}: {t['name']} passes on the stubs: it tests nothing the student writes")
            elif f"see assignments/a{n}/README.md" not in t["output"] and "not run" not in t["output"]:
                problems.append(f"a{n}: {t['name']} fails without the stub's message: {t['output'][:300]}")
        start = time.monotonic()
        reinsert(n, submission)
        r = run_autograder(root)
        ref_time = time.monotonic() - start
        if r is None:
            problems.append(f"a{n}: run_autograder wrote no results.json (reference)")
            continue
        problems += [f"a{n} (reference): {p}" for p in validate_results(r)]
        if abs(r["score"] - total) > 1e-6:
            failed = [t["name"] + ": " + t["output"][:300] for t in r["tests"] if t["status"] != "passed"]
            problems.append(f"a{n}: the reference scores {r['score']} of {total}; failing: {failed}")
        hidden = sum(1 for t in r["tests"] if t.get("visibility") == "after_due_date")
        print(f"assign.py ci: a{n}: stubs 0/{total} ({stub_time:.0f} s), reference {r['score']:g}/{total} "
              f"({ref_time:.0f} s), {len(r['tests'])} test cases of which {hidden} hidden", flush=True)
    return problems


# ---- command line ------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    h = sub.add_parser("handout", help="the student tree and the autograder of assignment N "
                                       "(make assignment A=N)")
    h.add_argument("assignment", type=int)
    h.add_argument("--out", type=Path, default=None, help="default: handout/aN/ in the engine's folder")
    s = sub.add_parser("student", help="only the student tree")
    s.add_argument("assignment", type=int)
    s.add_argument("--out", type=Path, required=True)
    g = sub.add_parser("autograder", help="only the autograder folder (and its zip beside it)")
    g.add_argument("assignment", type=int)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--no-zip", action="store_true")
    r = sub.add_parser("reinsert", help="the reference code back into a student tree's stubs")
    r.add_argument("assignment", type=int)
    r.add_argument("--tree", type=Path, required=True)
    sub.add_parser("student-files", help="the files holding assignment N's regions").add_argument(
        "assignment", type=int)
    c = sub.add_parser("check", help="every assignment generates, idempotently, without leaks")
    c.add_argument("--scratch", type=Path, required=True)
    i = sub.add_parser("ci", help="check, then build and grade every assignment as stubs (0) and as "
                                  "the reference (100%%), through run_autograder")
    i.add_argument("--work", type=Path, required=True, help="a persistent folder (its build is reused)")
    i.add_argument("assignments", type=int, nargs="*", help="default: all")
    a = ap.parse_args(argv)
    try:
        if a.command == "handout":
            out = a.out or ROOT / "handout" / f"a{a.assignment}"
            n = write_student(a.assignment, out / "student")
            m = write_autograder(a.assignment, out / "autograder")
            print(f"assign.py: a{a.assignment}: {out / 'student'} (the students' tree, {n} files written), "
                  f"{out / 'autograder.zip'} (upload to Gradescope; {m} files written)")
        elif a.command == "student":
            print(f"assign.py: {write_student(a.assignment, a.out)} files written to {a.out}")
        elif a.command == "autograder":
            n = write_autograder(a.assignment, a.out, make_zip=not a.no_zip)
            print(f"assign.py: {n} files written to {a.out}")
        elif a.command == "reinsert":
            print(f"assign.py: {reinsert(a.assignment, a.tree)} regions of a{a.assignment} filled in {a.tree}")
        elif a.command == "student-files":
            print("\n".join(student_files(a.assignment)))
        elif a.command == "check":
            problems = []
            for n in all_assignments():
                found = check(n, a.scratch)
                print(f"assign.py check: a{n}: {'ok' if not found else f'{len(found)} problems'}")
                problems += found
            for p in problems:
                print("  " + p)
            return 1 if problems else 0
        elif a.command == "ci":
            problems = []
            for n in a.assignments or all_assignments():
                problems += check(n, a.work / "check")
            problems += ci(a.assignments or all_assignments(), a.work)
            for p in problems:
                print("assign.py ci: " + p)
            print(f"assign.py ci: {'ok' if not problems else f'{len(problems)} problems'}")
            return 1 if problems else 0
    except MarkerError as e:
        print(f"assign.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
