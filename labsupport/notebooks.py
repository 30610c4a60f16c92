"""The notebooks themselves: list them, show the contents table, re-execute them with clean outputs.

`contents()` is introduced in 00-start-here (its stored output is compared by CI, so a notebook
added without re-running 00 fails the build). `main()` is `make notebooks`: it re-executes each
notebook in a fresh kernel and stores outputs without the volatile metadata nbclient adds
(timestamps), so a re-run changes the files only where an output really changed. It switches
the progress file off (`labsupport.progress_store`): the reference solutions are nobody's progress.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from IPython.display import Markdown

from labsupport.paths import CHECKOUT, checkout_path

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["NOTEBOOKS_DIR", "notebook_paths", "notebook_title", "contents", "execute", "clean"]

NOTEBOOKS_DIR = CHECKOUT / "notebooks"  # only a checkout has them


def notebook_paths(directory: Path | None = None) -> list[Path]:
    """The lesson notebooks `NN-topic.ipynb`, in order."""
    return sorted((directory or NOTEBOOKS_DIR).glob("[0-9][0-9]-*.ipynb"))


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook, without the `#`s and the "NN · " number."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("#"):
                return re.sub(r"^\d\d\s*·\s*", "", line.lstrip("#").strip())
    return path.stem


def contents(directory: Path | None = None) -> Markdown:
    """A Markdown table of every notebook with a link, read from the files themselves."""
    rows = ["| # | Notebook | File |", "|---|---|---|"]
    for path in notebook_paths(directory):
        rows.append(f"| {path.name[:2]} | {notebook_title(path)} | [{path.name}]({path.name}) |")
    return Markdown("\n".join(rows))


# Cell metadata that changes on every run (nbclient; the jupyterlab-execute-time extension).
_VOLATILE_METADATA = ("execution", "ExecuteTime")


def clean(nb: NotebookNode) -> NotebookNode:
    """Drop what changes on every run without meaning anything: execution timestamps, and where
    the kernel happened to flush a cell's printed text (consecutive stdout pieces become one)."""
    for cell in nb.cells:
        for key in _VOLATILE_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
    return nb


def _joined_streams(outputs: list) -> list:
    joined: list = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            joined.append(output)
    return joined


def execute(path: Path, *, timeout: int = 300) -> NotebookNode:
    """Run a notebook top to bottom in a fresh kernel (cwd = its folder) and return it cleaned."""
    # Imported here: only `make notebooks` needs them, and nbformat takes ~1.5 s to import.
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(path.parent)}}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources)
    client.execute()
    return clean(nb)


def main(argv: list[str] | None = None) -> int:
    """`python -m labsupport notebooks [PATH ...]`: re-execute notebooks and store their outputs."""
    parser = argparse.ArgumentParser(prog="python -m labsupport notebooks", description=main.__doc__)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to run (default: all)")
    parser.add_argument(
        "--record-postgres",
        action="store_true",
        help="instead: run the notebooks that have PostgreSQL-only demos on the embedded PostgreSQL and "
        "store what those demos show in data/recorded/ (labsupport.recordings); outputs are not stored",
    )
    args = parser.parse_args(argv)
    import nbformat

    # The reference notebooks' checks are not a student's progress: keep them out of ~/.backend-lab.
    os.environ["LAB_PROGRESS_FILE"] = "off"
    paths = args.paths or notebook_paths()
    if args.record_postgres:
        os.environ.update(LAB_DATABASE="postgres", LAB_RECORD_DIR=str(checkout_path("data", "recorded")))
        os.environ.pop("LAB_DATABASE_URL", None)
        paths = [path for path in paths if "postgres_only(" in path.read_text(encoding="utf-8")]
    for path in paths:
        started = time.perf_counter()
        nb = execute(path)  # the kernel inherits this process's environment
        if not args.record_postgres:
            nbformat.write(nb, path)
        print(f"{path.name}: executed in {time.perf_counter() - started:.1f} s")
    return 0
