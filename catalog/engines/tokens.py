"""The keyed masking token, registered on every engine connection (DuckDB and Spark alike, same tokens).

The token is a keyed hash (BLAKE2b with the mesh's key, 8 bytes as hex) computed by a Python function
registered as `TOKEN_FUNCTION`. The key lives in that function's closure: it never appears in SQL text, so
reading a view's definition (or a Spark plan, or an error message) gives nothing to recompute tokens from.
Only the views catalog/query/masking.py writes call it: it is on no allow-list, so user SQL cannot.
"""

from __future__ import annotations

from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc
from duckdb import sqltypes

from catalog.sources.context import TOKEN_FUNCTION

__all__ = ["TOKEN_FUNCTION", "register_duckdb", "register_spark", "token_function"]


def token_function(key: str) -> Callable[[str | None], str | None]:
    """value -> 'tok_' + 16 hex digits of BLAKE2b keyed with `key` (a MAC: without the key, guessing a value
    does not give its token). The key stays in this closure; the function is self-contained (it imports
    nothing of Meshwork), so Spark ships it to Python workers that cannot import `catalog`."""
    secret = key.encode()[:64]
    cache: dict = {}

    def token(value):  # type: ignore[no-untyped-def]  (no hints: Spark would read them as a UDF kind)
        if value is None:
            return None
        hit = cache.get(value)
        if hit is None:
            import hashlib as _hashlib  # inside: Spark's workers run this function without this module

            hit = "tok_" + _hashlib.blake2b(str(value).encode("utf-8", "surrogatepass"), key=secret,
                                            digest_size=8).hexdigest()
            if len(cache) >= 65_536:
                cache.clear()
            cache[value] = hit
        return hit

    return token


def register_duckdb(con: Any, key: str) -> None:
    """Register the token function on a DuckDB connection (vectorised over Arrow arrays)."""
    token = token_function(key)

    def tokens(values: pa.Array) -> pa.Array:
        # each distinct value of the batch is hashed once (keys repeat: a fact table's foreign keys)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        encoded = pc.dictionary_encode(values)
        dictionary = pa.array([token(v) for v in encoded.dictionary.to_pylist()], type=pa.string())
        return pc.take(dictionary, encoded.indices)

    con.create_function(TOKEN_FUNCTION, tokens, [sqltypes.VARCHAR], sqltypes.VARCHAR, type="arrow",
                        side_effects=False)


def register_spark(session: Any, key: str) -> None:
    """Register the same token function on a Spark session (a Python UDF run on the executors)."""
    from pyspark.sql.functions import udf  # pyspark is optional: only Spark meshes load it
    from pyspark.sql.types import StringType

    session.udf.register(TOKEN_FUNCTION, udf(token_function(key), StringType()))
