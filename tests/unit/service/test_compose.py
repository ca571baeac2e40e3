"""docker-compose.yml and the Dockerfile checked against the project (Docker itself is not needed).

Each check asks the project rather than guessing strings: the CLI's own click commands, the variables
``reviews/settings.py`` really reads, the WSGI and Celery objects the images' commands name, the package list
``pyproject.toml`` builds from, and the app's URL map.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from flask import Flask
from packaging.requirements import Requirement
from sqlalchemy.engine import make_url

from reviews.cli import main as cli
from reviews.kernel.db import normalise_url

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = {"postgres", "redis", "web", "worker", "beat"}
APP_SERVICES = ("web", "worker", "beat")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def argv(command: Any) -> list[str]:
    """A compose command (list or string) as argv; ``sh -c "a && exec b"`` is split into its words."""
    words = list(command) if isinstance(command, list) else shlex.split(command)
    if words[:2] == ["sh", "-c"] and len(words) == 3:
        words = shlex.split(words[2])
    return words


def steps(command: Any) -> list[list[str]]:
    """The commands of a shell ``a && exec b`` chain, each without a leading ``exec``."""
    out: list[list[str]] = [[]]
    for word in argv(command):
        if word == "&&":
            out.append([])
        elif not (word == "exec" and not out[-1]):
            out[-1].append(word)
    return [s for s in out if s]


def healthcheck_argv(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return shlex.split(test)
    assert test[0] in ("CMD", "CMD-SHELL"), test
    return list(test[1:]) if test[0] == "CMD" else shlex.split(test[1])


def substitute(value: str, **values: str) -> str:
    """Compose's ``${NAME:?message}`` interpolation, with made-up values for the test."""
    return INTERPOLATION.sub(lambda m: values[m.group("name")], value)


def check_fairpeer_command(words: list[str]) -> click.Command:
    """``fairpeer SUB [options]``: SUB is a real subcommand and click accepts the options."""
    assert words[0] == "fairpeer", words
    name, args = words[1], words[2:]
    assert name in cli.commands, f"`fairpeer {name}` is not a command; there are {sorted(cli.commands)}"
    command = cli.commands[name]
    with command.make_context(f"fairpeer {name}", list(args)) as ctx:  # parses, never invokes
        assert ctx.command is command
    return command


def test_five_services_each_with_a_healthcheck(services: dict[str, Any]) -> None:
    assert set(services) >= SERVICES, f"missing services: {SERVICES - set(services)}"
    for name in SERVICES:
        check = services[name].get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no healthcheck"
        assert healthcheck_argv(services[name]), f"{name}'s healthcheck runs nothing"


def test_images_and_their_healthchecks(services: dict[str, Any]) -> None:
    assert re.fullmatch(r"postgres:16([.-].*)?", services["postgres"]["image"]), services["postgres"]["image"]
    assert re.fullmatch(r"redis:7([.-].*)?", services["redis"]["image"]), services["redis"]["image"]
    assert healthcheck_argv(services["postgres"])[0] == "pg_isready"
    assert healthcheck_argv(services["redis"]) == ["redis-cli", "ping"]
    for name in APP_SERVICES:
        build = services[name]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE, f"{name} should be built from the project's Dockerfile"


def test_app_services_wait_for_healthy_postgres_and_redis(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions, not a plain list"
        for needed in ("postgres", "redis"):
            assert depends[needed]["condition"] == "service_healthy", f"{name} must wait until {needed} is healthy"


@pytest.fixture(scope="module")
def wsgi_objects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Import ``reviews.wsgi`` the way gunicorn and celery do, in a child process (it builds an app at import).

    Production settings point at a broker, so the import starts no embedded threads; nothing is contacted.
    """
    specs = ["reviews.wsgi:app", "reviews.wsgi:celery"]
    probe = (
        "import importlib, json, sys\n"
        "out = {}\n"
        "for spec in sys.argv[1:]:\n"
        "    module, _, attr = spec.partition(':')\n"
        "    obj = getattr(importlib.import_module(module), attr, None)\n"
        "    out[spec] = type(obj).__module__ + '.' + type(obj).__qualname__\n"
        "print(json.dumps(out))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("BROKER_URL",)}
    env.update(DATABASE_URL="sqlite://", REDIS_URL="redis://127.0.0.1:9/0", SECRET_KEY="compose-test")
    cwd = tmp_path_factory.mktemp("wsgi-import")
    done = subprocess.run([sys.executable, "-c", probe, *specs], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    yield json.loads(done.stdout.strip().splitlines()[-1])


def test_web_runs_init_then_gunicorn_on_the_wsgi_app(services: dict[str, Any], wsgi_objects: dict[str, str], app: Flask) -> None:
    chain = steps(services["web"]["command"])
    assert len(chain) == 2, f"web should run `fairpeer init` and then gunicorn: {chain}"
    check_fairpeer_command(chain[0])
    assert chain[0][1] == "init"
    gunicorn = chain[1]
    assert gunicorn[0] == "gunicorn"
    options = dict(zip(gunicorn[1:-1:2], gunicorn[2:-1:2], strict=True))
    assert options.get("-w") == "4"
    assert options.get("-c") == "python:reviews.gunicorn_conf"
    assert options.get("-b") == "0.0.0.0:8000"
    assert gunicorn[-1] == "reviews.wsgi:app"
    assert importlib.util.find_spec("reviews.wsgi") is not None
    assert wsgi_objects["reviews.wsgi:app"] == "flask.app.Flask"
    assert "8000:8000" in [str(p) for p in services["web"].get("ports", [])]

    check = " ".join(healthcheck_argv(services["web"]))
    url = re.search(r"https?://[^'\"\s]+", check)
    assert url, f"web's healthcheck should request /healthz: {check}"
    target = urlsplit(url.group(0))
    assert target.port == 8000 and target.hostname in ("127.0.0.1", "localhost")
    endpoint, _ = app.url_map.bind("localhost").match(target.path)
    assert endpoint == "health.healthz"


def test_worker_and_beat_run_real_fairpeer_commands(services: dict[str, Any], wsgi_objects: dict[str, str]) -> None:
    for name in ("worker", "beat"):
        (words,) = steps(services[name]["command"])
        assert check_fairpeer_command(words) is cli.commands[name]
    # The worker's healthcheck pings this worker through the Celery app it names.
    check = healthcheck_argv(services["worker"])
    assert check[0] == "celery" and "inspect" in check and "ping" in check
    app_spec = check[check.index("-A") + 1]
    assert wsgi_objects.get(app_spec) == "celery.app.base.Celery", f"{app_spec} is not the project's Celery app"
    # The beat check looks for the `fairpeer beat` process.
    assert "beat" in " ".join(healthcheck_argv(services["beat"]))


def variables_settings_reads(tmp_path: Path) -> set[str]:
    """Run a private copy of reviews/settings.py over a recording environment: every name it looks up."""
    import reviews.settings

    seen: set[str] = set()

    class Recording(dict[str, str]):
        def __getitem__(self, key: str) -> str:
            seen.add(key)
            return super().__getitem__(key)

        def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
            seen.add(key)
            return super().get(key, default)

        def __contains__(self, key: object) -> bool:
            seen.add(str(key))
            return super().__contains__(key)

    spec = importlib.util.spec_from_file_location("_fairpeer_settings_probe", reviews.settings.__file__)
    assert spec is not None and spec.loader is not None
    with pytest.MonkeyPatch.context() as mp:
        for env in ({}, {"DATABASE_URL": "sqlite://", "BROKER_URL": "redis://b", "REDIS_URL": "redis://r", "SECRET_KEY": "k"}):
            mp.setattr(os, "environ", Recording(env))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.from_environment(tmp_path / "instance")
    return seen


def test_environment_is_what_settings_reads(services: dict[str, Any], tmp_path: Path) -> None:
    read = variables_settings_reads(tmp_path)
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= read
    postgres_env = services["postgres"]["environment"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert isinstance(env, dict)
        assert set(env) <= read, f"{name} sets variables the service never reads: {set(env) - read}"
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= set(env)

        database = make_url(normalise_url(substitute(env["DATABASE_URL"], POSTGRES_PASSWORD="pw")))
        assert database.drivername == "postgresql+psycopg"
        assert (database.host, database.username, database.database) == (
            "postgres",
            postgres_env["POSTGRES_USER"],
            postgres_env["POSTGRES_DB"],
        )
        assert database.password == "pw", "DATABASE_URL should take the password from POSTGRES_PASSWORD"
        redis = make_url(env["REDIS_URL"])
        assert (redis.drivername, redis.host, redis.port) == ("redis", "redis", 6379)

        # No committed secret: SECRET_KEY and the password come from the environment and are required.
        secret = INTERPOLATION.fullmatch(env["SECRET_KEY"])
        assert secret and secret.group("name") == "SECRET_KEY" and secret.group("rest").startswith(":?"), env["SECRET_KEY"]
    password = INTERPOLATION.fullmatch(postgres_env["POSTGRES_PASSWORD"])
    assert password and password.group("name") == "POSTGRES_PASSWORD" and password.group("rest").startswith(":?")


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_installs_the_project_and_drops_root() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied: set[str] = set()
    for keyword, rest in instructions:
        if keyword == "COPY":
            copied.update(Path(src).name for src in shlex.split(rest)[:-1] if not src.startswith("--"))
    assert "." in copied or ({"pyproject.toml", *packages} <= copied), (
        f"the image must get pyproject.toml and {packages}; it copies {copied}"
    )
    if "README.md" in copied or pyproject["project"].get("readme"):
        assert "." in copied or pyproject["project"]["readme"] in copied, "pyproject.toml names a readme the build needs"

    installs = [i for i, (k, rest) in enumerate(instructions) if k == "RUN" and re.search(r"\bpip install (?:\S+ )*\.(\s|$)", rest)]
    assert installs, "the Dockerfile should `pip install .`"
    users = [i for i, (k, _) in enumerate(instructions) if k == "USER"]
    assert users and users[-1] > installs[0], "drop to a non-root user after installing"
    assert instructions[users[-1]][1].split(":")[0] not in ("root", "0")

    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    for needed in ("pyproject.toml", *packages):
        assert not any(fnmatch.fnmatch(needed, pattern) for pattern in ignored), f".dockerignore drops {needed}"
    for local in (".venv", ".git", "instance", ".env"):
        assert any(fnmatch.fnmatch(local, pattern) for pattern in ignored), f".dockerignore should keep {local} out of the image"


def test_gunicorn_is_a_dependency() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {Requirement(r).name.lower() for r in pyproject["project"]["dependencies"]}
    assert "gunicorn" in names
    assert pyproject["project"]["scripts"]["fairpeer"] == "reviews.cli:main"


def test_web_processes_share_one_gunicorn_config_module() -> None:
    """The compose command and the image's CMD load reviews.gunicorn_conf, and gunicorn accepts every setting in it."""
    from gunicorn.app.base import Application

    (cmd,) = [json.loads(rest) for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    assert cmd[:3] == ["gunicorn", "-c", "python:reviews.gunicorn_conf"], cmd

    class Probe(Application):
        def init(self, parser: Any, opts: Any, args: Any) -> None:
            return None

        def load(self) -> Any:
            return None

    probe = Probe.__new__(Probe)
    probe.usage, probe.prog, probe.callable = None, "probe", None
    probe.load_default_config()
    probe.load_config_from_module_name_or_filename("python:reviews.gunicorn_conf")
    assert probe.cfg.worker_class_str == "gthread"
    assert probe.cfg.keepalive == 0, "keep-alive pins clients to one gthread process; see reviews/gunicorn_conf.py"
    assert probe.cfg.threads >= 2
