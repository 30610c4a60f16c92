"""One package per notebook: ``lessons.l07_indexing`` holds what 07-indexing needs beyond the platform.

Each lesson package exports, in its ``__all__``, exactly the names its notebook imports; its
modules hold that lesson's machinery and its ``checkers`` module the exercises' checkers. A lesson
imports the platform (``labsupport``'s own modules) and, at most, earlier lessons; the platform
never imports a lesson. Adding notebook NN means adding ``lNN_topic/`` here, ``tests/lessons/lNN_topic/``
and the notebook.
"""
