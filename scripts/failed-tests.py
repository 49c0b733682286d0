#!/usr/bin/env python3
"""Names the tests that failed in a Swift Testing xUnit report, as one `swift test --filter`
regular expression, for scripts/test.sh to run them again alone.

Exits 1, saying why, when there is nothing to run again: no report (the run crashed or was
killed), no failed test named in it, or more than --max failed (a breakage, not a test that
lost a race with the others)."""

import argparse
import re
import sys
import xml.etree.ElementTree as ElementTree


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--max", type=int, default=3)
    arguments = parser.parse_args()
    try:
        root = ElementTree.parse(arguments.report).getroot()
    except (OSError, ElementTree.ParseError) as error:
        print(f"no test report to read ({error}): the run ended before writing it", file=sys.stderr)
        return 1
    failed = sorted(
        {
            f"{case.get('classname', '').rsplit('.', 1)[-1]}/{case.get('name', '')}"
            for case in root.iter("testcase")
            if case.find("failure") is not None or case.find("error") is not None
        }
    )
    if not failed:
        print("the report names no failed test", file=sys.stderr)
        return 1
    if len(failed) > arguments.max:
        print(f"{len(failed)} tests failed, more than {arguments.max}: " + ", ".join(failed), file=sys.stderr)
        return 1
    print("|".join(re.escape(name) for name in failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
