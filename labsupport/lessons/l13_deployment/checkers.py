"""Checkers for the exercises of 13-deployment.

- `check_outage_prediction`: what ``/healthz`` and ``/readyz`` answer while the database is down and
  once it is back. The checker takes the database away again (`DatabaseOutage`) and asks.
- `check_timeout_setting` (exercise 1): a settings class with a validated ``graceful_timeout_s``.
  The checker builds it from several environments (right, wrong, missing values) and reads what
  comes out or which error names which setting.
- `check_readiness` (exercise 2): a ``/readyz`` route. The checker mounts it on an app with a fresh
  database of its own (`sql_engine()`, so PostgreSQL when the notebook runs there), serves it, and
  asks before the shop's tables exist, then while the database is up, down, back, and down again.
- `check_fixed_dockerfile` (exercise 3): a Dockerfile with the problems of ``broken.Dockerfile``
  fixed: hadolint finds nothing above "info", and the rules hadolint does not know hold too (a
  user that is not root, a pinned base, a HEALTHCHECK on liveness, no configuration or secret
  baked in, the shop's command in exec form on 0.0.0.0).
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pydantic
from fastapi import FastAPI
from pydantic_settings import BaseSettings

from labsupport.checks import Hint, NotAttempted, checker, expect_type, is_placeholder
from labsupport.databases import sql_engine
from labsupport.lessons.l13_deployment.linters import hadolint
from labsupport.lessons.l13_deployment.outage import DatabaseOutage
from labsupport.schema import create_tables
from labsupport.servers import Server, serve

__all__ = ["check_fixed_dockerfile", "check_outage_prediction", "check_readiness", "check_timeout_setting"]

_names = itertools.count()

# --- predict, then run: health vs readiness while the database is down ----------------------------

PREDICTION_KEYS = ("/healthz while down", "/readyz while down", "/readyz when back")


def _status(client: httpx.Client, path: str) -> int:
    try:
        return client.get(path, timeout=5).status_code
    except httpx.TimeoutException:
        raise Hint(f"{path} did not answer within 5 s: a probe must answer quickly, up or down.") from None


@checker("Predict, then run: health and readiness while the database is down", expects="a dict of three status codes")
def check_outage_prediction(predicted: Any, server: Server, outage: DatabaseOutage) -> str:
    predicted = expect_type(predicted, dict, "a dict with the three keys of the skeleton")
    if set(predicted) != set(PREDICTION_KEYS):
        raise Hint(f"Use exactly these keys: {', '.join(map(repr, PREDICTION_KEYS))}.")
    for key in PREDICTION_KEYS:
        if predicted[key] is ...:
            raise NotAttempted()
        expect_type(predicted[key], int, f"a status code (an int) for {key!r}")
    with outage:
        truth = {"/healthz while down": _status(server.client, "/healthz"),
                 "/readyz while down": _status(server.client, "/readyz")}
    truth["/readyz when back"] = _status(server.client, "/readyz")
    if predicted["/healthz while down"] != truth["/healthz while down"]:
        raise Hint(
            f"/healthz answered {truth['/healthz while down']} while the database was down. Liveness asks only "
            "'is this process alive?', and it does not touch the database: restarting the process would not "
            "bring the database back, so health must not depend on it."
        )
    if predicted["/readyz while down"] != truth["/readyz while down"]:
        raise Hint(
            f"/readyz answered {truth['/readyz while down']} while the database was down: it runs SELECT 1, "
            "catches the database's error and answers 503 Service Unavailable (not a crash, not 200), so the "
            "load balancer stops sending traffic here until it passes again."
        )
    if predicted["/readyz when back"] != truth["/readyz when back"]:
        raise Hint(
            f"/readyz answered {truth['/readyz when back']} once the database was back, with no restart: each "
            "probe opens (or checks) a connection anew, so readiness recovers by itself. That is why a "
            "not-ready process is left running rather than killed."
        )
    return ("Right: liveness stays 200 (the process is fine), readiness follows the database down and back "
            "up, with no restart.")


# --- exercise 1: a validated setting --------------------------------------------------------------

_BASE_ENV = {"BOOKSHOP_DATABASE_URL": "sqlite:///check.db", "BOOKSHOP_SECRET_KEY": "k" * 40}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Only `values` among the BOOKSHOP_* variables while the block runs; the old ones restored."""
    saved = {name: value for name, value in os.environ.items() if name.upper().startswith("BOOKSHOP_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name in values:
            os.environ.pop(name, None)
        os.environ.update(saved)


def _build(settings_class: type, extra: dict[str, str], *, base: dict[str, str] | None = None) -> Any:
    with _environment({**(_BASE_ENV if base is None else base), **extra}):
        return settings_class(_env_file=None)  # never a .env file of the folder the notebook runs in


def _error_names(error: pydantic.ValidationError) -> set[str]:
    return {str(part) for item in error.errors() for part in item["loc"]}


@checker("Exercise 1: a graceful-shutdown timeout, validated", expects="a settings class")
def check_timeout_setting(settings_class: Any) -> str:
    if not (inspect.isclass(settings_class) and issubclass(settings_class, BaseSettings)):
        raise Hint("Pass the class itself (a subclass of ShopSettings), not an instance or a function.")
    if "graceful_timeout_s" not in settings_class.model_fields:
        if set(settings_class.model_fields) <= {"database_url", "secret_key", "log_level", "cpu_rounds",
                                                "payment_delay_s"} and len(settings_class.model_fields) <= 5:
            raise NotAttempted()
        raise Hint("The setting must be the field graceful_timeout_s (read from BOOKSHOP_GRACEFUL_TIMEOUT_S).")
    try:
        default = _build(settings_class, {})
    except pydantic.ValidationError as exc:
        field = settings_class.model_fields["graceful_timeout_s"]
        if "graceful_timeout_s" in _error_names(exc) and not field.is_required():
            raise Hint(f"Your default, {field.default!r}, is refused by your own rules: pydantic-settings checks "
                       "defaults too. The default is 20.") from None
        raise Hint(f"With only the required settings given, start-up failed on {sorted(_error_names(exc))}: "
                   "graceful_timeout_s needs a default.") from None
    value = default.graceful_timeout_s
    if value != 20 or type(value) is not int:
        raise Hint(f"Without BOOKSHOP_GRACEFUL_TIMEOUT_S the setting is {value!r}; the default is the whole number 20.")
    for text, expected in (("1", 1), ("120", 120), ("45", 45), (" 7 ", 7)):
        try:
            got = _build(settings_class, {"BOOKSHOP_GRACEFUL_TIMEOUT_S": text}).graceful_timeout_s
        except pydantic.ValidationError:
            raise Hint(f"BOOKSHOP_GRACEFUL_TIMEOUT_S={text.strip()} was refused, but {expected} s is allowed "
                       "(1 to 120, both included).") from None
        if got != expected or type(got) is not int:
            raise Hint(f"BOOKSHOP_GRACEFUL_TIMEOUT_S={text.strip()} gave {got!r}: the setting must come out as "
                       f"the whole number {expected}, unchanged.")
    for text, why in (("0", "0 s would cut every request in flight"), ("121", "more than 120 s"),
                      ("-5", "a negative time"), ("2.5", "not a whole number of seconds"),
                      ("twenty", "not a number"), ("", "empty")):
        try:
            got = _build(settings_class, {"BOOKSHOP_GRACEFUL_TIMEOUT_S": text}).graceful_timeout_s
        except pydantic.ValidationError as exc:
            if "graceful_timeout_s" not in _error_names(exc):
                raise Hint(f"BOOKSHOP_GRACEFUL_TIMEOUT_S={text!r} was refused, but the error does not name "
                           "graceful_timeout_s: whoever deploys must see which setting is wrong.") from None
            continue
        except (ValueError, TypeError) as exc:
            raise Hint(
                f"BOOKSHOP_GRACEFUL_TIMEOUT_S={text!r} raised {type(exc).__name__} outside pydantic's validation: "
                "use Field(...) bounds or a field_validator, so the error names the setting."
            ) from None
        changed = text.strip().lstrip("-").isdigit() and got != int(text)
        raise Hint(
            f"BOOKSHOP_GRACEFUL_TIMEOUT_S={text!r} ({why}) was accepted as {got!r}: it must stop start-up with an "
            "error naming the setting."
            + (" Changing it into an allowed value hides the mistake from whoever set it." if changed else "")
        )
    for missing in _BASE_ENV:
        base = {name: value for name, value in _BASE_ENV.items() if name != missing}
        try:
            _build(settings_class, {}, base=base)
        except pydantic.ValidationError:
            continue
        raise Hint(f"Without {missing} your settings still start: you gave a required setting a default. A "
                   "default that only fits your laptop is how an app 'works on my machine' and nowhere else.")
    return ("Right: 20 s unless BOOKSHOP_GRACEFUL_TIMEOUT_S says otherwise, and anything that is not a whole "
            "number from 1 to 120 stops start-up with an error naming graceful_timeout_s.")


# --- exercise 2: a readiness check ----------------------------------------------------------------


def _readiness_app(readyz: Callable[..., Any]) -> tuple[FastAPI, DatabaseOutage]:
    app = FastAPI()
    app.state.engine = sql_engine()
    app.add_api_route("/readyz", readyz, methods=["GET"])
    return app, DatabaseOutage(app.state.engine)


def _ask(client: httpx.Client, when: str) -> httpx.Response:
    try:
        return client.get("/readyz", timeout=5)
    except httpx.TimeoutException:
        raise Hint(f"/readyz did not answer within 5 s {when}. A probe that hangs is as bad as one that "
                   "fails: keep the check to one quick query.") from None


@checker("Exercise 2: a readiness check that follows the database", expects="a route function")
def check_readiness(readyz: Any) -> str:
    if not callable(readyz):
        raise Hint("Pass the route function itself, not what it returns.")
    if is_placeholder(readyz):
        raise NotAttempted()
    app, outage = _readiness_app(readyz)
    server = serve(app, name=f"l13-check-readyz-{next(_names)}")
    try:
        empty = _ask(server.client, "while the database had no tables yet")
        create_tables(app.state.engine)
        up = _ask(server.client, "while the database was up")
        with outage:
            down = _ask(server.client, "while the database was down")
        back = _ask(server.client, "once the database was back")
        with outage:
            again = _ask(server.client, "when the database went down a second time")
    finally:
        server.stop()
        outage.close()
        app.state.engine.dispose()
    if {r.status_code for r in (empty, up, down, back, again)} == {200} and down.text != up.text:
        raise Hint(f"While the database was down /readyz said {down.text[:80]!r}, with status 200. Probes read "
                   "the status code, not the body: answer 503 Service Unavailable.")
    if {r.status_code for r in (empty, up, down, back, again)} == {200}:
        raise Hint("/readyz answered 200 whatever the database did (no tables, up, down). It must ask the app's "
                   "own database, request.app.state.engine, with a real query, every time it is asked.")
    if empty.status_code == 200:
        raise Hint("A new database with none of the shop's tables (migrations not run yet) got 200. The app "
                   "cannot serve from it: check for the books table too, e.g. SELECT 1 FROM books LIMIT 1.")
    if empty.status_code != 503:
        raise Hint(f"A database without the shop's tables got {empty.status_code}: the error must become 503, "
                   "not escape as a crash.")
    if up.status_code == 500:
        raise Hint("/readyz crashed (500) while the database was up: look at what your function raises.")
    if up.status_code != 200:
        raise Hint(f"/readyz answered {up.status_code} while the database was up; ready is 200.")
    if down.status_code == 200:
        body = down.text[:80]
        if re.search(r"false|not|down|unavailable", body, re.IGNORECASE):
            raise Hint(f"While the database was down /readyz said {body!r} with status 200. Probes read the "
                       "status code, not the body: answer 503.")
        raise Hint("While the database was down /readyz still answered 200. It must ask the database itself "
                   "(a quick SELECT 1 on request.app.state.engine, the app's own engine), every time it is asked.")
    if down.status_code == 500:
        raise Hint("While the database was down /readyz crashed with 500: the database's error escaped. Catch "
                   "SQLAlchemy's error (sqlalchemy.exc.SQLAlchemyError; the driver's own is wrapped in it) and "
                   "answer 503.")
    if down.status_code != 503:
        raise Hint(f"While the database was down /readyz answered {down.status_code}; 'cannot serve right now, "
                   "try again later' is 503 Service Unavailable.")
    if back.status_code != 200:
        raise Hint(f"Once the database was back /readyz still answered {back.status_code}. Readiness must recover "
                   "by itself, without a restart: check on every request, and keep no 'it failed once' flag.")
    if again.status_code != 503:
        raise Hint(f"When the database went down a second time /readyz answered {again.status_code}: a result "
                   "remembered from an earlier check is not a check.")
    return ("Right: 200 while the database answers, 503 while it does not, 200 again as soon as it is back. "
            "Why it worked: the probe asks the database each time, and the error becomes a status, not a crash.")


# --- exercise 3: fix a Dockerfile -----------------------------------------------------------------

_APP = "labsupport.lessons.l13_deployment.shop:create_app"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction; continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    return instructions[starts[-1]:] if starts else []


def _exec_form(arguments: str, what: str) -> list[str]:
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError:
        argv = None
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        raise Hint(f"Write {what} in exec form, a JSON list: [\"uvicorn\", \"...\"]. In shell form Docker runs "
                   "/bin/sh -c, and a shell that stays in front does not pass SIGTERM on: no graceful shutdown.")
    return argv


@checker("Exercise 3: fix the Dockerfile", expects="the Dockerfile as a string")
def check_fixed_dockerfile(text: Any) -> str:
    text = expect_type(text, str, "the fixed Dockerfile as a string")
    if "hadolint" in text.lower():
        raise Hint("Fix what hadolint reports rather than silencing it: no '# hadolint ignore' comments.")
    instructions = _instructions(text)
    if not instructions or instructions[0][0] not in {"FROM", "ARG"}:
        raise Hint("A Dockerfile starts with FROM (the base image).")
    problems = [f for f in hadolint(text) if f["level"] in {"error", "warning"}]
    if problems:
        first = problems[0]
        raise Hint(f"hadolint still reports {len(problems)} problem(s); the first, line {first['line']}: "
                   f"{first['code']} {first['message']}")
    stages = {arguments.split()[-1].lower() for word, arguments in instructions
              if word == "FROM" and " as " in arguments.lower()}
    for word, arguments in instructions:
        if word == "FROM":
            image = [a for a in arguments.split() if not a.startswith("--")][0]
            if image.lower() in stages:
                continue
            tag = image.split("@")[0].rpartition(":")[2] if ":" in image.split("@")[0].rpartition("/")[2] else ""
            if "@sha256:" not in image and not re.search(r"\d+\.\d+", tag):
                raise Hint(f"FROM {image}: pin the base image to a version (python:3.12.8-slim-bookworm, or a "
                           "digest), so that every build starts from the same thing.")
        if word in {"ENV", "ARG"} and re.search(r"BOOKSHOP_|SECRET|PASSWORD|DATABASE_URL", arguments, re.I):
            raise Hint(f"{word} {arguments.split('=')[0].split()[0]}: configuration and secrets come from the "
                       "environment the container is started with, not from the image (anyone who pulls the image "
                       "can read them, and the same image must run everywhere).")
        if word in {"COPY", "ADD"}:
            sources = [a for a in arguments.split() if not a.startswith("--")][:-1]
            if any(s in {".", "./", "*"} or ".env" in s for s in sources):
                raise Hint(f"{word} {arguments}: copying the whole folder copies your .env (and .git) into the "
                           "image. Copy what the image needs, by name.")
    final = _final_stage(instructions)
    users = [arguments.split(":")[0].strip() for word, arguments in final if word == "USER"]
    if not users or users[-1] in {"root", "0"}:
        raise Hint("The container still runs as root: create a user (useradd) and switch to it with USER before "
                   "CMD. A break-in through the app would otherwise own the whole container.")
    checks = [arguments for word, arguments in final if word == "HEALTHCHECK"]
    if not checks or checks[-1].upper().startswith("NONE"):
        raise Hint("The image needs a HEALTHCHECK, so Docker can tell a hung container from a working one.")
    if "/healthz" not in checks[-1]:
        raise Hint("The HEALTHCHECK must probe /healthz (liveness). An unhealthy container gets restarted, and "
                   "restarting the app does not bring a database back: /readyz is for the load balancer.")
    commands = [arguments for word, arguments in final if word == "CMD"]
    if not commands:
        raise Hint("The final stage needs a CMD: the command the container runs.")
    argv = _exec_form(commands[-1], "CMD")
    program = argv[:3] if argv[:3] == ["python", "-m", "uvicorn"] else argv[:1]
    if program not in (["uvicorn"], ["python", "-m", "uvicorn"]) or _APP not in argv or "--factory" not in argv:
        raise Hint(f"CMD must still run the shop: uvicorn {_APP} --factory, with its host and port.")
    host = argv[argv.index("--host") + 1] if "--host" in argv[:-1] else "127.0.0.1"
    if host != "0.0.0.0":
        raise Hint(f"CMD listens on {host}: inside a container that is the container's own loopback, which "
                   "nothing outside it can reach. A server in a container listens on 0.0.0.0 (the lab's "
                   "127.0.0.1 rule is for your machine).")
    return ("Right: hadolint finds nothing, the base is pinned, nothing secret is baked in, the process runs "
            "as a user that is not root, Docker probes liveness, and the server gets SIGTERM itself.")
