"""MinHash signatures of an article's word shingles (:mod:`.text`): making, comparing
and storing them.

A 128-value MinHash of the shingle set is the article's :data:`Signature`, stored as a
BLOB (:func:`signature_to_bytes`) so that an article is never re-tokenised to compare it.
See the package docstring for why.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from pipeline.process.dedup.text import (
    SHINGLE_SIZE,
    ascii_shingle_hash_array,
    shingle_hash_array,
)

NUM_PERM = 128
SEED = 1
# Bump whenever a stored signature would come out different for the same text: the word
# normalisation, the shingle size, the word hash, the seed, or datasketch's permutation
# scheme. Signatures of another version are refused on loading, so the caller recomputes
# them instead of comparing incomparable values. tests/pipeline/process/test_dedup_signatures.py
# pins the signature of one text, so such a change cannot go unnoticed.
SIGNATURE_VERSION = 1

Signature = npt.NDArray[np.uint32]
"""A MinHash signature: ``num_perm`` unsigned 32-bit values, read-only."""

EMPTY = np.uint32(0xFFFF_FFFF)  # the value of every slot of a MinHash that saw nothing
_HEADER = b"twd" + bytes([SIGNATURE_VERSION])  # 4 bytes: the values after it stay aligned
# MurmurHash3's 32-bit finalizer: (shift, multiplier, shift, multiplier, shift)
_FMIX32 = (
    np.uint32(16),
    np.uint32(0x85EB_CA6B),
    np.uint32(13),
    np.uint32(0xC2B2_AE35),
    np.uint32(16),
)


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> npt.NDArray[np.uint32]:
    """The permutation parameters of datasketch's ``MinHash(num_perm, seed,
    scheme="affine32")``, made as it makes them: ``[a, b]``, odd multipliers ``a`` and
    offsets ``b``, drawn from numpy's legacy ``RandomState(seed)``. A test compares the
    signatures with datasketch's; importing datasketch would cost every worker process
    scipy's start-up (about 0.6 s)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    permutations: npt.NDArray[np.uint32] = np.array([a, b])
    permutations.setflags(write=False)
    return permutations


@lru_cache(maxsize=8)
def _columns(num_perm: int, seed: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """:func:`_permutations`' multipliers and offsets as columns, to broadcast over a
    row of hashes."""
    a, b = _permutations(num_perm, seed)
    return a.reshape(-1, 1), b.reshape(-1, 1)


def signature(
    text: str, num_perm: int = NUM_PERM, seed: int = SEED, k: int = SHINGLE_SIZE
) -> Signature:
    """The MinHash signature of the word ``k``-shingles of ``text``.

    Pass the title and the body together (``f"{title}\\n{body}"``): a copy under a new
    headline then loses only the headline's few shingles. Deterministic across processes
    and machines for the same arguments (stable word hash, seeded permutations); keep the
    defaults for anything that is stored or indexed. A text without words gives the
    empty signature (see :func:`is_empty`), which is never a duplicate of anything.

    The values are datasketch's (``MinHash(num_perm, seed, scheme="affine32")`` updated
    with the shingle hashes): each hash is mixed by MurmurHash3's finalizer, then mapped
    by every permutation ``a * h + b`` modulo 2**32; a slot keeps its smallest value.
    """
    return _minhash(shingle_hash_array(text, k), num_perm, seed)


def ascii_signature(
    runs: list[str], num_perm: int = NUM_PERM, seed: int = SEED, k: int = SHINGLE_SIZE
) -> Signature:
    """:func:`signature` of an ASCII text given as its runs of ASCII letters and digits,
    in any case (:func:`~.text.ascii_shingle_hash_array`)."""
    return _minhash(ascii_shingle_hash_array(runs, k), num_perm, seed)


def _minhash(hashes: npt.NDArray[np.uint32], num_perm: int, seed: int) -> Signature:
    """The MinHash signature of the shingles whose hashes are ``hashes``."""
    values: Signature = np.full(num_perm, EMPTY, dtype=np.uint32)
    if hashes.size:
        s1, m1, s2, m2, s3 = _FMIX32
        mixed = hashes ^ (hashes >> s1)
        mixed *= m1  # uint32 arithmetic wraps around: modulo 2**32, as intended
        mixed ^= mixed >> s2
        mixed *= m2
        mixed ^= mixed >> s3
        a, b = _columns(num_perm, seed)
        # one row per permutation, one column per shingle: the products, then the sums
        # in place, then each row's least
        permuted = np.multiply(a, mixed)
        permuted += b
        values = np.minimum(values, permuted.min(axis=1))
    values.setflags(write=False)
    return values


def is_empty(sig: Signature) -> bool:
    """Whether ``sig`` is the signature of a text without words."""
    return bool(np.all(sig == EMPTY))


def similarity(a: Signature, b: Signature) -> float:
    """The estimated Jaccard similarity of the shingle sets behind two signatures."""
    if a.shape != b.shape:
        raise ValueError(f"signatures of different lengths: {a.shape[0]} and {b.shape[0]}")
    if is_empty(a) or is_empty(b):
        return 0.0
    return float(np.count_nonzero(a == b)) / a.shape[0]


def signature_to_bytes(sig: Signature) -> bytes:
    """``sig`` as bytes for a BLOB column: a 4-byte version header and 4 bytes a value.

    516 bytes for the default 128 permutations. Little-endian whatever the machine.
    """
    return _HEADER + np.asarray(sig, dtype="<u4").tobytes()


def signature_from_bytes(data: bytes) -> Signature:
    """The signature stored by :func:`signature_to_bytes`.

    Raises ``ValueError`` for bytes of another :data:`SIGNATURE_VERSION` (or not a
    signature at all): recompute the signature from the article's text then.
    """
    if data[:4] != _HEADER:
        raise ValueError(
            f"not a version {SIGNATURE_VERSION} signature (header {bytes(data[:4])!r}); "
            "recompute it from the text"
        )
    if len(data) <= 4 or len(data) % 4:
        raise ValueError(f"a signature is 4 header bytes and 4 bytes a value, got {len(data)}")
    values: Signature = np.frombuffer(data, dtype="<u4", offset=4).astype(np.uint32, copy=False)
    values.setflags(write=False)
    return values


def as_signature(sig: Signature | bytes) -> Signature:
    """``sig``, read from its stored bytes if need be."""
    if isinstance(sig, bytes | bytearray | memoryview):
        return signature_from_bytes(bytes(sig))
    return sig
