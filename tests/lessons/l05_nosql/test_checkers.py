"""Tests for labsupport.lessons.l05_nosql.checkers: each checker with the right answer, the wrong answers a
student writes (each with its own hint) and malformed ones (a plain message, never a traceback)."""

from __future__ import annotations

import copy

import mongomock
import pytest

from labsupport.databases import sql_engine
from labsupport.datagen import bookshop_rows, insert_bookshop
from labsupport.lessons.l05_nosql.checkers import (
    BlogModel,
    blog,
    check_blog_model,
    check_revenue_pipeline,
    revenue_per_genre_sql,
)
from labsupport.lessons.l05_nosql.documents import CountingDatabase


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
    assert_hint(result, "2 round trips, one of them only to fetch its comments", '"comments": "embed"',
                '"author": "reference"')


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (["embed", "reference"], "Expected a dict"),
        ({"comments": "embed"}, "Give a choice for 'author'"),
        ({"comments": "nest", "author": "reference"}, "should be \"embed\" or \"reference\""),
        ({"comments": "embed", "author": "reference", "tags": "embed"}, "remove ['tags']"),
    ],
)
def test_blog_malformed_answers_get_plain_messages(answer, fragment):
    assert_hint(check_blog_model(answer), fragment)


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
        ([RIGHT[1], {"$group": {"_id": "$status", "revenue_cents": {"$sum": 1}}}], "SQL says"),
    ],
    ids=["no-sort", "no-unwind", "no-unwind-sum", "no-quantity", "no-match", "two-things", "one-group",
         "wrong-name", "counted-lines", "wrong-key"],
)
def test_pipeline_wrong_stages_get_their_hint(pipeline, fragment):
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
    ids=["dict", "string", "empty", "two-keys", "not-a-dict", "no-dollar", "not-implemented", "bad-unwind",
         "bad-match", "group-without-id"],
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
