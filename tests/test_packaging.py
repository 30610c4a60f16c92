"""The two install routes (pip via the Makefile, conda via environment.yml) must not drift apart."""

import ast
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import labsupport

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    text = (ROOT / "environment.yml").read_text()
    section = text.split("dependencies:", 1)[1]
    conda = set()
    for line in section.splitlines():
        item = line.strip()
        if item.startswith("- ") and not item.startswith("- -e") and item != "- pip:":
            conda.add(_name(item[2:]))
    assert conda - {"python", "pip"} == wanted


def test_constraints_pin_every_direct_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {_name(line) for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    direct = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    assert direct <= pinned, direct - pinned


def test_public_names_are_exported_and_importable():
    assert labsupport.__all__, "labsupport re-exports its public API"
    for name in labsupport.__all__:
        assert getattr(labsupport, name) is not None


def test_importing_labsupport_starts_nothing():
    """No work at import time: module top levels only define things."""
    forbidden = {"serve", "sql_engine", "create_engine", "mkdtemp", "basicConfig", "mongo_client"}
    for path in (ROOT / "labsupport").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Expr | ast.Assign) and isinstance(getattr(node, "value", None), ast.Call):
                func = node.value.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert called not in forbidden, f"{path.name}:{node.lineno} calls {called}() at import"


def test_no_exported_name_is_also_a_submodule_name():
    """`import labsupport.X` sets the package attribute X to the module, after which
    `from labsupport import X` would hand out the module instead of the exported function
    (the lazy __getattr__ is never asked)."""
    submodules = {path.stem for path in (ROOT / "labsupport").iterdir() if path.suffix == ".py" or path.is_dir()}
    assert not submodules & set(labsupport.__all__)


def test_exports_survive_their_module_being_imported_first():
    code = (
        "import labsupport.measurement, labsupport.claims\n"
        "from labsupport import compare, claim, count_queries\n"
        "assert callable(compare) and callable(claim) and callable(count_queries)\n"
        "assert compare.__module__ == 'labsupport.measurement'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_code_is_lint_clean():
    """`make lint` in the test run, so style cannot drift between lint runs."""
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "labsupport", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_code_type_checks():
    """`make lint`'s mypy run (settings and files from pyproject.toml), so `make test` and CI catch
    type errors too, such as a decorator typed as a context manager. The cache lives in the temp
    folder, not the repository: a warm run takes about a second, a cold one half a minute.
    (Mutation that failed this: `span` annotated `-> AbstractContextManager[None]` again.)"""
    mypy = Path(sys.executable).parent / "mypy"
    cache = Path(tempfile.gettempdir()) / "backend-lab-mypy-cache"
    done = subprocess.run([str(mypy), "--cache-dir", str(cache)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_document_the_code_cites_is_in_the_repository():
    """A contributor with only this repository must find the notes a docstring points to.
    (Mutation that failed it: servers.py citing the design notes file that lives outside the
    repository, by its name.)"""
    cited = re.compile(r"\b([A-Za-z0-9_][\w./-]*\.md)\b")
    missing = set()
    for folder in ("labsupport", "tests", "notebooks"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".ipynb", ".cfg"}:
                continue
            for name in cited.findall(path.read_text(encoding="utf-8")):
                if not (ROOT / name).exists() and not list(ROOT.glob(f"*/{name}")):
                    missing.add(f"{path.relative_to(ROOT)} cites {name}")
    assert not missing, sorted(missing)


def test_paths_are_anchored_to_the_package_whatever_the_current_directory(tmp_path):
    """Imported from another folder, every path still points into the repository. The import
    happens in that folder (a subprocess), because these paths are computed at import time.
    (Mutation that failed this: NOTEBOOKS_DIR = Path("notebooks").resolve().)"""
    code = (
        "import json, labsupport.paths as c, labsupport.notebooks as n, labsupport.student as s, "
        "labsupport.doctor as d; print(json.dumps([str(c.data_file('orders_wide.csv').parent), str(n.NOTEBOOKS_DIR), "
        "str(s._BUILD_DIR), str(d._notebooks_dir()), [p.name for p in n.notebook_paths()]]))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    data, notebooks, build, doctor_notebooks, names = json.loads(done.stdout)
    assert Path(data) == ROOT / "data" and (Path(data) / "orders_wide.csv").is_file()
    assert Path(notebooks) == Path(doctor_notebooks) == ROOT / "notebooks"
    assert Path(build) == ROOT / "build" / "student"
    assert names and names[0] == "00-start-here.ipynb"
