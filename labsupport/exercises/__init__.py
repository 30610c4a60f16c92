"""The checkers of each notebook's "Your turn" exercises, one module per notebook.

They are built on `labsupport.checks`; a notebook imports its own, e.g.
``from labsupport.exercises.start_here import check_prediction``.
"""
