"""Tests for labsupport.lessons.l05_nosql.checkers: each checker with the right answer, the wrong answers a
student writes (each with its own hint) and malformed ones (a plain message, never a traceback)."""

from __future__ import annotations

import copy

import mongomock
import pytest

from labsupport.databases import sql_engine
from labsupport.datagen import bookshop_rows, insert_bookshop
from labsupport.lessons.l05_nosql.checkers import (
    NEW_TITLE,
    BlogModel,
    blog,
    check_blog_model,
    check_copy_prediction,
    check_rename_book,
    check_revenue_pipeline,
    copies_after_rename,
    revenue_per_genre_sql,
)
from labsupport.lessons.l05_nosql.documents import CountingDatabase, to_documents
from lessons.corpus import ids


def assert_hint(result, *fragments: str) -> None:
    assert result.status == "failed", result
    for fragment in fragments:
        assert fragment in result.message, result.message
    assert "Traceback" not in result.message


# --- exercise 1: the blog --------------------------------------------------------------------


def test_blog_right_answer_passes():
    result = check_blog_model({"comments": "embed", "author": "reference"})
    assert result.passed, result
    assert "2 round trips" in result.message and "1 document" in result.message


def test_blog_referenced_comments_cost_a_round_trip():
    result = check_blog_model({"comments": "reference", "author": "reference"})
    assert_hint(result, "3 round trips, one of them only to fetch its comments", '"comments": "embed"')
    assert "Renaming" not in result.message


def test_blog_embedded_author_costs_a_write_per_post():
    result = check_blog_model({"comments": "embed", "author": "embed"})
    assert_hint(result, "Renaming Ada wrote 6 documents", "her 5 posts", '"author": "reference"')
    assert "round trips" not in result.message


def test_blog_both_wrong_gets_both_hints():
    result = check_blog_model({"comments": "reference", "author": "embed"})
    assert_hint(
        result, "2 round trips, one of them only to fetch its comments", '"comments": "embed"', '"author": "reference"'
    )


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (["embed", "reference"], "Expected a dict"),
        ({"comments": "embed"}, "Give a choice for 'author'"),
        ({"comments": "nest", "author": "reference"}, 'should be "embed" or "reference"'),
        ({"comments": "embed", "author": "reference", "tags": "embed"}, "remove ['tags']"),
    ],
)
def test_blog_malformed_answers_get_plain_messages(answer, fragment):
    assert_hint(check_blog_model(answer), fragment)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ({"comments": "Embed", "author": "reference"}, 'should be "embed" or "reference", not \'Embed\''),
        ({"comments": "embedded", "author": "referenced"}, "not 'embedded'"),
        ({"comments": True, "author": False}, "not True"),
        ({"comment": "embed", "author": "reference"}, "Give a choice for 'comments'"),
        ({"comments": "embed", "authors": "reference"}, "Give a choice for 'author'"),
        ({"comments": ["embed"], "author": "reference"}, "not ['embed']"),
    ],
    ids=["capital", "past-tense", "booleans", "singular-key", "plural-key", "list-value"],
)
def test_blog_near_miss_spellings_get_the_exact_spelling(answer, fragment):
    assert_hint(check_blog_model(answer), fragment)


def test_blog_wrong_choices_each_name_the_lesson_criterion():
    """Embedding what is shared, referencing what is owned: each wrong layout gets the criterion it breaks.

    Mutation that failed this: `if writes > 1` → `if writes > 6` let {"author": "embed"} pass."""
    shared = check_blog_model({"comments": "embed", "author": "embed"}).message
    owned = check_blog_model({"comments": "reference", "author": "reference"}).message
    assert "shared by many posts and changes on her own" in shared
    assert "belongs to one post, is always shown with it" in owned


def test_blog_placeholder_is_not_attempted():
    assert check_blog_model(...).status == "not attempted"
    assert check_blog_model({"comments": ..., "author": "embed"}).status == "not attempted"


@pytest.mark.parametrize("comments", ["embed", "reference"])
@pytest.mark.parametrize("author", ["embed", "reference"])
def test_every_blog_layout_shows_the_same_pages(comments, author):
    db = CountingDatabase(mongomock.MongoClient().blog)
    model = BlogModel(db, {"comments": comments, "author": author})
    model.store(blog())
    model.add_comment(3, "reader7", "Nice")
    model.rename_author(2, "Benjamin")  # Ben wrote post 3
    page = model.post_page(3)
    assert page == {
        "title": "Post 3",
        "author": "Benjamin",
        "comments": ["Comment 1 on post 3", "Comment 2 on post 3", "Comment 3 on post 3", "Nice"],
    }


# --- exercise 2: the aggregation -------------------------------------------------------------

RIGHT = [
    {"$match": {"status": {"$ne": "cancelled"}}},
    {"$unwind": "$lines"},
    {
        "$group": {
            "_id": "$lines.genre",
            "revenue_cents": {"$sum": {"$multiply": ["$lines.quantity", "$lines.unit_price_cents"]}},
        }
    },
    {"$sort": {"revenue_cents": -1}},
]


def variant(change):
    pipeline = copy.deepcopy(RIGHT)
    change(pipeline)
    return pipeline


def price_only(pipeline):
    pipeline[2]["$group"]["revenue_cents"] = {"$sum": "$lines.unit_price_cents"}


def test_pipeline_right_answer_passes_and_is_not_changed():
    pipeline = copy.deepcopy(RIGHT)
    result = check_revenue_pipeline(pipeline)
    assert result.passed, result
    assert "8 genres" in result.message
    assert pipeline == RIGHT


def test_pipeline_with_genre_field_after_project_passes():
    pipeline = RIGHT[:3] + [
        {"$project": {"_id": 0, "genre": "$_id", "revenue_cents": 1}},
        {"$sort": {"revenue_cents": -1}},
    ]
    assert check_revenue_pipeline(pipeline).passed


@pytest.mark.parametrize(
    ("pipeline", "fragment"),
    [
        (RIGHT[:3], "'$sort': {'revenue_cents': -1}"),
        ([RIGHT[0], RIGHT[2], RIGHT[3]], "add {'$unwind': '$lines'}"),
        ([RIGHT[0], {"$group": {"_id": "$lines.genre", "revenue_cents": {"$sum": "$lines.quantity"}}}], "$unwind"),
        (variant(price_only), "multiply it by the quantity"),
        (RIGHT[1:], "'$match': {'status': {'$ne': 'cancelled'}}"),
        (variant(price_only)[1:], "Two things"),
        ([RIGHT[1], {"$group": {"_id": None, "revenue_cents": {"$sum": 1}}}], "one group"),
        ([RIGHT[1], {"$group": {"_id": "$lines.genre", "total": {"$sum": 1}}}], "name the total revenue_cents"),
        ([RIGHT[1], {"$group": {"_id": "$lines.genre", "revenue_cents": {"$sum": 1}}}], "SQL says"),
        ([RIGHT[1], {"$group": {"_id": "$status", "revenue_cents": {"$sum": 1}}}], "such as 'cancelled'"),
    ],
    ids=[
        "no-sort",
        "no-unwind",
        "no-unwind-sum",
        "no-quantity",
        "no-match",
        "two-things",
        "one-group",
        "wrong-name",
        "counted-lines",
        "wrong-key",
    ],
)
def test_pipeline_wrong_stages_get_their_hint(pipeline, fragment):
    assert_hint(check_revenue_pipeline(pipeline), fragment)


def group(key="$lines.genre", amount=None, op="$sum"):
    amount = {"$multiply": ["$lines.quantity", "$lines.unit_price_cents"]} if amount is None else amount
    return {"$group": {"_id": key, "revenue_cents": {op: amount}}}


MATCH, UNWIND, SORT = RIGHT[0], RIGHT[1], RIGHT[3]


@pytest.mark.parametrize(
    "pipeline",
    [
        [{"$match": {"status": {"$nin": ["cancelled"]}}}, UNWIND, group(), SORT],
        [{"$match": {"status": {"$in": ["pending", "paid", "shipped", "delivered"]}}}, UNWIND, group(), SORT],
        [UNWIND, MATCH, group(), SORT],  # filtering after $unwind: each line keeps its order's status
        [
            MATCH,
            UNWIND,
            {"$addFields": {"amount": {"$multiply": ["$lines.quantity", "$lines.unit_price_cents"]}}},
            group(amount="$amount"),
            SORT,
        ],
        [
            MATCH,
            UNWIND,
            {
                "$project": {
                    "genre": "$lines.genre",
                    "amount": {"$multiply": ["$lines.quantity", "$lines.unit_price_cents"]},
                }
            },
            group(key="$genre", amount="$amount"),
            SORT,
        ],
        [MATCH, UNWIND, group(), {"$sort": {"revenue_cents": -1, "_id": 1}}],  # a tie-breaker
        [MATCH, UNWIND, group(amount={"$multiply": ["$lines.unit_price_cents", "$lines.quantity"]}), SORT],
    ],
    ids=[
        "nin",
        "in-other-statuses",
        "match-after-unwind",
        "add-fields",
        "project-first",
        "tie-breaker",
        "factors-swapped",
    ],
)
def test_pipeline_right_variants_pass(pipeline):
    result = check_revenue_pipeline(copy.deepcopy(pipeline))
    assert result.passed, result
    assert "a $sum of quantity × unit price per genre" in result.message


@pytest.mark.parametrize(
    ("pipeline", "fragment"),
    [
        # a field that does not exist adds up to 0 without an error
        (
            [MATCH, UNWIND, group(amount={"$multiply": ["$lines.quantity", "$lines.unit_price"]}), SORT],
            "Every total is 0",
        ),
        (
            [MATCH, UNWIND, group(amount={"$multiply": ["$quantity", "$lines.unit_price_cents"]}), SORT],
            "misspelt field name adds up to 0",
        ),
        ([MATCH, UNWIND, group(key="$genre"), SORT], "whose _id is null: the field you group by does not exist"),
        # grouped by the wrong thing
        ([MATCH, UNWIND, group(key="$lines.title"), SORT], "returns 15 groups"),
        ([MATCH, UNWIND, group(key="$lines.book_id"), SORT], "group by the line's genre"),
        ([MATCH, UNWIND, group(key={"genre": "$lines.genre", "status": "$status"}), SORT], "returns 32 groups"),
        ([MATCH, UNWIND, group(), SORT, {"$limit": 5}], "returns 5 of the 8 genres"),
        # the wrong sum
        ([MATCH, UNWIND, group(op="$avg"), SORT], "add the lines up with $sum, not $avg"),
        ([MATCH, UNWIND, group(op="$max"), SORT], "not $max"),
        ([MATCH, UNWIND, group(amount={"$add": ["$lines.quantity", "$lines.unit_price_cents"]}), SORT], "not $add"),
        (
            [
                MATCH,
                UNWIND,
                group(amount={"$divide": [{"$multiply": ["$lines.quantity", "$lines.unit_price_cents"]}, 100]}),
                SORT,
            ],
            "Those are euros",
        ),
        ([MATCH, UNWIND, group(amount="$lines.quantity"), SORT], "SQL says"),
        ([MATCH, UNWIND, group(amount=1), SORT], "SQL says"),
        # the wrong filter
        ([{"$match": {"status": "delivered"}}, UNWIND, group(), SORT], "leaves out more than the cancelled ones"),
        (
            [{"$match": {"status": {"$nin": ["cancelled", "pending"]}}}, UNWIND, group(), SORT],
            "it leaves out more than the cancelled",
        ),
        ([{"$match": {"status": {"$ne": "Cancelled"}}}, UNWIND, group(), SORT], "exact value 'cancelled' (lower case)"),
        ([{"$match": {"state": {"$ne": "cancelled"}}}, UNWIND, group(), SORT], "Your $match removes nothing"),
        ([UNWIND, group(), MATCH, SORT], "Your $match comes after $group"),
        # the wrong order
        ([MATCH, UNWIND, group(), {"$sort": {"revenue_cents": 1}}], "not in order"),
        ([MATCH, UNWIND, group(), {"$sort": {"_id": 1}}], "not in order"),
    ],
    ids=[
        "typo-price",
        "no-prefix-quantity",
        "no-prefix-genre",
        "by-title",
        "by-book",
        "by-genre-and-status",
        "limit",
        "avg",
        "max",
        "add",
        "euros",
        "books-sold",
        "line-count",
        "delivered-only",
        "also-no-pending",
        "capital-c",
        "wrong-field",
        "match-after-group",
        "ascending",
        "by-name",
    ],
)
def test_pipeline_plausible_wrong_answers_get_their_hint(pipeline, fragment):
    """Mutation that failed this: without the all-zero check, `typo-price` got "SQL says ... 0", naming no field."""
    assert_hint(check_revenue_pipeline(pipeline), fragment)


@pytest.mark.parametrize(
    ("pipeline", "fragment"),
    [
        (RIGHT[0], "list of stages: put your stage dicts inside"),
        ("[{'$match': {}}]", "Expected a list of stages"),
        ([], "The pipeline is empty"),
        ([{"$match": {}, "$sort": {"_id": 1}}], "Stage 1 should be a dict with exactly one key"),
        ([RIGHT[0], "$unwind"], "Stage 2 should be a dict"),
        ([{"match": {}}], "operator such as '$group', not 'match'"),
        ([{"$bucketAuto": {"groupBy": "$status", "buckets": 2}}], "mongomock cannot run this pipeline"),
        ([{"$unwind": "lines"}], "The database rejected the pipeline: ValueError"),
        ([{"$match": 3}, {"$unwind": "$lines"}], "The database rejected the pipeline: OperationFailure"),
        ([RIGHT[1], {"$group": {"revenue_cents": {"$sum": 1}}}], "Every $group needs an _id"),
    ],
    ids=[
        "dict",
        "string",
        "empty",
        "two-keys",
        "not-a-dict",
        "no-dollar",
        "not-implemented",
        "bad-unwind",
        "bad-match",
        "group-without-id",
    ],
)
def test_pipeline_malformed_input_gets_a_plain_message(pipeline, fragment):
    assert_hint(check_revenue_pipeline(pipeline), fragment)


def test_pipeline_placeholder_is_not_attempted():
    assert check_revenue_pipeline(...).status == "not attempted"
    assert check_revenue_pipeline([RIGHT[0], ...]).status == "not attempted"


def test_sql_reference_answer_and_its_variants():
    engine = sql_engine()
    insert_bookshop(engine, bookshop_rows(50, seed=1))
    right = revenue_per_genre_sql(engine)
    with_cancelled = revenue_per_genre_sql(engine, without_cancelled=False)
    price_only_answer = revenue_per_genre_sql(engine, with_quantity=False)
    engine.dispose()
    assert [r for _, r in right] == sorted((r for _, r in right), reverse=True)
    assert sum(r for _, r in with_cancelled) >= sum(r for _, r in right)
    assert sum(r for _, r in price_only_answer) <= sum(r for _, r in right)
    assert all(isinstance(genre, str) and isinstance(revenue, int) for genre, revenue in right)


# --- exercise 3: rename a book everywhere ----------------------------------------------------


def colleagues_version(db, book_id, title):
    """The notebook's buggy helper: a replacement instead of $set, and update_one."""
    db.books.replace_one({"_id": book_id}, {"title": title})
    db.orders.update_one({"lines.book_id": book_id}, {"$set": {"lines.$.title": title}})


def right_rename(db, book_id, title):
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    db.orders.update_many({"lines.book_id": book_id}, {"$set": {"lines.$.title": title}})


def right_elem_match(db, book_id, title):
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    db.orders.update_many({"lines": {"$elemMatch": {"book_id": book_id}}}, {"$set": {"lines.$.title": title}})


def right_but_one_write_per_order(db, book_id, title):
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    for order in db.orders.find({"lines.book_id": book_id}):
        lines = [dict(line, title=title) if line["book_id"] == book_id else line for line in order["lines"]]
        db.orders.update_one({"_id": order["_id"]}, {"$set": {"lines": lines}})


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        (right_rename, "in 2 round trips. That is the price"),
        (right_elem_match, "in 2 round trips"),
        (right_but_one_write_per_order, "67 round trips (one update_many reaches every order"),
    ],
    ids=["update-many", "elem-match", "loop"],
)
def test_rename_right(function, fragment):
    result = check_rename_book(function)
    assert result.passed, result
    assert "all 65 orders renamed" in result.message and fragment in result.message


def half_fixed(db, book_id, title):
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    db.orders.update_one({"lines.book_id": book_id}, {"$set": {"lines.$.title": title}})


def books_only(db, book_id, title):
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})


def orders_only(db, book_id, title):
    db.orders.update_many({"lines.book_id": book_id}, {"$set": {"lines.$.title": title}})


def every_line(db, book_id, title):  # mongomock has no $[]: it fails, and the hint says why
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    db.orders.update_many({"lines.book_id": book_id}, {"$set": {"lines.$[].title": title}})


def array_filters(db, book_id, title):
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    db.orders.update_many(
        {"lines.book_id": book_id}, {"$set": {"lines.$[line].title": title}}, array_filters=[{"line.book_id": book_id}]
    )


def first_line(db, book_id, title):  # the book is not always the first line of its orders
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    db.orders.update_many({"lines.book_id": book_id}, {"$set": {"lines.0.title": title}})


def whole_lines(db, book_id, title):  # every line of the matched orders becomes this book
    db.books.update_one({"_id": book_id}, {"$set": {"title": title}})
    for order in db.orders.find({"lines.book_id": book_id}):
        db.orders.update_one(
            {"_id": order["_id"]}, {"$set": {"lines": [dict(line, title=title) for line in order["lines"]]}}
        )


def every_book(db, book_id, title):
    db.books.update_many({}, {"$set": {"title": title}})
    db.orders.update_many({"lines.book_id": book_id}, {"$set": {"lines.$.title": title}})


def touches_status(db, book_id, title):
    right_rename(db, book_id, title)
    db.orders.update_many({"lines.book_id": book_id}, {"$set": {"status": "renamed"}})


def without_set(db, book_id, title):  # pymongo refuses an update document without operators
    db.books.update_one({"_id": book_id}, {"title": title})


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        (colleagues_version, "lost its fields ['author', 'genre', 'price_cents', 'stock']: replace_one"),
        (half_fixed, "Only 1 of the 65 orders with book 5 show the new title"),
        (books_only, "copied into the lines of 65 orders, and none of them shows the new title"),
        (orders_only, "Book 5 itself still has the title"),
        (every_line, "it has no '$[]' and no array filters"),
        (array_filters, "Array filters are not implemented"),
        (first_line, "Only"),
        (whole_lines, "lines of *other* books now carry the new title too"),
        (every_book, "Other books changed too"),
        (touches_status, "Other fields of the orders changed"),
        (without_set, "an update says what to change, {'$set': {'title': title}}"),
        ("rename_book", "should be a function"),
    ],
    ids=[
        "notebook-bugs",
        "update-one",
        "books-only",
        "orders-only",
        "all-positional",
        "array-filters",
        "first-line",
        "whole-lines",
        "every-book",
        "status",
        "no-operator",
        "string",
    ],
)
def test_rename_wrong_answers_get_their_hint(function, fragment):
    """Mutation that failed this: disabling the `len(renamed) < len(with_book)` branch gave `update-one` a
    hint about other fields, not update_one."""
    assert_hint(check_rename_book(function), fragment)


def test_rename_not_attempted_and_fixture():
    def rename_book(db, book_id, title): ...

    assert check_rename_book(rename_book).status == "not attempted"
    assert check_rename_book(...).status == "not attempted"
    assert NEW_TITLE not in {
        line["title"] for order in to_documents(bookshop_rows(300, 5))["orders"] for line in order["lines"]
    }


# --- predict, then run: a renamed book's embedded copies ------------------------------------

PREDICT_SHOP = bookshop_rows(300, 5)  # not the notebook's shop: the checker must count for itself
PREDICT_BOOK = 5


def test_copies_after_rename_counts_by_running_the_rename():
    """The truth the checker uses: the book is in orders, and none of their copies changed."""
    with_book, showing_new = copies_after_rename(PREDICT_SHOP, PREDICT_BOOK)
    embedded = to_documents(PREDICT_SHOP)["orders"]
    assert with_book == sum(any(line["book_id"] == PREDICT_BOOK for line in o["lines"]) for o in embedded) > 1
    assert showing_new == 0


def test_copy_prediction_right_answer_passes():
    result = check_copy_prediction(0, PREDICT_SHOP, PREDICT_BOOK)
    assert result.passed, result
    assert "0 of the 65 orders" in result.message and "snapshot" in result.message


COPY_PREDICTIONS_WRONG = [  # (name, prediction, fragments of its hint)
    ("all, as a join would", 65, ("0 of the 65 orders show it", "does not point at the book as a SQL join")),
    ("one, as update_one says", 1, ("0 of the 65 orders show it", "update_one did change exactly 1 document")),
    ("some of them", 10, ("0 of the 65 orders show it", "the copies in the orders are separate documents")),
    ("more than contain the book", 66, ("66 cannot be: 65 orders contain book 5",)),
    ("negative", -1, ("-1 cannot be",)),
    ("a word", "none", ("Expected a whole number of orders",)),
    ("a bool", False, ("Expected a whole number of orders",)),
    ("a float", 0.0, ("Expected a whole number of orders",)),
]


@pytest.mark.parametrize(("name", "predicted", "fragments"), COPY_PREDICTIONS_WRONG, ids=ids(COPY_PREDICTIONS_WRONG))
def test_copy_prediction_wrong_answers_get_their_hint(name, predicted, fragments):
    """Mutation that failed this: `predicted == with_book` flipped to `!=` in check_copy_prediction (the
    join hint went to every other wrong answer, and 65 got the generic one)."""
    assert_hint(check_copy_prediction(predicted, PREDICT_SHOP, PREDICT_BOOK), *fragments)


def test_copy_prediction_is_judged_on_the_shop_it_is_given():
    """Another shop, another count: the checker runs the rename, it remembers no number.
    (Mutation that failed this: `with_book` in check_copy_prediction replaced by the constant 65.)"""
    shop = bookshop_rows(1_000)
    with_book, _ = copies_after_rename(shop, 3)
    assert with_book != 65
    assert_hint(check_copy_prediction(with_book, shop, 3), f"0 of the {with_book} orders show it")
    assert check_copy_prediction(0, shop, 3).passed


def test_copy_prediction_not_attempted():
    assert check_copy_prediction(..., PREDICT_SHOP, PREDICT_BOOK).status == "not attempted"
