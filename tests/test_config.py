import pytest

from labsupport.config import ConfigurationError, settings

VARIABLES = ("LAB_DATABASE_URL", "LAB_DATABASE", "LAB_MONGO_URL", "LAB_REDIS_URL", "LAB_REDIS")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_embedded_engines():
    s = settings()
    assert (s.database_url, s.database, s.mongo_url, s.redis_url) == (None, "sqlite", None, None)


def test_switches_are_read_when_asked_not_at_import(monkeypatch):
    monkeypatch.setenv("LAB_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/db")
    monkeypatch.setenv("LAB_DATABASE", " Postgres ")
    monkeypatch.setenv("LAB_MONGO_URL", "mongodb://127.0.0.1:27017")
    monkeypatch.setenv("LAB_REDIS_URL", "")  # empty means unset
    s = settings()
    assert s.database_url.startswith("postgresql+psycopg://")
    assert s.database == "postgres"
    assert s.mongo_url == "mongodb://127.0.0.1:27017"
    assert s.redis_url is None


def test_an_unknown_database_kind_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("LAB_DATABASE", "oracle")
    with pytest.raises(ConfigurationError, match="LAB_DATABASE must be 'sqlite' or 'postgres', not 'oracle'"):
        settings()


def test_lab_redis_is_fake_unless_embedded_is_asked_for(monkeypatch):
    assert settings().redis == "fake"
    monkeypatch.setenv("LAB_REDIS", " Embedded ")
    assert settings().redis == "embedded"
    monkeypatch.setenv("LAB_REDIS", "real")
    with pytest.raises(ConfigurationError, match="LAB_REDIS must be 'fake' or 'embedded', not 'real'"):
        settings()


@pytest.mark.parametrize(
    ("value", "strict"),
    [("1", True), ("true", True), ("TRUE", True), (" yes ", True), ("On", True), ("0", False), ("off", False),
     ("no", False), ("", False), ("2", False)],
)  # fmt: skip
def test_lab_strict_accepts_the_usual_spellings_of_yes(monkeypatch, value, strict):
    """LAB_STRICT=true or on in a CI file must make claims raise, whatever the case.

    Mutations that survived mutmut (issue #15): "true" and "on" in the accepted set misspelt
    ("XXtrueXX", "TRUE", "XXonXX", "ON"): only "1" and "yes" were ever tested.
    """
    monkeypatch.setenv("LAB_STRICT", value)
    assert settings().strict is strict
