"""Configuration: FLASK_CONFIG, DATABASE_URL or the DB_* parts, SECRET_KEY
and the defaults of runserver."""
import os
import stat

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.config import (
    CONFIGS,
    DB_PARTS,
    Config,
    ConfigError,
    ProductionConfig,
    database_url,
    secret_key,
)
from app.migrating import RunServer


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("DATABASE_URL", "FLASK_CONFIG", "SECRET_KEY") + DB_PARTS:
        monkeypatch.delenv(name, raising=False)


def test_without_database_url_the_database_is_a_sqlite_file_in_the_instance_folder(tmp_path):
    assert database_url(str(tmp_path)) == "sqlite:///" + str(tmp_path / "app.db")


def test_database_url_is_used_as_given(monkeypatch, tmp_path):
    url = "postgresql://app:p%40ss@db.example.com:5432/app"
    monkeypatch.setenv("DATABASE_URL", url)
    assert database_url(str(tmp_path)) == url


def test_a_relative_sqlite_path_is_taken_from_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///data/app.db")
    assert database_url(str(tmp_path)) == "sqlite:///" + str(tmp_path / "data" / "app.db")
    assert (tmp_path / "data").is_dir()


@pytest.mark.parametrize("url, message", [
    ("not a url", "is not a database URL"),
    ("://nothing", "is not a database URL"),
    ("postgres://app@localhost/app", "DATABASE_URL names postgres://"),
    ("nosuchdb://app@localhost/app", "names an unknown database 'nosuchdb'"),
])
def test_a_malformed_database_url_is_a_config_error(monkeypatch, tmp_path, url, message):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError, match=message):
        database_url(str(tmp_path))


def test_db_parts_make_a_url_whatever_the_password_holds(monkeypatch, tmp_path):
    for name, value in {"DB_DRIVER": "postgresql", "DB_USERNAME": "app",
                        "DB_PASSWORD": "p@ss:w/rd%1", "DB_HOST": "db.internal",
                        "DB_PORT": "6432", "DB_NAME": "users"}.items():
        monkeypatch.setenv(name, value)
    url = make_url(database_url(str(tmp_path)))
    assert (url.drivername, url.username, url.password, url.host, url.port, url.database) == (
        "postgresql", "app", "p@ss:w/rd%1", "db.internal", 6432, "users")


def test_db_parts_need_only_the_driver_and_what_the_server_needs(monkeypatch, tmp_path):
    monkeypatch.setenv("DB_DRIVER", "mysql+pymysql")
    monkeypatch.setenv("DB_NAME", "users")
    assert database_url(str(tmp_path)) == "mysql+pymysql:///users"


@pytest.mark.parametrize("variables, message", [
    ({"DB_HOST": "db"}, "DB_DRIVER is not set"),
    ({"DB_DRIVER": "postgresql", "DB_PORT": "http"}, "DB_PORT='http' is not a port number"),
    ({"DB_DRIVER": "postgresql", "DB_PORT": "99999"}, "is not a port number"),
    ({"DB_DRIVER": "postgresql", "DB_PORT": "\u00b2"}, "is not a port number"),
    ({"DB_DRIVER": "postgres", "DB_NAME": "x"}, "DB_DRIVER names postgres://"),
    ({"DB_DRIVER": "nosuchdb"}, "DB_DRIVER names an unknown database 'nosuchdb'"),
    ({"DATABASE_URL": "sqlite://", "DB_HOST": "db", "DB_NAME": "x"},
     "both DATABASE_URL and DB_HOST, DB_NAME are set"),
])
def test_bad_db_parts_are_a_config_error(monkeypatch, tmp_path, variables, message):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        database_url(str(tmp_path))


def test_an_unknown_flask_config_lists_the_choices():
    with pytest.raises(ConfigError) as error:
        create_app("staging")
    for name in CONFIGS:
        assert name in str(error.value)


def test_only_the_development_config_turns_the_debugger_on(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test")
    debug = {name: create_app(name).debug for name in CONFIGS}
    assert debug == {"default": False, "development": True,
                     "testing": False, "production": False}


def test_runserver_binds_localhost_port_5000_by_default():
    defaults = {option.kwargs["dest"]: option.kwargs.get("default")
                for option in RunServer().get_options()}
    assert defaults["host"] == "127.0.0.1"
    assert defaults["port"] == 5000
    assert defaults["use_debugger"] is None  # None: follow app.debug


def test_the_generated_secret_key_is_kept_and_private(tmp_path):
    first = secret_key(Config, str(tmp_path))
    assert len(first) == 64
    assert secret_key(Config, str(tmp_path)) == first
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_secret_key_from_the_environment_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert secret_key(ProductionConfig, str(tmp_path)) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        secret_key(ProductionConfig, str(tmp_path))
    assert not (tmp_path / "secret_key").exists()
