"""The Merkle tree of the checkpoints' heads, kept level by level so a new root costs what moved.

A leaf is SHA-256(0x00 | "id:seq:hash") of one case's head, in case order; a
node is SHA-256(0x01 | left | right); an odd node is carried up unchanged
(``checkpoints.merkle_root`` is the same tree). A verified checkpoint keeps its
levels next to its heads (its signed line names their SHA-256), so the next
incremental verify recomputes only the leaves of the cases whose head moved or
that are new, and the nodes above them: a few thousand hashes instead of two
per case.
"""

from __future__ import annotations

import hashlib
from binascii import hexlify
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workflows.cases.checkpoints import HeadTable

Levels = list[bytes]  # level 0 (the leaves) first; each level its nodes' 32-byte digests end to end


def _leaves(table: HeadTable, positions: range | list[int]) -> dict[int, bytes]:
    sha, packed, ids, seqs = hashlib.sha256, table.hashes, table.ids, table.seqs
    out = {}
    for i in positions:
        digest = hexlify(packed[i * 33 + 1:i * 33 + 33]) if packed[i * 33] else b""
        out[i] = sha(b"\x00%d:%d:%s" % (ids[i], seqs[i], digest)).digest()
    return out


def levels(table: HeadTable) -> Levels:
    """Every level of the tree over a table's heads (two hashes a case)."""
    sha, packed, ids, seqs = hashlib.sha256, table.hashes, table.ids, table.seqs
    text = hexlify(packed)  # 66 hex digits a case: the flag, then the hash
    level = [sha(b"\x00%d:%d:%s" % (ids[i], seqs[i], text[i * 66 + 2:i * 66 + 66] if packed[i * 33] else b""))
             .digest() for i in range(len(ids))]
    out = [b"".join(level)]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        out.append(b"".join(level))
    return out


def root(tree: Levels) -> str:
    return tree[-1].hex() if tree and tree[0] else hashlib.sha256(b"").hexdigest()


def changed_positions(table: HeadTable, old: HeadTable, block: int = 1024) -> list[int]:
    """The positions below ``len(old)`` where ``table``'s head differs from ``old``'s (same ids there),
    compared a block of heads at a time in C; only a block that differs is looked at case by case."""
    out = []
    for first in range(0, len(old), block):
        last = min(first + block, len(old))
        if table.seqs[first:last] == old.seqs[first:last] and \
                table.hashes[first * 33:last * 33] == old.hashes[first * 33:last * 33]:
            continue
        out += [i for i in range(first, last) if table.seqs[i] != old.seqs[i]
                or table.hashes[i * 33:i * 33 + 33] != old.hashes[i * 33:i * 33 + 33]]
    return out


def updated(table: HeadTable, old: HeadTable, old_tree: Levels) -> Levels:
    """The levels over ``table`` from those over ``old``: only the leaves that differ (or are new) and the
    nodes above them are hashed. When cases went missing (the leaves would shift) everything is."""
    n, m = len(table), len(old)
    if m == 0 or m > n or table.ids[:m] != old.ids or not old_tree or len(old_tree[0]) != 32 * m:
        return levels(table)
    dirty = changed_positions(table, old)
    dirty += range(m, n)
    level = bytearray(old_tree[0])
    level += bytes(32 * (n - m))
    for i, leaf in _leaves(table, dirty).items():
        level[i * 32:i * 32 + 32] = leaf
    out: Levels = [bytes(level)]
    depth, sha = 0, hashlib.sha256
    while len(level) > 32:
        count, old_count = len(level) // 32, len(old_tree[depth]) // 32 if depth < len(old_tree) else 0
        parents = (count + 1) // 2
        above = old_tree[depth + 1] if depth + 1 < len(old_tree) else b""
        nxt = bytearray(above[:32 * parents])
        nxt += bytes(32 * parents - len(nxt))
        moved = {i // 2 for i in dirty}
        if count != old_count:  # the right edge changed shape: its nodes are all recomputed
            moved.update(range(max(0, (old_count - 1) // 2), parents))
        for p in moved:
            if 2 * p + 1 < count:
                nxt[p * 32:p * 32 + 32] = sha(b"\x01" + level[p * 64:p * 64 + 64]).digest()
            else:
                nxt[p * 32:p * 32 + 32] = level[p * 64:p * 64 + 32]
        level, dirty, depth = nxt, sorted(moved), depth + 1
        out.append(bytes(level))
    return out
