"""A Pact content matcher for JWTs, in Python (world pact:plugin/jwt).

The plugin side of the Pact "WASM plugins" proposal: the driver calls
`init` for the catalogue, `configure_interaction` when a consumer test sets
up a JWT body, and `compare_contents` when a provider's actual token is
checked against the pact.

Cryptography comes from the host (wasmplug:crypto): WASI has none, which
is what made the proposal's JWT plugin hard to write. The signing key never
enters the plugin: the manifest grants it by name, the plugin signs with
that name and publishes only the public half (a JWK) in the interaction's
plugin configuration, which compare_contents verifies actual tokens with.
"""
import base64
import json
import time

import wit_world
from componentize_py_types import Err
from wit_world.imports import crypto, host
from wit_world.imports.types import (
    Body,
    CatalogueEntry,
    CompareRequest,
    CompareResult,
    CompareResult_Matched,
    CompareResult_Mismatches,
    CompareResult_TypeMismatch,
    ContentMismatch,
    EntryType,
    InteractionContents,
)

CONTENT_TYPES = ("application/jwt", "application/jwt+json")
# JWS "alg" names (RFC 7518 3.1, RFC 8037) and the host's algorithms.
ALGORITHMS = {
    "RS256": crypto.SigAlg.RS256, "RS384": crypto.SigAlg.RS384, "RS512": crypto.SigAlg.RS512,
    "PS256": crypto.SigAlg.PS256, "PS384": crypto.SigAlg.PS384, "PS512": crypto.SigAlg.PS512,
    "ES256": crypto.SigAlg.ES256, "ES384": crypto.SigAlg.ES384, "ES512": crypto.SigAlg.ES512,
    "EdDSA": crypto.SigAlg.EDDSA,
}
# Claims that differ from token to token by design: never compared by value.
VOLATILE_CLAIMS = ("exp", "nbf", "iat", "jti")
DEFAULT_LIFETIME = 3600


def _log(level, message):
    host.log(level, message)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Token:
    """A compact JWS: header and claims as dicts, the signing input, the signature."""

    def __init__(self, text: str):
        parts = text.strip().split(".")
        if len(parts) != 3:
            raise ValueError(f"a JWT has 3 parts separated by dots, this has {len(parts)}")
        try:
            self.header = json.loads(_unb64url(parts[0]))
            self.claims = json.loads(_unb64url(parts[1]))
            self.signature = _unb64url(parts[2])
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"a part is not base64url-encoded JSON ({e})") from None
        if not isinstance(self.header, dict) or not isinstance(self.claims, dict):
            raise ValueError("the header and the claims must be JSON objects")
        self.signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")


def _mismatch(path, message, expected=None, actual=None):
    return ContentMismatch(path=path, expected=expected, actual=actual, mismatch=message)


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _configure(content_type: str, config: dict) -> InteractionContents:
    alg = config.get("algorithm", "EdDSA")
    if alg not in ALGORITHMS:
        raise Err(f"algorithm '{alg}' is not supported ({', '.join(ALGORITHMS)})")
    key = config.get("signing-key")
    if not isinstance(key, str) or not key:
        raise Err("'signing-key' must name a key the manifest grants (capabilities.crypto.keys)")
    claims = config.get("token")
    if not isinstance(claims, dict):
        raise Err("'token' must be an object of claims")
    extra = config.get("header", {})
    if not isinstance(extra, dict):
        raise Err("'header' must be an object")

    now = int(time.time())
    claims = dict(claims)
    claims.setdefault("iat", now)
    claims.setdefault("exp", now + DEFAULT_LIFETIME)
    header = {"typ": "JWT", **extra, "alg": alg, "kid": key}
    signing_input = f"{_b64url(_json(header).encode())}.{_b64url(_json(claims).encode())}"
    try:
        signature = crypto.sign(ALGORITHMS[alg], key, signing_input.encode("ascii"))
        jwk = crypto.public_jwk(key)
    except Err as e:
        raise Err(f"signing with key '{key}': {e.value}") from None
    token = f"{signing_input}.{_b64url(signature)}"
    _log(host.Level.DEBUG, f"configured a {alg} token with claims {sorted(claims)}")
    plugin_config = {"algorithm": alg, "public-key": json.loads(jwk)}
    return InteractionContents(
        part_name="",
        contents=Body(content_type=content_type, content=token.encode("ascii")),
        rules="{}",
        plugin_configuration=_json(plugin_config),
    )


def _check_signature(token: Token, alg: str, jwk: str, out: list):
    if token.header.get("alg") != alg:
        # Never verify with the algorithm the token asks for (alg confusion,
        # "none"): the pact fixed it when the interaction was configured.
        out.append(_mismatch("$.header.alg", f"Actual token uses algorithm "
                             f"{token.header.get('alg')!r}, the pact expects {alg!r}",
                             _json(alg), _json(token.header.get("alg"))))
        return
    try:
        valid = crypto.verify(ALGORITHMS[alg], crypto.PublicKey_Jwk(jwk),
                              token.signing_input, token.signature)
    except Err as e:
        valid, reason = False, e.value
    else:
        reason = "it was not made by the pact's key"
    if not valid:
        out.append(_mismatch("$", f"Actual token signature is not valid: {reason}"))


def _check_times(token: Token, now: int, out: list):
    exp = token.claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        out.append(_mismatch("$.exp", "Actual token expiration time (exp) is missing or not a number"))
    elif exp < now:
        out.append(_mismatch("$.exp", f"Actual token has expired (exp {exp} < current time {now})",
                             actual=_json(exp)))
    nbf = token.claims.get("nbf")
    if nbf is not None:
        if not isinstance(nbf, (int, float)) or isinstance(nbf, bool):
            out.append(_mismatch("$.nbf", "Actual token not-before time (nbf) is not a number"))
        elif nbf > now:
            out.append(_mismatch("$.nbf", f"Actual token is not valid yet (nbf {nbf} > current time {now})",
                                 actual=_json(nbf)))


def _compare_maps(prefix: str, expected: dict, actual: dict, ignore, allow_unexpected: bool, out: list):
    for k, v in expected.items():
        if k in ignore:
            continue
        path = f"{prefix}.{k}"
        if k not in actual:
            out.append(_mismatch(path, f"Expected {_json(v)} but there was no value", _json(v)))
        elif actual[k] != v:
            out.append(_mismatch(path, f"Expected {_json(v)} but got {_json(actual[k])}",
                                 _json(v), _json(actual[k])))
    if not allow_unexpected:
        for k, v in actual.items():
            if k not in expected and k not in ignore:
                out.append(_mismatch(f"{prefix}.{k}", f"Unexpected key {k!r} in the actual token",
                                     actual=_json(v)))


def _compare(request: CompareRequest) -> CompareResult:
    if request.actual.content_type.split(";")[0].strip() not in CONTENT_TYPES:
        return CompareResult_TypeMismatch(
            f"expected a JWT ({' or '.join(CONTENT_TYPES)}), got {request.actual.content_type!r}")
    try:
        config = json.loads(request.plugin_configuration)
        alg = config["algorithm"]
        jwk = _json(config["public-key"])
        if alg not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {alg!r}")
    except (ValueError, KeyError, TypeError) as e:
        raise Err(f"the plugin configuration is not one configure-interaction wrote: {e}") from None
    try:
        expected = Token(request.expected.content.decode("utf-8", "replace"))
    except ValueError as e:
        raise Err(f"the expected body is not a JWT: {e}") from None

    mismatches = []
    try:
        actual = Token(request.actual.content.decode("utf-8", "replace"))
    except ValueError as e:
        return CompareResult_Mismatches([_mismatch("$", f"Actual body is not a JWT: {e}")])
    _check_signature(actual, alg, jwk, mismatches)
    _check_times(actual, int(time.time()), mismatches)
    # alg is _check_signature's; kid names the key, which the JWK already fixes.
    _compare_maps("$.header", expected.header, actual.header, ("alg", "kid"), True, mismatches)
    _compare_maps("$", expected.claims, actual.claims, VOLATILE_CLAIMS,
                  request.allow_unexpected_keys, mismatches)
    _log(host.Level.DEBUG, f"compared a JWT: {len(mismatches)} mismatch(es)")
    return CompareResult_Mismatches(mismatches) if mismatches else CompareResult_Matched()


class WitWorld(wit_world.WitWorld):
    def init(self, implementation: str, version: str):
        _log(host.Level.INFO, f"JWT plugin loaded by {implementation} {version}")
        values = [("content-types", ";".join(CONTENT_TYPES))]
        return [CatalogueEntry(EntryType.CONTENT_MATCHER, "jwt", values),
                CatalogueEntry(EntryType.CONTENT_GENERATOR, "jwt", values)]

    def configure_interaction(self, content_type: str, config: str):
        if content_type.split(";")[0].strip() not in CONTENT_TYPES:
            raise Err(f"content type {content_type!r} is not a JWT ({', '.join(CONTENT_TYPES)})")
        try:
            parsed = json.loads(config)
        except ValueError as e:
            raise Err(f"the configuration is not JSON: {e}") from None
        if not isinstance(parsed, dict):
            raise Err("the configuration must be a JSON object")
        return [_configure(content_type, parsed)]

    def compare_contents(self, request: CompareRequest):
        return _compare(request)
