"""Provider secrets are encrypted at rest and masked when shown."""

from __future__ import annotations

import pytest

from whaticket.utils.crypto import decrypt_json, encrypt_json, mask


def test_round_trip_and_ciphertext_hides_the_secret(app):
    token = encrypt_json({"accessToken": "EAAG-very-secret"})
    assert "very-secret" not in token
    assert decrypt_json(token) == {"accessToken": "EAAG-very-secret"}
    assert decrypt_json(None) == {}


def test_another_key_cannot_read_it(app):
    token = encrypt_json({"apiKey": "k"})
    app.config["SECRET_KEY"] = "another-secret-key"
    with pytest.raises(ValueError):
        decrypt_json(token)


def test_mask_keeps_the_last_four():
    assert mask("abcdefghij") == "******ghij"
    assert mask("abc") == "****abc"[-7:] and mask("abc").endswith("abc")
    assert mask(None) is None
