#!/usr/bin/env python3
"""assignments/test_assign.py — the generator's and the grader's own tests (ctest: assignments_generator).

Quick (no compiler): markers are read or refused with file:line, stubs are what the conventions
say, every assignment generates twice identically without a fragment of its reference or a hidden
test, re-inserting the reference into a student tree gives back the engine's code, and the
grader's results.json conforms to Gradescope's fields. The slow check — each student tree built
and graded as stubs and as the reference — is `assign.py ci`, a phase of .ci/run.

Read next: assignments/assign.py.
"""

import json
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import assign  # noqa: E402
import grade  # noqa: E402


class Markers(unittest.TestCase):
    def test_regions_one_lines_and_hidden_blocks(self):
        lines = ["int f() {", "  // BEGIN SOLUTION a9.t1", "  return 1;", "  // END SOLUTION", "}",
                 "  x = y;  // SOLUTION a9.t2", "// BEGIN HIDDEN TESTS", "TEST_CASE(...)", "// END HIDDEN TESTS"]
        kinds = [p[0] for p in assign.parse(lines, "f.cpp")]
        self.assertEqual(kinds, ["text", "region", "text", "one", "hidden"])

    def test_an_unclosed_region_names_its_file_and_line(self):
        with self.assertRaisesRegex(assign.MarkerError, r"f\.cpp:2: // BEGIN SOLUTION a9\.t1 is never closed"):
            assign.parse(["x", "// BEGIN SOLUTION a9.t1", "y"], "f.cpp")
        with self.assertRaisesRegex(assign.MarkerError, r"f\.cpp:1: // END SOLUTION without"):
            assign.parse(["// END SOLUTION"], "f.cpp")

    def test_one_line_stubs_keep_declarations_compiling(self):
        stub = assign.one_line_stub
        self.assertEqual(stub("return a * b;", "  ", "m", "f", 1), '  return tandem::todo("m");')
        self.assertEqual(stub("const Output total = add_n(x);", "", "m", "f", 1),
                         'const Output total = tandem::todo("m");')
        self.assertEqual(stub("b = b + g;", "", "m", "f", 1), 'throw tandem::NotImplemented("m");')
        with self.assertRaisesRegex(assign.MarkerError, "auto"):
            stub("auto x = f(y);", "", "m", "f.cpp", 7)

    def test_a_stub_keeps_the_indentation_and_names_the_task(self):
        spec = {"id": "a9", "tasks": [{"id": "t1", "title": "the thing"}]}
        pieces = assign.parse(["    // BEGIN SOLUTION a9.t1", "    x();", "    // END SOLUTION"], "f.cpp")
        out = assign.render(pieces, 9, spec, "student", "f.cpp")
        self.assertEqual(out[1], '    throw tandem::NotImplemented("a9.t1: implement the thing — '
                                 'see assignments/a9/README.md");')
        self.assertEqual(assign.render(pieces, 8, spec, "student", "f.cpp"), ["    x();"])  # not a9's tree


class Trees(unittest.TestCase):
    def test_every_assignment_generates_idempotently_without_leaks(self):
        with tempfile.TemporaryDirectory() as scratch:
            for n in assign.all_assignments():
                self.assertEqual(assign.check(n, Path(scratch)), [], f"a{n}")

    def test_reinserting_the_reference_gives_back_the_engines_code(self):
        with tempfile.TemporaryDirectory() as scratch:
            for n in assign.all_assignments():
                out = Path(scratch) / f"a{n}"
                assign.write_student(n, out)
                filled = assign.reinsert(n, out)
                self.assertGreater(filled, 0)
                spec = assign.load_assignment(n)
                for rel in assign.student_files(n):
                    want = "\n".join(assign.render(assign.marked_pieces(rel), n, spec, "solved", rel))
                    self.assertEqual((out / rel).read_text(), want, rel)

    def test_the_student_tree_leaves_out_instructor_files_and_other_assignments(self):
        files = assign.tree(2, "student")
        self.assertIn("assignments/a2/test_a2.cpp", files)
        self.assertIn("assignments/grade.py", files)
        self.assertNotIn("assignments/assign.py", files)
        self.assertFalse(any(f.startswith(("assignments/a1/", ".ci/", "assignments/gradescope/")) for f in files))
        self.assertNotIn(b"[hidden]", files["assignments/a2/test_a2.cpp"])
        self.assertIn(b"[hidden]", assign.tree(2, "autograder")["assignments/a2/test_a2.cpp"])


class Results(unittest.TestCase):
    XML = """<?xml version="1.0" encoding="UTF-8"?>
<Catch name="t"><Group name="t"><TestCase name="a9.t1: x" tags="[a9.t1]" filename="f.cpp" line="3">
<Expression success="false" type="CHECK" filename="f.cpp" line="5"><Original>a == 1</Original>
<Expanded>2 == 1</Expanded></Expression><OverallResult success="false"/></TestCase></Group></Catch>"""

    def test_a_failed_check_is_reported_with_its_line_and_values(self):
        passed, skipped, messages = grade.describe(self.XML)
        self.assertFalse(passed)
        self.assertFalse(skipped)
        self.assertIn("f.cpp:5: a == 1", messages[0])
        self.assertIn("2 == 1", messages[0])

    def test_a_skipped_gpu_test_is_skipped(self):
        xml = self.XML.replace('<Expression success="false"', '<Warning>no CUDA device: skipping</Warning><X success="1"') \
                      .replace("</Expression>", "</X>").replace('OverallResult success="false"', 'OverallResult success="true"')
        passed, skipped, _ = grade.describe(xml)
        self.assertTrue(passed and skipped)

    def test_results_json_has_gradescopes_fields(self):
        spec = {"id": "a9", "title": "T", "tasks": [{"id": "t1", "title": "x", "points": 10, "timeout": 5}]}
        tests = [{"name": "a9.t1 x: case", "number": "1.1", "score": 5.0, "max_score": 5.0, "status": "passed",
                  "output": "", "tags": ["a9.t1"], "visibility": "visible"},
                 {"name": "a9.t1 x: hidden case", "number": "1.2", "score": 0.0, "max_score": 5.0,
                  "status": "failed", "output": "boom", "tags": ["a9.t1", "hidden"], "visibility": "after_due_date"}]
        r = grade.results_json(tests, 5.0, "table", 12.5)
        self.assertEqual(assign.validate_results(json.loads(json.dumps(r))), [])
        self.assertEqual(assign.validate_results(grade.compile_failure(spec, "error: x", 3)), [])
        bad = dict(r, tests=[dict(tests[0], status="skipped", score=7.0)])
        self.assertEqual(len(assign.validate_results(bad)), 2)


if __name__ == "__main__":
    unittest.main(verbosity=1)
