"""Flask extension singletons, bound to the app in create_app (the OpenAPI Api lives with
the views, in whaticket/api/errors.py)."""

from typing import Any

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.default_callbacks import default_decode_key_callback
from flask_jwt_extended.tokens import _decode_jwt
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from jwt import ExpiredSignatureError
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names: Alembic batch mode on SQLite and
# cross-database migrations need every constraint to have a stable name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _JWTManager(JWTManager):
    """flask-jwt-extended, decoding a token once.

    The stock manager decodes every token three times (claims and header unverified, to
    pick the key, then verified); with the one configured key (no `decode_key_loader`)
    the unverified passes find nothing the verified one does not, and each pass costs a
    base64 and JSON parse of the whole token on every request.
    """

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict:
        if self._decode_key_callback is not default_decode_key_callback or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        try:
            return _decode_jwt(
                algorithms=jwt_config.decode_algorithms,
                audience=jwt_config.decode_audience,
                csrf_value=csrf_value,
                encoded_token=encoded_token,
                identity_claim_key=jwt_config.identity_claim_key,
                issuer=jwt_config.decode_issuer,
                leeway=jwt_config.leeway,
                secret=jwt_config.decode_key,
                verify_aud=jwt_config.decode_audience is not None,
                verify_sub=jwt_config.verify_sub,
                allow_expired=False,
            )
        except ExpiredSignatureError:
            # The expired-token callback reads the token's header and claims off the
            # error: the stock path builds them.
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = _JWTManager()
socketio = SocketIO()
cors = CORS()
