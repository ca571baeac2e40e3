"""`fairpeer verify FILE [--status-list FILE]`: offline, with the exit codes the contract gives (0 valid, 1 invalid
or revoked, 3 status unknown). One run is a real process whose sockets are blocked before anything loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from credentials import new_status_list, set_bit
from reviews.cli import main
from tests.unit.credentials.test_sign_verify import credential, status_list

BLOCKED = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network blocked by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.socket.sendto = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from reviews.cli import main
sys.argv = ["fairpeer", *sys.argv[1:]]
main()
"""


def write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def test_exit_codes_for_valid_revoked_invalid_and_unknown(tmp_path: Path) -> None:
    runner = CliRunner()
    doc = write(tmp_path / "credential.json", credential())
    clear = write(tmp_path / "clear.json", status_list(new_status_list()))
    bits = new_status_list()
    set_bit(bits, 7, True)
    revoked = write(tmp_path / "revoked.json", status_list(bits))

    valid = runner.invoke(main, ["verify", doc, "--status-list", clear])
    assert valid.exit_code == 0, valid.output
    assert valid.output.startswith("valid:") and "signature  ok" in valid.output
    assert runner.invoke(main, ["verify", doc, "--status-list", revoked]).exit_code == 1
    unknown = runner.invoke(main, ["verify", doc, "--json"])
    assert unknown.exit_code == 3
    assert json.loads(unknown.output)["status"] == "status_unknown"
    tampered = credential()
    tampered["credentialSubject"]["result"][0]["value"] = "10"
    bad = runner.invoke(main, ["verify", write(tmp_path / "bad.json", tampered), "--status-list", clear, "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["status"] == "invalid"
    (tmp_path / "junk.json").write_text("{not json")
    junk = runner.invoke(main, ["verify", str(tmp_path / "junk.json")])
    assert junk.exit_code == 1 and "is not a JSON file" in junk.output


def test_verify_runs_with_the_network_blocked(tmp_path: Path) -> None:
    doc = write(tmp_path / "credential.json", credential())
    clear = write(tmp_path / "clear.json", status_list(new_status_list()))
    run = subprocess.run(
        [sys.executable, "-c", BLOCKED, "verify", doc, "--status-list", clear, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["status"] == "valid"
    # The block is real: the same wrapper cannot open a connection.
    probe = subprocess.run(
        [sys.executable, "-c", BLOCKED.replace("from reviews.cli import main", "socket.create_connection(('127.0.0.1', 9))")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "network blocked by the test" in probe.stderr
