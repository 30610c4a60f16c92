"""Functional dependencies, decompositions and what they cost, checked on real rows.

Introduced in 06-normalization. A functional dependency (FD) ``X -> Y`` says: rows that agree
on the columns X agree on the columns Y. Data can refute an FD (two rows are a counter-example)
but never prove it, so the helpers here *check* dependencies the lesson states, and `closure`
reasons with the stated ones. A decomposition is a dict ``{table name: [columns]}``; it is
lossless when joining its projections back gives exactly the original rows. `is_lossless` checks
that on the rows at hand; `lossless_by_chase` decides it for *every* table that obeys the
dependencies (the rows at hand may join back by accident), and `lost_dependencies` lists the
dependencies that no table can check any more.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
import sqlalchemy as sa

__all__ = [
    "FD",
    "holds",
    "counterexample",
    "find_dependencies",
    "closure",
    "decompose",
    "join_back",
    "spurious_rows",
    "is_lossless",
    "lossless_by_chase",
    "lost_dependencies",
    "redundant_cells",
    "bcnf_violation",
    "sqlite_bytes",
    "postgres_bytes",
    "table_bytes",
]

Columns = str | Sequence[str]


class FD(tuple):
    """A functional dependency ``lhs -> rhs``: two tuples of column names. Prints as ``a, b -> c``."""

    def __new__(cls, lhs: Columns, rhs: Columns) -> FD:
        return super().__new__(cls, (_as_columns(lhs, "lhs"), _as_columns(rhs, "rhs")))

    @property
    def lhs(self) -> tuple[str, ...]:
        return self[0]

    @property
    def rhs(self) -> tuple[str, ...]:
        return self[1]

    def __repr__(self) -> str:
        return f"{', '.join(self.lhs)} -> {', '.join(self.rhs)}"


def _as_columns(columns: object, what: str) -> tuple[str, ...]:
    if isinstance(columns, str) and columns:
        return (columns,)
    if isinstance(columns, (list, tuple, set, frozenset)) and columns:
        if all(isinstance(c, str) for c in columns):
            return tuple(columns) if not isinstance(columns, (set, frozenset)) else tuple(sorted(columns))
    raise ValueError(f"{what} must be a column name or a non-empty list of column names, not {columns!r}")


def _as_fds(fds: Iterable[FD | tuple]) -> list[FD]:
    """Each of `fds` as an FD; a plain ``(lhs, rhs)`` pair is accepted too."""
    return [fd if isinstance(fd, FD) else FD(*fd) for fd in fds]


def _require_columns(df: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"no column(s) {missing} in the table; its columns are {list(df.columns)}")


def counterexample(df: pd.DataFrame, lhs: Columns, rhs: Columns) -> pd.DataFrame | None:
    """Two rows of `df` that agree on `lhs` but differ on `rhs`, or None if ``lhs -> rhs`` holds."""
    fd = FD(lhs, rhs)
    if holds(df, fd.lhs, fd.rhs):
        return None
    distinct = df[list(dict.fromkeys(fd.lhs + fd.rhs))].drop_duplicates()
    first = distinct[distinct.duplicated(list(fd.lhs), keep=False)].iloc[0]
    same_lhs = (df[list(fd.lhs)] == first[list(fd.lhs)].to_numpy()).all(axis=1)
    rows = df[same_lhs]
    other = rows[(rows[list(fd.rhs)] != rows.iloc[0][list(fd.rhs)].to_numpy()).any(axis=1)]
    return pd.concat([rows.iloc[:1], other.iloc[:1]])


def holds(df: pd.DataFrame, lhs: Columns, rhs: Columns) -> bool:
    """True if every two rows of `df` that agree on `lhs` also agree on `rhs`.

    ``holds(orders, ["customer_email"], ["customer_name", "customer_city"])``.
    """
    fd = FD(lhs, rhs)
    _require_columns(df, fd.lhs + fd.rhs)
    # Among the distinct (left, right) combinations, no left side may appear twice.
    distinct = df[list(dict.fromkeys(fd.lhs + fd.rhs))].drop_duplicates()
    return not distinct.duplicated(list(fd.lhs)).any()


def find_dependencies(df: pd.DataFrame) -> list[FD]:
    """Every single-column FD ``a -> [b, ...]`` that holds on the rows of `df`.

    Columns with a different value in each row determine everything and are left out (a key
    tells nothing new). On a small sample many dependencies hold by accident; only the domain
    says which are rules.
    """
    found = []
    for column in df.columns:
        if df[column].is_unique:
            continue
        determined = [other for other in df.columns if other != column and holds(df, column, other)]
        if determined:
            found.append(FD(column, determined))
    return found


def closure(columns: Iterable[str], fds: Iterable[FD | tuple]) -> set[str]:
    """All columns that `columns` determine through `fds` (Armstrong's rules, applied until stable)."""
    dependencies = _as_fds(fds)
    result = set(columns)
    changed = True
    while changed:
        changed = False
        for fd in dependencies:
            if set(fd.lhs) <= result and not set(fd.rhs) <= result:
                result |= set(fd.rhs)
                changed = True
    return result


def decompose(df: pd.DataFrame, tables: Mapping[str, Sequence[str]]) -> dict[str, pd.DataFrame]:
    """Project `df` onto each table's columns, without duplicate rows: ``{name: DataFrame}``."""
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError("a decomposition is a non-empty dict {table name: [columns]}")
    result = {}
    for name, columns in tables.items():
        columns = _as_columns(columns, f"the columns of table {name!r}")
        _require_columns(df, columns)
        result[name] = df[list(columns)].drop_duplicates().reset_index(drop=True)
    return result


def join_back(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The natural join of all `tables` (on their shared column names), without duplicate rows.

    Tables are joined in the order given, except that a table sharing a column with what is
    already joined goes first; a table sharing none is cross-joined (every pair of rows).
    """
    remaining = list(tables.values())
    if not remaining:
        raise ValueError("nothing to join: the dict of tables is empty")
    joined = remaining.pop(0)
    while remaining:
        sharing = [i for i, t in enumerate(remaining) if set(t.columns) & set(joined.columns)]
        table = remaining.pop(sharing[0] if sharing else 0)
        on = [c for c in joined.columns if c in table.columns]
        joined = joined.merge(table, on=on) if on else joined.merge(table, how="cross")
    return joined.drop_duplicates().reset_index(drop=True)


def _sorted_rows(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return df[columns].drop_duplicates().sort_values(columns).reset_index(drop=True)


def spurious_rows(original: pd.DataFrame, joined: pd.DataFrame) -> pd.DataFrame:
    """Rows of `joined` that are not in `original`: what a lossy decomposition invents."""
    columns = list(original.columns)
    _require_columns(joined, columns)
    merged = joined[columns].drop_duplicates().merge(original[columns].drop_duplicates(), how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)


def is_lossless(original: pd.DataFrame, tables: Mapping[str, Sequence[str]]) -> bool:
    """True if joining `decompose(original, tables)` back gives exactly the distinct original rows."""
    columns = list(original.columns)
    joined = join_back(decompose(original, tables))
    if set(joined.columns) != set(columns):
        return False  # a column no table kept cannot come back
    return _sorted_rows(joined, columns).equals(_sorted_rows(original, columns))


def redundant_cells(df: pd.DataFrame, fds: Iterable[FD | tuple]) -> int:
    """How many cells of `df` repeat a fact another row already states, counted over `fds`.

    For ``X -> Y``, each distinct X needs its Y values once; every further row with that X
    repeats them: ``(rows - distinct X values) * len(Y)`` cells.
    """
    total = 0
    for fd in fds:
        fd = fd if isinstance(fd, FD) else FD(*fd)
        _require_columns(df, fd.lhs + fd.rhs)
        total += (len(df) - len(df[list(fd.lhs)].drop_duplicates())) * len(fd.rhs)
    return total


def sqlite_bytes(engine: sa.Engine) -> dict[str, int]:
    """Bytes each table and index of a SQLite database occupies on disk: ``{name: bytes}``.

    Reads SQLite's ``dbstat`` table (pages per B-tree); the indexes SQLite makes for PRIMARY KEY
    and UNIQUE constraints are named ``sqlite_autoindex_...``. The schema itself is left out.
    A SQLite built without ``dbstat`` gets one entry ``{"database": page_count * page_size}``.
    """
    if engine.dialect.name != "sqlite":
        raise ValueError(f"sqlite_bytes() measures SQLite files, not {engine.dialect.name}")
    with engine.connect() as conn:
        try:
            rows = conn.exec_driver_sql(
                "SELECT name, SUM(pgsize) FROM dbstat "
                "WHERE name NOT IN ('sqlite_schema', 'sqlite_master') GROUP BY name"
            ).all()
        except sa.exc.OperationalError:  # no dbstat in this build of SQLite
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return {"database": int(pages * size)}
    return {name: int(size) for name, size in rows}


def postgres_bytes(engine: sa.Engine) -> dict[str, int]:
    """Bytes each table of a PostgreSQL database occupies on disk, its indexes included: ``{table: bytes}``.

    Counts the data pages ("main fork") of the table, of its TOAST table (for long values) and of its
    indexes, the one PostgreSQL makes for the PRIMARY KEY among them. Not ``pg_total_relation_size``:
    that adds the free-space and visibility maps a table gets once it has been vacuumed, and autovacuum
    decides when, so the same data measured differently from run to run. Only the ``public`` schema.
    """
    if engine.dialect.name != "postgresql":
        raise ValueError(f"postgres_bytes() measures PostgreSQL databases, not {engine.dialect.name}")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, pg_relation_size(c.oid, 'main')"
            " + COALESCE(pg_relation_size(NULLIF(c.reltoastrelid, 0), 'main'), 0)"
            " + COALESCE((SELECT sum(pg_relation_size(i.indexrelid, 'main')) FROM pg_index i"
            " WHERE i.indrelid = c.oid), 0) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).all()
    return {name: int(size) for name, size in rows}


def table_bytes(engine: sa.Engine) -> dict[str, int]:
    """Bytes the tables and their key indexes occupy on disk, on SQLite or PostgreSQL: ``{name: bytes}``.

    The engines store a row differently (PostgreSQL adds a 23-byte header to each and aligns values
    to 8 bytes), so the numbers differ between them; what each one says about two designs holds on both.
    """
    if engine.dialect.name == "sqlite":
        return sqlite_bytes(engine)
    return postgres_bytes(engine)


def bcnf_violation(columns: Sequence[str], fds: Iterable[FD | tuple]) -> FD | None:
    """A dependency inside a table whose left side is not a key of that table, or None.

    For a table with `columns` and the dependencies `fds` (of the whole design), look for a
    set of columns X that determines some other columns of the table but not all of them: then
    every row repeating X repeats those values too (redundancy). None means the table is in
    Boyce-Codd normal form (which implies 3NF). Smallest X first, so the hint is short.
    """
    dependencies = _as_fds(fds)
    table = list(dict.fromkeys(columns))
    for size in range(1, len(table)):
        for lhs in itertools.combinations(table, size):
            determined = closure(lhs, dependencies) & set(table)
            if determined != set(table) and determined - set(lhs):
                return FD(lhs, [c for c in table if c in determined and c not in lhs])
    return None


def lossless_by_chase(columns: Sequence[str], tables: Mapping[str, Sequence[str]], fds: Iterable[FD | tuple]) -> bool:
    """True if every table with `columns` that obeys `fds` joins back from `tables` exactly (the chase).

    The chase builds one symbolic row per table: the "known" symbol ``a`` in that table's columns,
    a row-specific unknown elsewhere. Each dependency ``X -> Y`` then makes rows that agree on X
    agree on Y (an ``a`` wins). The decomposition is lossless exactly when some row ends all ``a``:
    whatever the data, a joined row is forced to be a row of the original.
    """
    dependencies = _as_fds(fds)
    universe = list(dict.fromkeys(columns))
    rows = [{c: "a" if c in set(table) else f"b{i}" for c in universe} for i, table in enumerate(tables.values())]
    changed = True
    while changed:
        changed = False
        for fd in dependencies:
            groups: dict[tuple, list[dict[str, str]]] = {}
            for row in rows:
                groups.setdefault(tuple(row[c] for c in fd.lhs), []).append(row)
            for group in groups.values():
                for column in fd.rhs:
                    values = {row[column] for row in group}
                    if len(values) < 2:
                        continue
                    winner = "a" if "a" in values else min(values)
                    for row in rows:  # rename the symbol everywhere, as the chase equates symbols
                        if row[column] in values and row[column] != winner:
                            row[column] = winner
                            changed = True
    return any(all(value == "a" for value in row.values()) for row in rows)


def lost_dependencies(tables: Mapping[str, Sequence[str]], fds: Iterable[FD | tuple]) -> list[FD]:
    """The dependencies of `fds` that no longer follow from what each table can check on its own.

    A table can check a dependency only among its own columns; ``X -> Y`` is preserved when the
    dependencies inside the tables imply it (the standard test: grow X through each table's
    columns, using `fds`, until stable). A lost one can be broken by rows that each table accepts.
    """
    dependencies = _as_fds(fds)
    parts = [set(columns) for columns in tables.values()]
    lost = []
    for fd in dependencies:
        reached = set(fd.lhs)
        changed = True
        while changed:
            changed = False
            for part in parts:
                gained = (closure(reached & part, dependencies) & part) - reached
                if gained:
                    reached |= gained
                    changed = True
        if not set(fd.rhs) <= reached:
            lost.append(fd)
    return lost
