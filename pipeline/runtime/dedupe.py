"""Duplicate articles across a crawl: the same text (whitespace collapsed) and, on request, near-duplicates."""
from __future__ import annotations

import hashlib


def text_hash(text: str) -> str:
    """Whitespace-collapsed SHA-1: the same article re-crawled with other spacing hashes the same."""
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()


class NearDuplicateIndex:
    """Near-duplicate articles across a run: MinHash over character 5-grams, LSH lookup, first article wins.

    Signatures are plain ints, so the batch runner can persist them in output records for --resume.
    """

    def __init__(self, threshold: float = 0.9, num_perm: int = 64, shingle: int = 5):
        from datasketch import MinHashLSH

        self.threshold, self.num_perm, self.shingle = threshold, num_perm, shingle
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._order: dict[str, int] = {}  # id -> insertion rank (the earliest match is reported)
        self._hashes: dict[str, object] = {}

    def signature(self, text: str) -> list[int]:
        from datasketch import MinHash

        key = " ".join(text.split())
        minhash = MinHash(num_perm=self.num_perm)
        minhash.update_batch([key[i:i + self.shingle].encode("utf-8")
                              for i in range(max(1, len(key) - self.shingle + 1))])
        return [int(v) for v in minhash.hashvalues]

    def _minhash(self, signature: list[int]):
        from datasketch import MinHash

        return MinHash(num_perm=self.num_perm, hashvalues=signature, scheme="affine32")

    def find(self, signature: list[int]) -> tuple[str, float] | None:
        """The earliest indexed article whose estimated Jaccard reaches the threshold, with that estimate."""
        minhash = self._minhash(signature)
        hits = []
        for other in self._lsh.query(minhash):
            similarity = minhash.jaccard(self._hashes[other])
            if similarity >= self.threshold:
                hits.append((self._order[other], other, similarity))
        return (min(hits)[1], min(hits)[2]) if hits else None

    def add(self, article_id: str, signature: list[int]) -> None:
        if article_id in self._order or len(signature) != self.num_perm:
            return
        minhash = self._minhash(signature)
        self._order[article_id] = len(self._order)
        self._hashes[article_id] = minhash
        self._lsh.insert(article_id, minhash)
