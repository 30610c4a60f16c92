"""Checkers for the exercises of 05-nosql: modelling a blog (embed or reference), an aggregation,
a rename that must reach every embedded copy, and the prediction of what those copies say after
the book alone is renamed.

All judge by running, not by reading the answer: the blog checker stores a small blog in the
layout the student chose, runs a workload through a `CountingDatabase` and judges the round trips
and writes it counted; the aggregation checker runs the student's pipeline on a fresh mongomock
collection and compares the result with the answer SQL's GROUP BY gives on the same data; the
rename checker runs the student's function on a fresh copy of the shop and compares every document;
the prediction checker renames a book on a fresh copy of the shop and counts the orders whose
embedded copy shows the new title.
Always mongomock, whatever ``LAB_MONGO_URL`` says, so a check never touches a student's server.
"""

from __future__ import annotations

import copy
import numbers
import traceback
from collections.abc import Mapping
from functools import cache
from typing import Any

import mongomock
import pymongo.errors
import sqlalchemy as sa

from labsupport.checks import Hint, checker, expect_type
from labsupport.databases import sql_engine
from labsupport.datagen import Bookshop, bookshop_rows, insert_bookshop
from labsupport.lessons.l05_nosql.documents import CountingDatabase, to_documents

__all__ = [
    "blog",
    "BlogModel",
    "check_blog_model",
    "revenue_per_genre_sql",
    "check_revenue_pipeline",
    "NEW_TITLE",
    "check_rename_book",
    "PREDICT_TITLE",
    "copies_after_rename",
    "check_copy_prediction",
]

# --- exercise 1: a blog, embed or reference -------------------------------------------------

CHOICES = ("embed", "reference")
RELATIONS = ("comments", "author")


def blog() -> dict[str, list[dict]]:
    """A small deterministic blog: 3 authors, 9 posts (Ada wrote 5), 3 comments per post."""
    authors = [{"_id": 1, "name": "Ada"}, {"_id": 2, "name": "Ben"}, {"_id": 3, "name": "Chloe"}]
    writers = [1, 1, 2, 1, 3, 1, 2, 1, 3]
    posts = [{"_id": p, "title": f"Post {p}", "author_id": a} for p, a in enumerate(writers, start=1)]
    comments = [
        {"_id": (p - 1) * 3 + k, "post_id": p, "by": f"reader{k}", "text": f"Comment {k} on post {p}"}
        for p in range(1, len(posts) + 1)
        for k in (1, 2, 3)
    ]
    return {"authors": authors, "posts": posts, "comments": comments}


class BlogModel:
    """The blog stored in one of the four layouts, with the operations a blog needs.

    ``choices`` says, for the comments and for the author of each post, whether the post
    document embeds them or references them (by id, in a collection of their own). Every
    operation goes through ``db``, so a `CountingDatabase` sees each round trip.
    """

    def __init__(self, db: Any, choices: Mapping[str, str]) -> None:
        self.db = db
        self.embed_comments = choices["comments"] == "embed"
        self.embed_author = choices["author"] == "embed"

    def store(self, data: Mapping[str, list[dict]]) -> None:
        author_by_id = {a["_id"]: a for a in data["authors"]}
        posts = []
        for post in data["posts"]:
            document = {"_id": post["_id"], "title": post["title"]}
            if self.embed_author:
                document["author"] = dict(author_by_id[post["author_id"]])  # a copy per post
            else:
                document["author_id"] = post["author_id"]
            if self.embed_comments:
                document["comments"] = [
                    {"by": c["by"], "text": c["text"]} for c in data["comments"] if c["post_id"] == post["_id"]
                ]
            posts.append(document)
        self.db.authors.insert_many([dict(a) for a in data["authors"]])
        self.db.posts.insert_many(posts)
        if not self.embed_comments:
            self.db.comments.insert_many([dict(c) for c in data["comments"]])

    def post_page(self, post_id: int) -> dict:
        """What a reader sees: the title, the author's name and the comments."""
        post = self.db.posts.find_one({"_id": post_id})
        if self.embed_author:
            author = post["author"]["name"]
        else:
            author = self.db.authors.find_one({"_id": post["author_id"]})["name"]
        if self.embed_comments:
            comments = [c["text"] for c in post["comments"]]
        else:
            comments = [c["text"] for c in self.db.comments.find({"post_id": post_id}, sort=[("_id", 1)])]
        return {"title": post["title"], "author": author, "comments": comments}

    def add_comment(self, post_id: int, by: str, text: str) -> None:
        if self.embed_comments:
            self.db.posts.update_one({"_id": post_id}, {"$push": {"comments": {"by": by, "text": text}}})
        else:
            last = self.db.comments.find({}, sort=[("_id", -1)], limit=1)
            self.db.comments.insert_one({"_id": last[0]["_id"] + 1, "post_id": post_id, "by": by, "text": text})

    def rename_author(self, author_id: int, name: str) -> None:
        self.db.authors.update_one({"_id": author_id}, {"$set": {"name": name}})
        if self.embed_author:  # every copy must change too, or old posts show the old name
            self.db.posts.update_many({"author._id": author_id}, {"$set": {"author.name": name}})


def _choices(answer: object) -> dict[str, str]:
    answer = expect_type(answer, dict, 'a dict such as {"comments": "embed", "author": "reference"}')
    for relation in RELATIONS:
        if relation not in answer:
            raise Hint(f'Give a choice for {relation!r} too: the dict needs the keys "comments" and "author".')
        if answer[relation] not in CHOICES:
            raise Hint(f'The choice for {relation!r} should be "embed" or "reference", not {answer[relation]!r}.')
    extra = set(answer) - set(RELATIONS)
    if extra:
        raise Hint(f'Only "comments" and "author" are asked for; remove {sorted(extra)}.')
    return {relation: answer[relation] for relation in RELATIONS}


def _workload(choices: Mapping[str, str]) -> tuple[int, int]:
    """Round trips per post page read, and documents written by one author rename."""
    db = CountingDatabase(mongomock.MongoClient().blog)
    model = BlogModel(db, choices)
    data = blog()
    model.store(data)
    model.add_comment(2, "reader9", "Late to the party")
    db.reset()
    pages = [model.post_page(post["_id"]) for post in data["posts"]]
    reads = db.reset().round_trips // len(pages)  # every page costs the same
    model.rename_author(1, "Ada L.")
    writes = db.reset().documents_written
    if model.post_page(1)["author"] != "Ada L.":  # the model's own invariant: never stale
        raise RuntimeError("the renamed author is not shown on her post")
    return reads, writes


@checker("Exercise 1: model a blog", expects='a dict such as {"comments": "embed", "author": "reference"}')
def check_blog_model(answer: dict[str, str]) -> str:
    choices = _choices(answer)
    reads, writes = _workload(choices)
    reads_if_embedded, _ = _workload({**choices, "comments": "embed"})
    problems = []
    if reads > reads_if_embedded:
        problems.append(
            f"Showing one post page took {reads} round trips, one of them only to fetch its comments. "
            "A comment belongs to one post, is always shown with it, and a post has a handful: "
            'embed the comments ("comments": "embed").'
        )
    if writes > 1:
        posts = sum(1 for post in blog()["posts"] if post["author_id"] == 1)
        problems.append(
            f"Renaming Ada wrote {writes} documents: her author document and the copy embedded in each "
            f"of her {posts} posts (miss one and that post shows the old name). An author is shared by "
            'many posts and changes on her own: reference her ("author": "reference").'
        )
    if problems:
        raise Hint("\n".join(problems))
    return (
        "Right: a post page costs 2 round trips (the post with its comments, then its author) and "
        "renaming an author writes 1 document. Embed what is owned, bounded and read together; "
        "reference what is shared or grows without limit (a post with 100,000 comments would not fit)."
    )


# --- exercise 2: an aggregation pipeline ------------------------------------------------------

CHECK_ORDERS = 300  # orders in the checker's dataset: small, mongomock's aggregation is slow
CHECK_SEED = 5


@cache
def _check_data() -> tuple[list[dict], dict[tuple[bool, bool], list[tuple[str, int]]]]:
    """The checker's orders as documents, and SQL's answer for each variant of the question."""
    shop = bookshop_rows(CHECK_ORDERS, CHECK_SEED)
    engine = sql_engine()
    try:
        insert_bookshop(engine, shop)
        answers = {
            (with_quantity, without_cancelled): revenue_per_genre_sql(
                engine, with_quantity=with_quantity, without_cancelled=without_cancelled
            )
            for with_quantity in (True, False)
            for without_cancelled in (True, False)
        }
    finally:
        engine.dispose()
    return to_documents(shop)["orders"], answers


def revenue_per_genre_sql(
    engine: sa.Engine, *, with_quantity: bool = True, without_cancelled: bool = True
) -> list[tuple[str, int]]:
    """``[(genre, revenue in cents)]``, highest first, by SQL's GROUP BY (the checker's reference).

    The keyword arguments give the wrong variants the checker recognises in a student's answer.
    """
    amount = "l.quantity * l.unit_price_cents" if with_quantity else "l.unit_price_cents"
    where = "WHERE o.status <> 'cancelled'" if without_cancelled else ""
    query = f"""
        SELECT b.genre, SUM({amount}) AS revenue_cents
        FROM order_lines l JOIN books b ON b.id = l.book_id JOIN orders o ON o.id = l.order_id
        {where}
        GROUP BY b.genre
        ORDER BY revenue_cents DESC, b.genre
    """
    with engine.connect() as conn:
        return [(genre, int(revenue)) for genre, revenue in conn.exec_driver_sql(query)]


def _validate_pipeline(pipeline: object) -> list[dict]:
    if isinstance(pipeline, dict):
        raise Hint("A pipeline is a list of stages: put your stage dicts inside [ ... ].")
    pipeline = expect_type(pipeline, list, "a list of stages such as [{'$match': ...}, {'$group': ...}]")
    if not pipeline:
        raise Hint("The pipeline is empty: add stages such as $match, $unwind, $group and $sort.")
    for number, stage in enumerate(pipeline, start=1):
        if not isinstance(stage, dict) or len(stage) != 1:
            raise Hint(
                f"Stage {number} should be a dict with exactly one key, such as {{'$unwind': '$lines'}}; "
                f"got {_short(stage)}."
            )
        (operator,) = stage
        if not isinstance(operator, str) or not operator.startswith("$"):
            raise Hint(f"Stage {number} should start with an operator such as '$group', not {operator!r}.")
    return pipeline


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_UNWIND_HINT = (
    "You grouped whole orders, whose lines field is an array: add {'$unwind': '$lines'} "
    "before $group so that each line becomes a document of its own."
)


def _run(pipeline: list[dict], orders: list[dict]) -> list[Any]:
    collection: Any = mongomock.MongoClient().shop.orders
    collection.insert_many(copy.deepcopy(orders))
    try:
        return list(collection.aggregate(copy.deepcopy(pipeline)))
    except NotImplementedError as exc:
        first_sentence = str(exc).split(". ")[0].rstrip(".")
        raise Hint(
            f"mongomock cannot run this pipeline ({first_sentence}); use $match, $unwind, $group, $sort."
        ) from None
    except (pymongo.errors.PyMongoError, ValueError, KeyError, TypeError, AssertionError) as exc:
        # mongomock reports some mistakes with a bare KeyError or AssertionError
        if not any("$unwind" in stage for stage in pipeline):
            raise Hint(_UNWIND_HINT) from None
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)  # no quotes
        detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        if len(detail) > 200:
            detail = detail[:199] + "…"
        advice = " Every $group needs an _id: the field to group by." if isinstance(exc, KeyError) else ""
        raise Hint(f"The database rejected the pipeline: {detail}.{advice}") from None


def _as_pairs(result: list[Any]) -> list[tuple[Any, Any]]:
    pairs = []
    for document in result:
        if not isinstance(document, dict):
            raise Hint(f"The pipeline returned {_short(document)}; expected documents.")
        if "revenue_cents" not in document:
            raise Hint(
                f"A result document is {_short(document)}: name the total revenue_cents, "
                "e.g. {'$group': {'_id': ..., 'revenue_cents': {'$sum': ...}}}."
            )
        genre = document.get("genre", document.get("_id"))
        pairs.append((genre, document["revenue_cents"]))
    return pairs


_LINE_FIELDS = "$lines.quantity, $lines.unit_price_cents and $lines.genre"


def _stages(pipeline: list[dict], operator: str) -> list[int]:
    """The positions of the stages with this operator."""
    return [number for number, stage in enumerate(pipeline) if operator in stage]


def _accumulator(pipeline: list[dict]) -> str | None:
    """The operator that computes revenue_cents in the (first) $group stage, e.g. '$sum'."""
    for number in _stages(pipeline, "$group"):
        spec = pipeline[number]["$group"]
        total = spec.get("revenue_cents") if isinstance(spec, dict) else None
        if isinstance(total, dict) and len(total) == 1:
            return next(iter(total))
    return None


@checker("Exercise 2: revenue per genre", expects="a list of aggregation stages (dicts)")
def check_revenue_pipeline(pipeline: list[dict]) -> str:
    pipeline = _validate_pipeline(pipeline)
    orders, answers = _check_data()
    pairs = _as_pairs(_run(pipeline, orders))
    expected = answers[(True, True)]
    if pairs == expected:
        return (
            f"Right: the same {len(expected)} genres and totals as SQL's GROUP BY, in the same order: "
            "one document per line, then a $sum of quantity × unit price per genre. (A $match placed "
            "first also leaves $unwind less to do.)"
        )
    _diagnose(pipeline, [(_hashable(genre), revenue) for genre, revenue in pairs], expected, answers, orders)
    raise Hint(f"Your pipeline returns {len(pairs)} groups, SQL {len(expected)}: one per genre is expected.")


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, type(None))) else repr(value)


def _orders_kept(pipeline: list[dict], orders: list[dict]) -> int | None:
    """How many orders the pipeline's $match stages keep, if they all come before any $group."""
    matches, groups = _stages(pipeline, "$match"), _stages(pipeline, "$group")
    if not matches or (groups and max(matches) > min(groups)):
        return None
    kept = _run([pipeline[number] for number in matches], orders)
    return len({document.get("_id") for document in kept if isinstance(document, dict)})


def _diagnose(
    pipeline: list[dict],
    pairs: list[tuple[Any, Any]],
    expected: list[tuple[str, int]],
    answers: dict[tuple[bool, bool], list[tuple[str, int]]],
    orders: list[dict],
) -> None:
    """Raise the Hint that names the mistake behind a wrong result."""
    unwinds = _stages(pipeline, "$unwind")
    if any(isinstance(genre, list) for genre, _ in pairs) or (pairs and not unwinds and all(r == 0 for _, r in pairs)):
        raise Hint(_UNWIND_HINT)
    if pairs and all(revenue in (0, None) for _, revenue in pairs):
        raise Hint(
            "Every total is 0: $sum and $multiply treat a missing field as nothing, without an error, so a "
            f"misspelt field name adds up to 0. After $unwind a line's fields are {_LINE_FIELDS}."
        )
    if any(genre is None for genre, _ in pairs) and len(pairs) == 1:
        raise Hint(
            "Everything landed in one group, whose _id is null: the field you group by does not exist. "
            "Group by the line's genre, '_id': '$lines.genre'."
        )
    operator = _accumulator(pipeline)
    if operator is not None and operator != "$sum":
        raise Hint(f"Revenue is a total: add the lines up with $sum, not {operator}.")
    if sorted(pairs, key=repr) == sorted(expected, key=repr):
        raise Hint("The totals are right but not in order: end with {'$sort': {'revenue_cents': -1}}.")

    def same(answer: list[tuple[str, int]]) -> bool:
        return sorted(pairs, key=repr) == sorted(answer, key=repr)

    if same(answers[(False, True)]):
        raise Hint(
            "Each line counts its price once: multiply it by the quantity, "
            "{'$multiply': ['$lines.quantity', '$lines.unit_price_cents']}."
        )
    if same(answers[(True, False)]):
        matches, groups = _stages(pipeline, "$match"), _stages(pipeline, "$group")
        if matches and groups and min(matches) > min(groups):
            raise Hint(
                "Your $match comes after $group, where the documents are genres and have no status any "
                "more, so it removes nothing: filter the orders first."
            )
        if matches:
            raise Hint(
                "Your $match removes nothing: the cancelled orders still count. Compare the field 'status' "
                "with the exact value 'cancelled' (lower case): {'$match': {'status': {'$ne': 'cancelled'}}}."
            )
        raise Hint("Cancelled orders earned nothing: start with {'$match': {'status': {'$ne': 'cancelled'}}}.")
    if same(answers[(False, False)]):
        raise Hint(
            "Two things: multiply each line's price by its quantity, and leave out cancelled orders "
            "with a $match stage first."
        )
    genres = {genre for genre, _ in expected}
    if {genre for genre, _ in pairs} != genres:
        strangers = [genre for genre, _ in pairs if genre not in genres]
        if strangers:
            raise Hint(
                f"Your pipeline returns {len(pairs)} groups, such as {_short(strangers[0])}, SQL {len(expected)} "
                "genres: group by the line's genre, '_id': '$lines.genre'."
            )
        raise Hint(
            f"Your pipeline returns {len(pairs)} of the {len(expected)} genres: every genre with a sale "
            "belongs in the answer (no $limit)."
        )
    yours = {str(genre): revenue for genre, revenue in pairs}
    right = dict(expected)
    if all(isinstance(revenue, (int, float)) for revenue in yours.values()):
        if all(abs(yours[genre] * 100 - right[genre]) < 1 for genre in right):
            raise Hint("Those are euros: keep the revenue in cents, without dividing by 100.")
    kept = _orders_kept(pipeline, orders)
    not_cancelled = sum(1 for order in orders if order.get("status") != "cancelled")
    if kept is not None and kept < not_cancelled:
        raise Hint(
            f"Your $match keeps {kept} orders of the {not_cancelled} that are not cancelled: it leaves out "
            "more than the cancelled ones. Pending, paid, shipped and delivered orders all count."
        )
    if any("$add" in repr(stage) for stage in pipeline):
        raise Hint("A line earns quantity × unit price: {'$multiply': [...]}, not $add.")
    for genre, revenue in expected:
        if yours.get(genre) != revenue:
            raise Hint(
                f"SQL says {genre} earned {revenue} cents; your pipeline says {yours.get(genre)!r}. "
                "Group by '$lines.genre' and sum quantity × unit price."
            )


# --- exercise 3: a rename that must reach every copy ------------------------------------------

NEW_TITLE = "A Title Nobody Had Before"


def _rename_fixture() -> tuple[list[dict], list[dict], int]:
    """The checker's books and orders, and the book to rename: the one in the most orders."""
    shop = bookshop_rows(CHECK_ORDERS, CHECK_SEED)
    documents = to_documents(shop)
    counts: dict[int, int] = {}
    for order in documents["orders"]:
        for line in order["lines"]:
            counts[line["book_id"]] = counts.get(line["book_id"], 0) + 1
    book_id = max(counts, key=lambda book: (counts[book], -book))
    return documents["books"], documents["orders"], book_id


def _expected_after_rename(books: list[dict], orders: list[dict], book_id: int) -> tuple[list[dict], list[dict]]:
    books, orders = copy.deepcopy(books), copy.deepcopy(orders)
    for book in books:
        if book["_id"] == book_id:
            book["title"] = NEW_TITLE
    for order in orders:
        for line in order["lines"]:
            if line["book_id"] == book_id:
                line["title"] = NEW_TITLE
    return books, orders


@checker("Exercise 3: rename a book everywhere", expects="a function rename_book(db, book_id, title)")
def check_rename_book(rename_book: Any) -> str:
    if not callable(rename_book):
        raise Hint("rename_book should be a function, e.g. `def rename_book(db, book_id, title): ...`.")
    books, orders, book_id = _rename_fixture()
    db = CountingDatabase(mongomock.MongoClient().shop)
    db.books.insert_many(copy.deepcopy(books))
    db.orders.insert_many(copy.deepcopy(orders))
    db.reset()
    try:
        rename_book(db, book_id, NEW_TITLE)
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        if not isinstance(exc, NotImplementedError) and not any("mongomock" in f.filename for f in frames[-1:]):
            raise  # the student's own code failed: the checker names the exception
        first_sentence = str(exc).split(". ")[0].rstrip(".")
        if "$ operators" in first_sentence:
            raise Hint(
                f"The database refused an update ({first_sentence}): an update says what to change, "
                "{'$set': {'title': title}}, rather than sending the new document."
            ) from None
        raise Hint(
            f"mongomock could not run one of your calls ({type(exc).__name__}: {first_sentence}); it has no "
            "'$[]' and no array filters. An order lists each book on one line only, so the positional "
            "'lines.$.title' reaches the line that matched the filter."
        ) from None
    round_trips = db.reset().round_trips
    want_books, want_orders = _expected_after_rename(books, orders, book_id)
    got_books = {book["_id"]: book for book in db.books.collection.find()}
    got_orders = {order["_id"]: order for order in db.orders.collection.find()}
    book = got_books.get(book_id, {})
    if book.get("title") != NEW_TITLE:
        raise Hint(f"Book {book_id} itself still has the title {book.get('title')!r}: rename it in books too.")
    lost = sorted(set(want_books[0]) - set(book))
    if lost:
        raise Hint(
            f"Book {book_id} lost its fields {lost}: replace_one (or an update without $set) swaps the "
            "whole document for what you send. Change one field with {'$set': {'title': title}}."
        )
    with_book = [order for order in want_orders if any(line["book_id"] == book_id for line in order["lines"])]
    renamed = [
        order
        for order in with_book
        if all(line["title"] == NEW_TITLE for line in got_orders[order["_id"]]["lines"] if line["book_id"] == book_id)
    ]
    if not renamed:
        raise Hint(
            f"Book {book_id} is copied into the lines of {len(with_book)} orders, and none of them shows the new "
            "title: update the orders too, filtering on 'lines.book_id' and setting 'lines.$.title'."
        )
    if len(renamed) < len(with_book):
        raise Hint(
            f"Only {len(renamed)} of the {len(with_book)} orders with book {book_id} show the new title; the others "
            "still show the old one. update_one changes the first matching document: use update_many."
        )
    wrong_lines = sum(
        1
        for order in got_orders.values()
        for line in order.get("lines", [])
        if line.get("book_id") != book_id and line.get("title") == NEW_TITLE
    )
    if wrong_lines:
        raise Hint(
            f"{wrong_lines} lines of *other* books now carry the new title too: 'lines.$[].title' sets every "
            "line of the matched orders. 'lines.$.title' sets only the line that matched the filter."
        )
    if [got_books.get(b["_id"]) for b in want_books] != want_books:
        raise Hint("Other books changed too: filter the books update on this book's _id.")
    if [got_orders.get(o["_id"]) for o in want_orders] != want_orders:
        raise Hint("Other fields of the orders changed: set only the title of the matching lines.")
    loop = " (one update_many reaches every order in a single round trip)" if round_trips > 2 else ""
    return (
        f"Right: the book and its copies in all {len(with_book)} orders renamed, in {round_trips} round "
        f"trip{'s' if round_trips != 1 else ''}{loop}. That is the price of embedding a copy: cheap to read, "
        "one more write on every change. Copy what rarely changes (a title); reference what often does."
    )


# --- predict, then run: what an embedded copy says after a rename -----------------------------

PREDICT_TITLE = "A Title the Orders Never Saw"


def copies_after_rename(shop: Bookshop, book_id: int) -> tuple[int, int]:
    """Rename `book_id` in ``books`` alone, as the notebook does, on a fresh mongomock copy of `shop`.

    Returns ``(orders that contain the book, orders whose line for it shows the new title)``: the
    truth the prediction is judged against, found by running the rename rather than remembered.
    """
    documents = to_documents(shop)
    db: Any = mongomock.MongoClient().shop
    db.books.insert_many(documents["books"])
    db.orders.insert_many(documents["orders"])
    db.books.update_one({"_id": book_id}, {"$set": {"title": PREDICT_TITLE}})
    if db.books.find_one({"_id": book_id}, {"title": 1}) != {"_id": book_id, "title": PREDICT_TITLE}:
        raise RuntimeError(f"book {book_id} was not renamed: there is no such book")
    with_book = db.orders.count_documents({"lines.book_id": book_id})
    showing_new = db.orders.count_documents({"lines": {"$elemMatch": {"book_id": book_id, "title": PREDICT_TITLE}}})
    return with_book, showing_new


@checker("Predict, then run: a renamed book's copies", expects="a whole number of orders, such as 3")
def check_copy_prediction(predicted: int, shop: Bookshop, book_id: int) -> str:
    predicted = int(expect_type(predicted, (numbers.Integral,), "a whole number of orders, such as 3"))
    with_book, showing_new = copies_after_rename(shop, book_id)
    if with_book == 0:
        raise RuntimeError(f"book {book_id} is in no order: nothing to predict")
    if predicted == showing_new:
        return (
            f"Right: {showing_new} of the {with_book} orders. An embedded copy is a snapshot, written when "
            "the order was stored; nothing links it back to the book. That is what an invoice needs (the "
            "title it was sold under), and it is why a rename that must reach the copies has to update "
            "them too (Exercise 3)."
        )
    if not 0 <= predicted <= with_book:
        raise Hint(
            f"{predicted} cannot be: {with_book} orders contain book {book_id}, so the answer is 0 to {with_book}."
        )
    what_happened = (
        f"Run just now on a fresh copy of the shop: the book document has the new title, and "
        f"{showing_new} of the {with_book} orders show it."
    )
    if predicted == with_book:
        raise Hint(
            f"{what_happened} An order does not point at the book as a SQL join would: each line holds its "
            "own copy of the title, written when the order was stored. The update changed the one document "
            "it was sent to, in books; the copies are other documents."
        )
    if predicted == 1:
        raise Hint(
            f"{what_happened} update_one did change exactly 1 document, but that document is the book in "
            "books, not an order: the orders each hold their own copy of the title, which nothing updated."
        )
    raise Hint(
        f"{what_happened} An update changes only the documents its filter matches in the collection it is "
        "sent to, here the book; the copies in the orders are separate documents that nothing updated."
    )
