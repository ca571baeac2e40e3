"""Issuer keys: from a file or the environment, never logged, never in the database; create, rotate and list; a
retired or unregistered key signs nothing; what a retired key signed stays valid."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

import credentials
from reviews.cli import main
from reviews.credentials import keys
from reviews.credentials.models import IssuedCredential, IssuerKey
from reviews.credentials.tasks import issue_assignment_credentials
from reviews.kernel.db import db
from reviews.settings import Secret
from tests.conftest import World, build_world, make_app
from tests.unit.credentials_service.helpers import current_project, released_world, verify
from tests.unit.moderation.test_cases import appeal, claim_and_resolve


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    key = credentials.SigningKey.generate()
    path = tmp_path / "signing_key"
    keys.write_key_file(path, key)
    assert os.stat(path).st_mode & 0o777 == 0o600
    loaded = keys.configured_key({"SIGNING_KEY_FILE": str(path)})
    assert loaded is not None and loaded.private_multibase == key.private_multibase
    path.chmod(0o640)
    with pytest.raises(keys.KeyConfigError) as refused:
        keys.configured_key({"SIGNING_KEY_FILE": str(path)})
    assert refused.value.code == "signing_key_exposed" and "chmod 600" in refused.value.message
    with pytest.raises(keys.KeyConfigError) as exists:
        keys.write_key_file(path, key)  # never overwritten
    assert exists.value.code == "signing_key_exists"
    with pytest.raises(keys.KeyConfigError) as missing:
        keys.configured_key({"SIGNING_KEY_FILE": str(tmp_path / "nowhere")})
    assert missing.value.code == "signing_key_missing"
    with pytest.raises(keys.KeyConfigError) as bad:
        keys.configured_key({"SIGNING_KEY": Secret("z-not-a-key")})
    assert bad.value.code == "signing_key_invalid"


def test_the_private_key_appears_in_no_log_no_repr_and_not_in_the_database(
    world: World, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    private = world.app.config["SIGNING_KEY"].reveal()
    released_world(world)  # issues credentials
    with world.app.app_context():
        signer = keys.signer(db.session, world.app.config)
        new_key, _ = keys.create_key(db.session, tmp_path / "next", rotate=True)
        db.session.commit()
        rows = [json.dumps([k.public_multibase, k.did]) for k in db.session.scalars(select(IssuerKey))]
        documents = list(db.session.scalars(select(IssuedCredential.document)))
    text = caplog.text
    for secret in (private, new_key.private_multibase):
        assert secret not in text
        assert all(secret not in row for row in rows)
        assert all(secret not in d for d in documents)
    assert private not in repr(signer) and private not in repr(world.app.config)
    assert private not in repr(world.app.config["SIGNING_KEY"]) and private not in str(world.app.config["SIGNING_KEY"])
    assert new_key.private_multibase not in repr(new_key), "the core's SigningKey shows its private key in its repr"


def test_rotation_keeps_old_credentials_valid_and_a_retired_key_signs_nothing(world: World, tmp_path: Path) -> None:
    ids = released_world(world)
    learner = world.learners[0]
    old = current_project(world, learner.id)
    with world.app.app_context():
        new_key, retired = keys.create_key(db.session, tmp_path / "rotated", rotate=True)
        db.session.commit()
    assert [r.did for r in retired] == [json.loads(old.document)["issuer"]["id"]]
    # What the retired key signed still verifies.
    assert verify(world.client, json.loads(old.document))["status"] == "valid"

    # The service still configured with the retired key: a change that needs a signature issues nothing.
    case_id = appeal(world, ids["submission_id"])
    with world.app.app_context():
        before = len(list(db.session.scalars(select(IssuedCredential.id))))
    world.app.config["CREDENTIALS_DEBOUNCE_SECONDS"] = 0
    background = world.app.extensions["fairpeer.background"]
    assert claim_and_resolve(world, case_id, {"action": "override_score", "score": 6.0}).status_code == 200
    failures = [f for f in background.failures if f[0] == issue_assignment_credentials.name]
    assert failures and isinstance(failures[0][2], keys.KeyConfigError) and failures[0][2].code == "signing_key_retired"
    background.failures.clear()
    with world.app.app_context():
        assert len(list(db.session.scalars(select(IssuedCredential.id)))) == before
    assert current_project(world, learner.id).id == old.id  # nothing revoked either: the run was rolled back

    # Pointed at the new key (and still holding the retired one for its status list): the run goes through.
    retired_file = tmp_path / "retired"
    keys.write_key_file(retired_file, credentials.SigningKey.from_private_multibase(world.app.config["SIGNING_KEY"].reveal()))
    world.app.config["SIGNING_KEY"] = Secret(new_key.private_multibase)
    world.app.config["RETIRED_SIGNING_KEY_FILES"] = str(retired_file)
    with world.app.app_context():
        assert issue_assignment_credentials(world.assignment_id)["issued"] >= 1
    new = current_project(world, learner.id)
    assert json.loads(new.document)["issuer"]["id"] == new_key.did
    assert verify(world.client, json.loads(new.document))["status"] == "valid"
    assert verify(world.client, json.loads(old.document))["status"] == "revoked"


def test_an_unregistered_key_signs_nothing(app: Flask, client: Any) -> None:
    world = build_world(app, client)
    app.config["SIGNING_KEY"] = Secret(credentials.SigningKey.generate().private_multibase)
    with app.app_context(), pytest.raises(keys.KeyConfigError) as refused:
        keys.signer(db.session, app.config)
    assert refused.value.code == "signing_key_unregistered" and "nothing was issued" in refused.value.message
    del world


def test_keys_create_rotate_list_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    for name in ("FAIRPEER_SIGNING_KEY", "FAIRPEER_SIGNING_KEY_FILE", "REDIS_URL", "BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    init = runner.invoke(main, ["init"])
    assert init.exit_code == 0, init.output
    default = tmp_path / "instance" / "signing_key"
    assert "made one in" in init.output and default.exists() and os.stat(default).st_mode & 0o777 == 0o600
    assert runner.invoke(main, ["init"]).exit_code == 0  # twice: nothing new
    made = runner.invoke(main, ["keys", "create", "--out", str(tmp_path / "k1")])
    assert made.exit_code == 1 and "keys rotate" in made.output  # a current key exists already
    rotated = runner.invoke(main, ["keys", "rotate", "--out", str(tmp_path / "k2")])
    assert rotated.exit_code == 0, rotated.output
    new_did = rotated.output.split("new signing key: ")[1].split()[0]
    assert f"FAIRPEER_SIGNING_KEY_FILE={tmp_path / 'k2'}" in rotated.output and "retired did:key:" in rotated.output
    private = (tmp_path / "k2").read_text().strip()
    assert private not in rotated.output
    listed = runner.invoke(main, ["keys", "list"])
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert len(lines) == 2 and "retired" in lines[0] and lines[1].startswith(new_did) and lines[1].endswith("current")
    app = make_app(tmp_path / "cli.db", SIGNING_KEY=None, SIGNING_KEY_FILE=str(tmp_path / "k2"))
    with app.app_context():
        assert keys.signer(db.session, app.config).did == new_did
