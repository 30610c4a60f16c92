"""Lesson 05-nosql: the bookshop as documents, round trips counted, and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l05_nosql import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l05_nosql.checkers import (
    check_blog_model,
    check_copy_prediction,
    check_rename_book,
    check_revenue_pipeline,
)
from labsupport.lessons.l05_nosql.documents import (
    MAX_DOCUMENT_BYTES,
    CountingDatabase,
    document_size,
    load_documents,
    to_documents,
    to_rows,
)

__all__ = [
    "CountingDatabase",
    "MAX_DOCUMENT_BYTES",
    "check_blog_model",
    "check_copy_prediction",
    "check_rename_book",
    "check_revenue_pipeline",
    "document_size",
    "load_documents",
    "to_documents",
    "to_rows",
]
