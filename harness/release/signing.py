"""Signed reports: SSH signatures over a report's canonical JSON, checked against allowed
signers committed in the repository (golden/allowed_signers), as git signs commits.

Why SSH signatures: `ssh-keygen -Y sign/verify` ships with OpenSSH on every Linux and macOS
runner, keys are one line, and the allowed-signers format (principal, namespaces, public key)
is the one git uses, so no new package or key format is needed. The namespace
"harness-report" keeps a signature made for something else (a commit, a file) from being
replayed as a report's.

What is signed: the report without its `signature` block, as canonical JSON: keys sorted,
no whitespace (separators "," and ":"), UTF-8, non-ASCII characters as themselves, a lone
surrogate from a review as its \\u escape (as report.json writes it), numbers as Python's
`json` writes them (the shortest repr that reads back to the same float). Editing any byte
of what the report says (a score, a hostname, a gate) breaks the signature.

Keys: `harness report --sign KEY` (a private key file) or the environment variable
HARNESS_SIGNING_KEY (a path, or the key itself, as CI secrets are given). The signer is the
principal the allowed-signers file gives that key; HARNESS_ALLOWED_SIGNERS points elsewhere
(tests make a key pair on the fly).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.paths import GOLDEN
from harness.report import schema
from harness.results import Report

NAMESPACE = "harness-report"
KEY_ENV = "HARNESS_SIGNING_KEY"
SIGNERS_ENV = "HARNESS_ALLOWED_SIGNERS"
_SURROGATE = re.compile("[\ud800-\udfff]")
_FINGERPRINT = re.compile(r"(SHA256:[A-Za-z0-9+/=]+)")
# An armored SSH signature, as `ssh-keygen -Y sign` writes it: ASCII base64 between the markers.
_ARMORED = re.compile(r"-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]{1,65536}-----END SSH SIGNATURE-----")


def allowed_signers() -> Path:
    return Path(os.environ.get(SIGNERS_ENV) or GOLDEN / "allowed_signers")


def canonical(data: dict[str, Any]) -> bytes:
    """The bytes a signature covers: `data` without its signature block (see module docstring)."""
    body = {k: v for k, v in data.items() if k != "signature"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def _ssh_keygen(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise HarnessError(
            "ssh-keygen not found: signed reports need OpenSSH 8.2 or later (apt-get install openssh-client)"
        )
    return subprocess.run([exe, *args], input=data, capture_output=True, timeout=60)


def _said(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit code {proc.returncode}"


@contextmanager
def _key_file(key: str) -> Iterator[Path]:
    """A private key given as a path, or as the key's text (a CI secret), as a 0600 file."""
    if "PRIVATE KEY" not in key:
        path = Path(key).expanduser()
        if not path.is_file():
            raise HarnessError(
                f"{path}: no such signing key (give a private key file, or the key itself in ${KEY_ENV})"
            )
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="harness-key-") as tmp:
        path = Path(tmp) / "key"
        path.write_text(key.strip() + "\n", encoding="utf-8")
        path.chmod(0o600)
        yield path


def check_key(key: str) -> None:
    """Refuse a missing key before anything runs (not after an hour of measuring)."""
    with _key_file(key):
        pass


def signing_key(explicit: str | None) -> str | None:
    """--sign KEY, else $HARNESS_SIGNING_KEY (empty = not set, as a CI secret a fork lacks)."""
    return explicit or os.environ.get(KEY_ENV) or None


def sign(data: dict[str, Any], key: str) -> dict[str, Any]:
    """The signature block for a report's JSON data, made with the private key `key`."""
    with _key_file(key) as path:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # ssh-keygen refuses a key others can read; ours, so tighten it
        proc = _ssh_keygen(["-Y", "sign", "-f", str(path), "-n", NAMESPACE], canonical(data))
        if proc.returncode != 0:
            raise HarnessError(f"{path}: cannot sign with this key ({_said(proc)})")
        listed = _ssh_keygen(["-l", "-f", str(path)])
    fields = listed.stdout.decode().split()
    found = _FINGERPRINT.search(listed.stdout.decode())
    signer = " ".join(fields[2:-1]) if len(fields) > 3 else ""
    return {
        "scheme": "ssh",
        "signer": signer or "unknown",
        "key_fingerprint": found.group(1) if found else "unknown",
        "value": proc.stdout.decode("ascii").strip(),
        "signed_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def fingerprint(armored: str) -> str:
    """SHA256:... of the public key inside an SSH signature (the SSHSIG blob: magic, version,
    then the signer's public key as an SSH string), as `ssh-keygen -l` prints it."""
    body = "".join(line for line in armored.strip().splitlines() if not line.startswith("-----"))
    try:
        blob = base64.b64decode(body, validate=True)
        if blob[:6] != b"SSHSIG":
            raise ValueError("not an SSHSIG blob")
        (length,) = struct.unpack(">I", blob[10:14])
        key = blob[14 : 14 + length]
    except (ValueError, struct.error, binascii.Error):
        return "unreadable"
    return "SHA256:" + base64.b64encode(hashlib.sha256(key).digest()).decode().rstrip("=")


class Unsigned(HarnessError):
    """No signature, another scheme, or a key the allowed signers do not list (--allow-unsigned
    accepts these, and the record says so)."""


class BadSignature(HarnessError):
    """A listed signer's signature that does not match the report: edited after signing. Never accepted."""


@dataclass(frozen=True)
class Verified:
    principal: str  # who the allowed-signers file says signed it
    key_fingerprint: str


def verify(data: dict[str, Any], source: object, signers: Path | None = None) -> Verified:
    """Check the signature block of a report's JSON data against the allowed signers; any
    failure (unsigned, another scheme, an unknown key, edited after signing) is one line."""
    signers = signers or allowed_signers()
    block = data.get("signature")
    if not isinstance(block, dict) or not block.get("value"):
        raise Unsigned(
            f"{source}: not signed; sign reports with `harness report --sign KEY` (or ${KEY_ENV}), "
            "or pass --allow-unsigned to accept it unsigned (recorded)"
        )
    if block.get("scheme") != "ssh":
        raise Unsigned(f"{source}: signature scheme {block.get('scheme')!r} is not one this harness checks ('ssh')")
    if not isinstance(block["value"], str) or not _ARMORED.fullmatch(block["value"].strip()):
        raise BadSignature(
            f"{source}: $.signature.value: expected an armored SSH signature "
            "(ASCII base64 between BEGIN/END SSH SIGNATURE lines), got something else"
        )
    if not signers.is_file():
        raise HarnessError(f"{signers}: no allowed signers file to check {source} against")
    with tempfile.TemporaryDirectory(prefix="harness-sig-") as tmp:
        sig = Path(tmp) / "report.sig"
        sig.write_text(str(block["value"]).strip() + "\n", encoding="ascii")
        found = _ssh_keygen(["-Y", "find-principals", "-s", str(sig), "-f", str(signers)])
        fp = fingerprint(str(block["value"]))
        principals = found.stdout.decode("utf-8", "replace").split()
        if found.returncode != 0 or not principals:
            raise Unsigned(f"{source}: signed by a key that is not in {signers} ({fp}); refusing it")
        for principal in principals:
            proc = _ssh_keygen(
                ["-Y", "verify", "-f", str(signers), "-I", principal, "-n", NAMESPACE, "-s", str(sig)], canonical(data)
            )
            if proc.returncode == 0:
                return Verified(principal, fp)
    raise BadSignature(
        f"{source}: the signature by {principals[0]} ({fp}) does not match the report: edited after it was signed"
    )


def signed(report: Report, key: str) -> Report:
    """`report` with its signature block, made over exactly the JSON report.json will hold."""
    data = schema.to_json(report)
    data["signature"] = sign(data, key)
    out = schema.validate(data, "the signed report")
    if canonical(schema.to_json(out)) != canonical(data):  # what is written must be what was signed
        raise HarnessError("the report does not serialize the same way twice; cannot sign it")
    return out
