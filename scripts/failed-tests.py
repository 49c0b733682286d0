#!/usr/bin/env python3
"""Reads Swift Testing's xUnit reports for scripts/test.sh, which runs the tests that failed
beside the others once more on their own.

  failed-tests.py names REPORT [--max N]
      prints one `swift test --filter` regular expression naming exactly the failed tests;
      exits 1, saying why, when there is nothing to run again: no report (the run crashed or
      was killed), an issue recorded outside any test, no failed test named, or more than N
      failed (a breakage, not a test that lost a race with the others).
  failed-tests.py confirm REPORT COUNT
      exits 0 only if the report of the second run holds at least COUNT tests and no failure:
      a filter that matched nothing must not pass for a retry that passed."""

import argparse
import re
import sys
import xml.etree.ElementTree as ElementTree


def read(path):
    try:
        return ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as error:
        print(f"no test report to read ({error}): the run ended before writing it", file=sys.stderr)
        return None


def failed(case):
    return case.find("failure") is not None or case.find("error") is not None


def recorded_failures(root):
    return sum(int(suite.get("failures", "0")) + int(suite.get("errors", "0")) for suite in root.iter("testsuite"))


def test_id(case):
    """The test's ID as `swift test --filter` matches it: `Module.Suite/Inner/name()`, or
    `Module.name()` for a test outside any suite."""
    module, _, suites = case.get("classname", "").partition(".")
    name = case.get("name", "")
    return f"{module}.{suites.replace('.', '/')}/{name}" if suites else f"{module}.{name}"


def names(arguments):
    root = read(arguments.report)
    if root is None:
        return 1
    cases = [case for case in root.iter("testcase") if failed(case)]
    if recorded_failures(root) > len(cases):
        print("an issue was recorded outside any test: not retried", file=sys.stderr)
        return 1
    ids = sorted({test_id(case) for case in cases})
    if not ids:
        print("the report names no failed test", file=sys.stderr)
        return 1
    if len(ids) > arguments.max:
        print(f"{len(ids)} tests failed, more than {arguments.max}: " + ", ".join(ids), file=sys.stderr)
        return 1
    print("|".join("^" + re.escape(test) for test in ids))
    return 0


def confirm(arguments):
    root = read(arguments.report)
    if root is None:
        return 1
    cases = list(root.iter("testcase"))
    if recorded_failures(root) > 0 or any(failed(case) for case in cases):
        print("the tests run again failed again", file=sys.stderr)
        return 1
    if len(cases) < arguments.count:
        print(f"the second run held {len(cases)} test(s), not the {arguments.count} to run again", file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    names_command = commands.add_parser("names")
    names_command.add_argument("report")
    names_command.add_argument("--max", type=int, default=3)
    names_command.set_defaults(run=names)
    confirm_command = commands.add_parser("confirm")
    confirm_command.add_argument("report")
    confirm_command.add_argument("count", type=int)
    confirm_command.set_defaults(run=confirm)
    arguments = parser.parse_args()
    return arguments.run(arguments)


if __name__ == "__main__":
    sys.exit(main())
