"""Tests for labsupport.paths: datasets are found from anywhere, checkout-only files say why they are missing."""

from __future__ import annotations

import csv

import pytest

from labsupport import paths
from labsupport.paths import CHECKOUT, checkout_path, data_file


def test_a_dataset_is_a_readable_csv_file():
    """Mutation that survived mutmut (no test ran paths.py): `Path(str(entry))` -> `Path(None)`."""
    path = data_file("orders_wide.csv")
    assert path.name == "orders_wide.csv" and path.is_file()
    with path.open(newline="") as f:
        header = next(csv.reader(f))
    assert "order_id" in header


def test_an_unknown_dataset_names_the_ones_there_are():
    """A typo gets the list of datasets, sorted, and only the .csv files (not README.md, __init__.py).

    Mutations that survived mutmut (no test ran paths.py): `if not entry.is_file()` -> `if entry.is_file()`;
    `.endswith(".csv")` -> `.endswith(".CSV")`; `", ".join` -> `"XX, XX".join`.
    """
    with pytest.raises(FileNotFoundError) as raised:
        data_file("orders.csv")
    message = str(raised.value)
    assert message.startswith("the lab has no dataset 'orders.csv'; it has ")
    listed = message.removeprefix("the lab has no dataset 'orders.csv'; it has ").split(", ")
    assert listed == sorted(listed) and "orders_wide.csv" in listed and "staff_shifts.csv" in listed
    assert all(name.endswith(".csv") for name in listed)


def test_the_datasets_are_listed_in_sorted_order_whatever_order_the_folder_gives(tmp_path, monkeypatch):
    """Mutation that survived mutmut (no test ran paths.py): `sorted(...)` -> `list(...)`; the package
    folder happens to list its files in order here, another file system need not."""

    class FolderListingBackwards:
        def __init__(self, path):
            self.path = path

        def joinpath(self, name):
            return self.path.joinpath(name)

        def iterdir(self):
            return iter(sorted(self.path.iterdir(), reverse=True))

    for name in ("a.csv", "b.csv", "c.csv", "notes.txt"):
        (tmp_path / name).write_text("x\n")
    monkeypatch.setattr(paths.resources, "files", lambda package: FolderListingBackwards(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"; it has a\.csv, b\.csv, c\.csv$"):
        data_file("d.csv")


def test_a_folder_is_not_a_dataset():
    """data_file("") would be the data folder itself: `is_file`, not `exists`, makes it an error.

    Mutation that failed this: `entry.is_file()` -> `entry.is_dir()` (any existing entry passes).
    """
    with pytest.raises(FileNotFoundError, match="the lab has no dataset ''"):
        data_file("")


def test_checkout_path_is_inside_the_checkout_holding_this_package():
    """Mutation that survived mutmut (no test ran paths.py): `CHECKOUT.joinpath(*parts)` -> `CHECKOUT`."""
    notebooks = checkout_path("notebooks")
    assert notebooks == CHECKOUT / "notebooks" and notebooks.is_dir()
    assert checkout_path("labsupport", "paths.py").samefile(paths.__file__)


def test_a_path_only_a_checkout_has_says_so(tmp_path, monkeypatch):
    """An installed wheel has no notebooks/: the error names the path and what to do.

    Mutations that survived mutmut: `if not path.exists()` -> `if path.exists()`;
    `'/'.join(parts)` -> `'XX/XX'.join(parts)`.
    """
    monkeypatch.setattr(paths, "CHECKOUT", tmp_path)
    with pytest.raises(FileNotFoundError) as raised:
        checkout_path("notebooks", "09-security.ipynb")
    message = str(raised.value)
    assert message.startswith(f"notebooks/09-security.ipynb is not in {tmp_path}: it exists only in a checkout")
    assert "git clone" in message
    (tmp_path / "notebooks").mkdir()
    assert checkout_path("notebooks") == tmp_path / "notebooks"
