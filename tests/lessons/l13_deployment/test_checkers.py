"""Tests for labsupport.lessons.l13_deployment.checkers: each checker against its corpus of wrong answers
(what students write, and what gets past a careless check: each must fail with the hint for that mistake)
and of right answers (each must pass)."""

from __future__ import annotations

import functools
import sqlite3
import textwrap
from typing import Annotated

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, conint, field_validator

from labsupport import serve, sql_engine
from labsupport.lessons.l13_deployment.checkers import (
    check_fixed_dockerfile,
    check_outage_prediction,
    check_readiness,
    check_timeout_setting,
)
from labsupport.lessons.l13_deployment.linters import lesson_file
from labsupport.lessons.l13_deployment.outage import DatabaseOutage
from labsupport.lessons.l13_deployment.shop import ShopSettings
from lessons.corpus import assert_hint, ids

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(60)]


# --- predict: health and readiness while the database is down -------------------------------------


@pytest.fixture
def probes():
    """The notebook's two probes over a database of their own, served, with its outage."""
    engine = sql_engine()
    app = FastAPI()

    @app.get("/healthz")
    def healthz():
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz(response: Response):
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            response.status_code = 503
            return {"status": "not ready"}
        return {"status": "ready"}

    outage = DatabaseOutage(engine)
    yield serve(app, name="l13-test-probes"), outage
    outage.close()
    engine.dispose()


RIGHT = {"/healthz while down": 200, "/readyz while down": 503, "/readyz when back": 200}


def test_prediction_right_answer_passes(probes):
    """Mutation that failed this: the checker comparing /healthz with the /readyz truth."""
    result = check_outage_prediction(dict(RIGHT), *probes)
    assert result.passed, result
    assert "no restart" in result.message


WRONG_PREDICTIONS = [
    ("health = ready", {"/healthz while down": 503}, r"/healthz answered 200.*does not touch the database"),
    ("health crashes too", {"/healthz while down": 500}, r"/healthz answered 200"),
    ("readiness unaware", {"/readyz while down": 200}, r"/readyz answered 503 while the database was down"),
    ("readiness crashes", {"/readyz while down": 500}, r"catches the database's error and answers 503"),
    ("needs a restart", {"/readyz when back": 503}, r"once the database was back, with no restart"),
    ("keys renamed", {"healthz": 200}, r"Use exactly these keys"),
    ("status as text", {"/readyz while down": "503"}, r"status code \(an int\)"),
]


@pytest.mark.parametrize(("name", "change", "hint"), WRONG_PREDICTIONS, ids=ids(WRONG_PREDICTIONS))
def test_prediction_wrong_answers_get_their_hint(probes, name, change, hint):
    """Mutation that failed this: the /readyz-when-back comparison dropped (a restart prediction passed)."""
    predicted = {**RIGHT, **change}
    if "healthz" in change:
        predicted = change
    assert_hint(check_outage_prediction(predicted, *probes), hint)


def test_prediction_placeholder_is_not_attempted(probes):
    assert check_outage_prediction(..., *probes).status == "not attempted"
    assert check_outage_prediction({**RIGHT, "/readyz when back": ...}, *probes).status == "not attempted"


# --- exercise 1: a validated setting --------------------------------------------------------------


class RightField(ShopSettings):
    graceful_timeout_s: int = Field(default=20, ge=1, le=120)


class RightAnnotated(ShopSettings):
    graceful_timeout_s: Annotated[int, Field(gt=0, lt=121)] = 20


class RightConint(ShopSettings):
    graceful_timeout_s: conint(ge=1, le=120) = 20  # type: ignore[valid-type]


class RightValidator(ShopSettings):
    graceful_timeout_s: int = 20

    @field_validator("graceful_timeout_s")
    @classmethod
    def _in_range(cls, value: int) -> int:
        if not 1 <= value <= 120:
            raise ValueError("must be from 1 to 120 seconds")
        return value


@pytest.mark.parametrize("answer", [RightField, RightAnnotated, RightConint, RightValidator], ids=lambda c: c.__name__)
def test_setting_right_answers_pass(answer):
    """Mutation that failed this: the checker expecting 120 to be refused (`lt=120` semantics)."""
    result = check_timeout_setting(answer)
    assert result.passed, result


class NoBounds(ShopSettings):
    graceful_timeout_s: int = 20


class ZeroAllowed(ShopSettings):
    graceful_timeout_s: int = Field(default=20, ge=0, le=120)


class OffByOneTop(ShopSettings):
    graceful_timeout_s: int = Field(default=20, ge=1, lt=120)


class TopTooHigh(ShopSettings):
    graceful_timeout_s: int = Field(default=20, ge=1, le=121)


class FloatSeconds(ShopSettings):
    graceful_timeout_s: float = Field(default=20, ge=1, le=120)


class TextSeconds(ShopSettings):
    graceful_timeout_s: str = "20"


class WrongDefault(ShopSettings):
    graceful_timeout_s: int = Field(default=30, ge=1, le=120)


class InvalidDefault(ShopSettings):
    graceful_timeout_s: int = Field(default=0, ge=1, le=120)  # pydantic-settings validates defaults


class NoDefault(ShopSettings):
    graceful_timeout_s: int = Field(ge=1, le=120)


class Clamped(ShopSettings):
    graceful_timeout_s: int = 20

    @field_validator("graceful_timeout_s")
    @classmethod
    def _clamp(cls, value: int) -> int:
        return min(max(value, 1), 120)


class WrongName(ShopSettings):
    graceful_timeout: int = Field(default=20, ge=1, le=120)


class LaptopDefaults(ShopSettings):
    database_url: str = "sqlite:///shop.db"
    graceful_timeout_s: int = Field(default=20, ge=1, le=120)


class CheckedAfterwards(ShopSettings):
    graceful_timeout_s: int = 20

    def model_post_init(self, context):
        if not 1 <= self.graceful_timeout_s <= 120:
            raise ValueError("bad timeout")


WRONG_SETTINGS = [
    ("no bounds", NoBounds, r"='0'.*was accepted as 0: it must stop start-up"),
    ("zero allowed", ZeroAllowed, r"='0'.*was accepted as 0"),
    ("lt instead of le", OffByOneTop, r"=120 was refused"),
    ("121 allowed", TopTooHigh, r"='121'.*was accepted as 121"),
    ("float seconds", FloatSeconds, r"gave 1\.0|whole number"),
    ("text seconds", TextSeconds, r"is '20'|whole number 20"),
    ("default 30", WrongDefault, r"the setting is 30; the default is the whole number 20"),
    ("invalid default", InvalidDefault, r"Your default, 0, is refused by your own rules"),
    ("no default", NoDefault, r"graceful_timeout_s needs a default"),
    ("clamped", Clamped, r"was accepted as 1.*hides the mistake"),
    ("wrong name", WrongName, r"must be the field graceful_timeout_s"),
    ("laptop default for the database", LaptopDefaults, r"Without BOOKSHOP_DATABASE_URL.*works on my machine"),
    ("checked after validation", CheckedAfterwards, r"does not name graceful_timeout_s"),
    ("an instance", RightField(_env_file=None, database_url="sqlite://", secret_key="k" * 40),
     r"Pass the class itself"),
]


@pytest.mark.parametrize(("name", "answer", "hint"), WRONG_SETTINGS, ids=ids(WRONG_SETTINGS))
def test_setting_wrong_answers_get_their_hint(name, answer, hint):
    """Mutation that failed this: the list of refused values without "0" (no bounds then passed)."""
    assert_hint(check_timeout_setting(answer), hint)


def test_setting_stub_is_not_attempted_and_environment_is_restored(monkeypatch):
    class Stub(ShopSettings):
        """ShopSettings plus graceful_timeout_s."""

    monkeypatch.setenv("BOOKSHOP_LOG_LEVEL", "error")
    assert check_timeout_setting(Stub).status == "not attempted"
    assert check_timeout_setting(RightField).passed
    import os

    assert os.environ["BOOKSHOP_LOG_LEVEL"] == "error"
    assert "BOOKSHOP_GRACEFUL_TIMEOUT_S" not in os.environ


# --- exercise 2: readiness --------------------------------------------------------------------------


def ready_books(request: Request, response: Response):
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1 FROM books LIMIT 1"))
    except sa.exc.SQLAlchemyError:
        response.status_code = 503
        return {"status": "not ready"}
    return {"status": "ready"}


def ready_inspect(request: Request):
    try:
        if not sa.inspect(request.app.state.engine).has_table("books"):
            raise HTTPException(503, "no tables yet")
    except sa.exc.OperationalError:
        raise HTTPException(503, "database down") from None
    return {"status": "ready"}


def ready_json(request: Request):
    try:
        with request.app.state.engine.begin() as conn:
            conn.execute(sa.text("SELECT count(*) FROM books"))
    except sa.exc.DBAPIError:
        return JSONResponse({"ready": False}, status_code=503)
    return {"ready": True}


@pytest.mark.parametrize("answer", [ready_books, ready_inspect, ready_json], ids=lambda f: f.__name__)
def test_readiness_right_answers_pass(answer):
    """Mutation that failed this: the checker's outage left on after the 'down' step (back then failed)."""
    result = check_readiness(answer)
    assert result.passed, result


def always_ready():
    return {"status": "ready"}


def select_one_only(request: Request, response: Response):  # section 2's check: no tables still "ready"
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        response.status_code = 503
        return {"status": "not ready"}
    return {"status": "ready"}


@functools.cache
def other_engine():
    """A database of "my machine", with a books table, that the checker never takes down."""
    engine = sql_engine()
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE books (id INTEGER PRIMARY KEY)"))
    return engine


def asks_another_engine(response: Response):  # a global engine, not the app's
    try:
        with other_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1 FROM books"))
    except sa.exc.SQLAlchemyError:
        response.status_code = 503
    return {}


def says_false_with_200(request: Request):
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1 FROM books"))
    except sa.exc.SQLAlchemyError:
        return {"ready": False}
    return {"ready": True}


def driver_error_only(request: Request, response: Response):
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1 FROM books"))
    except sqlite3.OperationalError:  # SQLAlchemy wraps it: never caught
        response.status_code = 503
    return {}


def crash_is_the_answer(request: Request):
    with request.app.state.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1 FROM books"))
    return {"status": "ready"}


def answers_500(request: Request, response: Response):
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1 FROM books"))
    except sa.exc.SQLAlchemyError:
        response.status_code = 500
    return {}


STICKY = {"failed": False}


def remembers_failure(request: Request, response: Response):
    if not STICKY["failed"]:
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1 FROM books"))
            return {"status": "ready"}
        except sa.exc.SQLAlchemyError:
            STICKY["failed"] = True
    response.status_code = 503
    return {}


CACHE: dict[int, bool] = {}


def remembers_success(request: Request, response: Response):
    key = id(request.app)
    if not CACHE.get(key):
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1 FROM books"))
            CACHE[key] = True
        except sa.exc.SQLAlchemyError:
            response.status_code = 503
            return {}
    return {"status": "ready"}


def pool_status_only(request: Request):
    request.app.state.engine.pool.status()  # describes the pool; asks the database nothing
    return {"status": "ready"}


WRONG_READINESS = [
    ("always 200", always_ready, r"200 whatever the database did"),
    ("pool status only", pool_status_only, r"200 whatever the database did"),
    ("another engine", asks_another_engine, r"request\.app\.state\.engine"),
    ("SELECT 1 without the tables", select_one_only, r"none of the shop's tables.*got 200"),
    ("200 with a false body", says_false_with_200, r"with status 200\. Probes read the status code"),
    ("catches the driver's error", driver_error_only, r"must become 503, not escape as a crash"),
    ("lets it crash", crash_is_the_answer, r"must become 503, not escape as a crash"),
    ("500 on purpose", answers_500, r"got 500"),
    ("remembers a failure", remembers_failure, r"503 while the database was up"),
    ("remembers a success", remembers_success, r"still answered 200"),
    ("not a function", "readyz", r"route function itself"),
]


@pytest.mark.parametrize(("name", "answer", "hint"), WRONG_READINESS, ids=ids(WRONG_READINESS))
def test_readiness_wrong_answers_get_their_hint(name, answer, hint):
    """Mutation that failed this: the 'no tables yet' judgement dropped (select_one_only then passed)."""
    STICKY["failed"] = False
    assert_hint(check_readiness(answer), hint)


def test_readiness_stub_is_not_attempted():
    def ready_to_serve(request: Request, response: Response):
        """200 if the app's database answers and has the books table, else 503."""
        return ...

    assert check_readiness(ready_to_serve).status == "not attempted"


# --- exercise 3: fix the Dockerfile -----------------------------------------------------------------

HEALTH = ("HEALTHCHECK CMD [\"python\", \"-c\", \"import urllib.request; "
          "urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)\"]")
RUN = ('CMD ["uvicorn", "labsupport.lessons.l13_deployment.shop:create_app", "--factory", '
       '"--host", "0.0.0.0", "--port", "8000"]')
GOOD = textwrap.dedent(f"""\
    FROM python:3.12.8-slim-bookworm
    WORKDIR /app
    COPY pyproject.toml constraints.txt README.md ./
    COPY labsupport/ labsupport/
    COPY data/ data/
    RUN pip install --no-cache-dir --constraint constraints.txt . && useradd --uid 10001 shop
    USER 10001
    EXPOSE 8000
    {HEALTH}
    {RUN}
    """)


def test_good_dockerfile_variants_pass():
    """Mutation that failed this: the `@sha256:` digest no longer accepted as a pin (the digest-only variant failed)."""
    for text in (GOOD, lesson_file("Dockerfile").read_text(),
                 GOOD.replace("python:3.12.8-slim-bookworm", "python@sha256:" + "a" * 64),
                 GOOD.replace("USER 10001", "USER shop").replace('"uvicorn",', '"python", "-m", "uvicorn",')):
        result = check_fixed_dockerfile(text)
        assert result.passed, (result, text)


WRONG_DOCKERFILES = [
    ("the broken file as it is", lesson_file("broken.Dockerfile").read_text(), r"hadolint still reports"),
    ("hadolint silenced", "# hadolint ignore=DL3007\n" + GOOD, r"no '# hadolint ignore'"),
    ("latest", GOOD.replace("python:3.12.8-slim-bookworm", "python:latest"), r"hadolint still reports.*DL3007"),
    ("major version only", GOOD.replace("python:3.12.8-slim-bookworm", "python:3"), r"pin the base image"),
    ("no user", GOOD.replace("USER 10001\n", ""), r"still runs as root"),
    ("back to root", GOOD.replace("EXPOSE 8000", "USER root\nEXPOSE 8000"), r"still runs as root|DL3002"),
    ("user 0", GOOD.replace("USER 10001", "USER 0"), r"still runs as root|DL3002"),
    ("user only in the build stage", "FROM python:3.12.8-slim-bookworm AS build\nUSER 10001\n"
     + GOOD.replace("USER 10001\n", ""), r"still runs as root"),
    ("secret baked in", GOOD.replace("EXPOSE 8000", "ENV BOOKSHOP_SECRET_KEY=" + "x" * 40 + "\nEXPOSE 8000"),
     r"BOOKSHOP_SECRET_KEY|DL3064"),
    ("database url baked in", GOOD.replace("EXPOSE 8000", "ENV BOOKSHOP_DATABASE_URL=sqlite:///s.db\nEXPOSE 8000"),
     r"ENV BOOKSHOP_DATABASE_URL: configuration and secrets come from the environment"),
    ("whole folder copied", GOOD.replace("COPY data/ data/", "COPY . ."), r"copies your \.env"),
    (".env copied", GOOD.replace("COPY data/ data/", "COPY data/ .env data/"), r"copies your \.env"),
    ("no healthcheck", GOOD.replace(HEALTH + "\n", ""), r"needs a HEALTHCHECK"),
    ("healthcheck none", GOOD.replace(HEALTH, "HEALTHCHECK NONE"), r"needs a HEALTHCHECK"),
    ("healthcheck on readiness", GOOD.replace("/healthz", "/readyz"), r"must probe /healthz"),
    ("shell-form CMD", GOOD.replace(RUN, "CMD uvicorn labsupport.lessons.l13_deployment.shop:create_app --factory"
                                    " --host 0.0.0.0 --port 8000"), r"DL3025|exec form"),
    ("sh -c wrapper", GOOD.replace('["uvicorn",', '["sh", "-c", "uvicorn",'), r"must still run the shop"),
    ("loopback inside the container", GOOD.replace('"0.0.0.0"', '"127.0.0.1"'), r"listens on 127\.0\.0\.1"),
    ("no host at all", GOOD.replace('"--host", "0.0.0.0", ', ""), r"listens on 127\.0\.0\.1"),
    ("another app", GOOD.replace("shop:create_app", "shop:app"), r"must still run the shop"),
    ("no factory", GOOD.replace('"--factory", ', ""), r"must still run the shop"),
    ("no CMD", GOOD.replace(RUN + "\n", ""), r"needs a CMD"),
    ("not a Dockerfile", "uvicorn shop:app", r"starts with FROM"),
    ("not a string", ["FROM python"], r"as a string"),
]


@pytest.mark.parametrize(("name", "answer", "hint"), WRONG_DOCKERFILES, ids=ids(WRONG_DOCKERFILES))
def test_dockerfile_wrong_answers_get_their_hint(name, answer, hint):
    """Mutation that failed this: the USER check reading the first stage's USER instead of the final stage's."""
    assert_hint(check_fixed_dockerfile(answer), hint)


def test_dockerfile_placeholder_is_not_attempted():
    assert check_fixed_dockerfile(...).status == "not attempted"
