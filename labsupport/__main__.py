"""`python -m labsupport COMMAND`: doctor, student, notebooks, bench, grade, progress (see `--help`)."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "doctor": ("labsupport.doctor", "check this machine's set-up and say what to fix"),
    "student": ("labsupport.student", "build the student notebooks (solutions replaced)"),
    "notebooks": ("labsupport.notebooks", "re-execute the notebooks and store clean outputs"),
    "bench": ("labsupport.bench", "measure the lab's own machinery (server start, throughput, loads)"),
    "grade": ("labsupport.grading", "run submitted notebooks and write grades (CSV) and feedback"),
    "progress": ("labsupport.progress_store", "show which exercises are done, per notebook"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print("usage: python -m labsupport {" + ",".join(COMMANDS) + "} [options]\n")
        for name, (_, summary) in COMMANDS.items():
            print(f"  {name:<10} {summary}")
        return 0 if args[:1] in ([], ["-h"], ["--help"]) else 2
    module = importlib.import_module(COMMANDS[args[0]][0])
    return module.main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
