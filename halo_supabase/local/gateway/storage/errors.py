"""Storage errors in storage-api's shape.

storage-api renders every error as `{statusCode, code, error, message}` where `statusCode` is the
semantic status as a string ("404", "409", …) while the HTTP status itself is 400 for every client
error and 500 for server errors (its `userStatusCode` rule); supabase-py's `exists()` and
supabase-js read the status from the body, so both halves matter.
"""

from __future__ import annotations

import asyncpg

from halo_supabase.local.gateway.credentials import CredentialsError, Problem

__all__ = ["StorageError", "from_credentials", "from_database"]


class StorageError(Exception):
    """One storage-api error: `status` is the body's statusCode, `code` its ErrorCode."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        error: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error = error or code
        self.http_status = http_status or (500 if status >= 500 else 400)

    def body(self) -> dict[str, str]:
        return {
            "statusCode": str(self.status),
            "code": self.code,
            "error": self.error,
            "message": self.message,
        }

    @classmethod
    def no_such_bucket(cls) -> StorageError:
        return cls(404, "NoSuchBucket", "Bucket not found", error="Bucket not found")

    @classmethod
    def no_such_key(cls) -> StorageError:
        return cls(404, "NoSuchKey", "Object not found", error="not_found")

    @classmethod
    def already_exists(cls, code: str = "ResourceAlreadyExists") -> StorageError:
        return cls(409, code, "The resource already exists", error="Duplicate")

    @classmethod
    def bucket_not_empty(cls) -> StorageError:
        return cls(409, "ResourceNotEmpty", "The bucket you tried to delete is not empty")

    @classmethod
    def too_large(cls) -> StorageError:
        return cls(
            413,
            "EntityTooLarge",
            "The object exceeded the maximum allowed size",
            error="Payload too large",
        )

    @classmethod
    def invalid_mime_type(cls, mime_type: str) -> StorageError:
        return cls(
            415,
            "InvalidMimeType",
            f"mime type {mime_type} is not supported",
            error="invalid_mime_type",
        )

    @classmethod
    def invalid_jwt(cls, message: str) -> StorageError:
        return cls(400, "InvalidJWT", message)

    @classmethod
    def invalid_signature(cls, message: str = "Invalid signature") -> StorageError:
        return cls(400, "InvalidSignature", message)

    @classmethod
    def invalid_request(cls, message: str) -> StorageError:
        return cls(400, "InvalidRequest", message)

    @classmethod
    def invalid_key(cls, key: str) -> StorageError:
        return cls(400, "InvalidKey", f"Invalid key: {key}")

    @classmethod
    def invalid_bucket_name(cls) -> StorageError:
        return cls(400, "InvalidBucketName", "Bucket name invalid", error="Invalid Input")

    @classmethod
    def access_denied(cls, message: str) -> StorageError:
        return cls(403, "AccessDenied", message, error="Unauthorized")

    @classmethod
    def not_found_route(cls, method: str, path: str) -> StorageError:
        # Fastify's own not-found answer, the one error storage-api sends with a real 404.
        return cls(
            404, "NotFound", f"Route {method}:{path} not found", error="Not Found", http_status=404
        )


# How jsonwebtoken (which storage-api verifies with) words each problem.
_JWT_MESSAGES = {
    Problem.MALFORMED: "jwt malformed",
    Problem.BAD_SIGNATURE: "invalid signature",
    Problem.EXPIRED: "jwt expired",
    Problem.UNKNOWN_KEY: "Invalid API key",
    Problem.MISSING_CLAIM: "jwt malformed",
}


def from_credentials(exc: CredentialsError) -> StorageError:
    return StorageError.invalid_jwt(_JWT_MESSAGES[exc.problem])


def from_database(exc: asyncpg.PostgresError) -> StorageError:
    """The storage-api mapping of a database error raised while acting as the request's role."""
    sqlstate = getattr(exc, "sqlstate", None)
    message = str(exc)
    if sqlstate == "42501":
        if "row-level security" in message:
            message = "new row violates row-level security policy"
        return StorageError.access_denied(message)
    if sqlstate == "23505":
        return StorageError.already_exists()
    if sqlstate == "57014":
        return StorageError(544, "DatabaseTimeout", "The connection to the database timed out")
    return StorageError(500, "DatabaseError", message, error="DatabaseError")
