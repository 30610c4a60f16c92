"""Where the lab's files are: datasets shipped with the package, and files only a checkout has.

Introduced in 06-normalization (`data_file`) and 09-security (`checkout_path`). The datasets in
the repository's ``data/`` folder ship inside the package as ``labsupport.data`` and are read
through `importlib.resources`, so they are found from any working directory and from an
installed wheel. Notebooks, ``.gitignore`` and the like exist only in a git checkout:
`checkout_path` finds them there and says so plainly when this ``labsupport`` is not one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["CHECKOUT", "checkout_path", "data_file"]

# The folder that holds labsupport/ in a checkout (for an installed wheel: site-packages).
CHECKOUT = Path(__file__).resolve().parent.parent


def data_file(name: str) -> Path:
    """The path of dataset `name` (e.g. ``"orders_wide.csv"``) from the lab's ``data/`` folder.

    Read only: lessons copy what they change into their own databases.
    """
    entry = resources.files("labsupport.data").joinpath(name)
    if not entry.is_file():
        available = sorted(p.name for p in resources.files("labsupport.data").iterdir() if p.name.endswith(".csv"))
        raise FileNotFoundError(f"the lab has no dataset {name!r}; it has {', '.join(available)}")
    return Path(str(entry))


def checkout_path(*parts: str) -> Path:
    """``checkout_path("notebooks")``: a path inside the backend-lab checkout this package lives in.

    Raises FileNotFoundError, saying why, when it does not exist: this ``labsupport`` was
    installed without the repository (``pip install`` of a wheel) or the file was removed.
    """
    path = CHECKOUT.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{'/'.join(parts)} is not in {CHECKOUT}: it exists only in a checkout of backend-lab "
            "(git clone the repository and `make install`), not in an installed labsupport"
        )
    return path
