"""Rate limits on proposing, voting and commenting, per person (see common.ratelimit).

The counters live in the default cache (Redis in production, shared by every worker). A limit
of ``n`` lets ``n - 1`` attempts through in its window; the ``n``-th locks the person out for
the lockout period. Every attempt counts, refused ones included.
"""

from __future__ import annotations

from panjereh.common.ratelimit import Limit, hit

PROPOSALS = Limit("part-propose", limit=6, window=60 * 60, lockout=60 * 60)
VOTES = Limit("part-vote", limit=61, window=60 * 60, lockout=15 * 60)
COMMENTS = Limit("part-comment", limit=11, window=60 * 60, lockout=60 * 60)


def exceeded(limit: Limit, user) -> bool:
    """Count one attempt by ``user``; True when it must be refused."""
    return hit(limit, f"user:{user.pk}")
