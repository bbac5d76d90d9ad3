"""The content-addressed object store for the bytes of versioned variables.

`chunks`: the store itself (fixed-size chunks named by BLAKE3, atomic writes, verified
reads, delta chains); `deltas`: the on-disk format of delta objects (XOR with a base
chunk, zstd). Nothing here knows about Git, pickles or versions.
"""

from .chunks import DEFAULT_CHUNK_SIZE, MAX_DELTA_DEPTH, ObjectStore, digest, validate_oid

__all__ = ["DEFAULT_CHUNK_SIZE", "MAX_DELTA_DEPTH", "ObjectStore", "digest", "validate_oid"]
