"""Lesson 13-deployment: the deployed shop, its processes, a database outage, the linters, the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l13_deployment import ...``.
`shop` is the app as a process manager runs it (settings from the environment, ``/healthz`` and
``/readyz``), `processes` runs the image's command as child processes on 127.0.0.1 and stops them,
`outage` takes a database away and back, `linters` holds the Dockerfile and workflow and runs
hadolint; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l13_deployment.checkers import (
    check_fixed_dockerfile,
    check_outage_prediction,
    check_readiness,
    check_timeout_setting,
)
from labsupport.lessons.l13_deployment.linters import hadolint, lesson_file, show_file
from labsupport.lessons.l13_deployment.outage import DatabaseOutage
from labsupport.lessons.l13_deployment.processes import image_command, requests_per_second, start_shop, stop_processes
from labsupport.lessons.l13_deployment.shop import ShopSettings, payments

__all__ = [
    "DatabaseOutage",
    "ShopSettings",
    "check_fixed_dockerfile",
    "check_outage_prediction",
    "check_readiness",
    "check_timeout_setting",
    "hadolint",
    "image_command",
    "lesson_file",
    "payments",
    "requests_per_second",
    "show_file",
    "start_shop",
    "stop_processes",
]
