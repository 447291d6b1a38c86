"""In-process search over the service catalogue (and agencies).

The whole catalogue (some 6,000 cards) fits in memory as a few short strings per card, so a
scan in Python answers a query in a few milliseconds on any database: no full-text extension,
no per-database SQL, and the same results on SQLite and PostgreSQL. The index is rebuilt from
rows when the catalogue changes: saves in this process invalidate it at once (signals), and a
cheap signature query (row counts and newest version IDs, all primary-key lookups) run at most
every few seconds notices writes by other processes.

All matching is on :func:`panjereh.common.persian.search_key` / :func:`squash` forms, so Arabic
Yeh and Kaf, ZWNJ, space or no space, diacritics and any digit script meet. Small typos are
caught by a one-edit "symmetric delete" lookup over the title vocabulary and, failing that, by
trigram similarity of the squashed title.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save

from panjereh.common.persian import digits_only, search_key, squash
from panjereh.common.ttlcache import Generation

from .models import Agency, AgencyVersion, Service, ServiceVersion
from .vocab import SmartStatus

MAX_QUERY_LENGTH = 200
# How long a built index is trusted before the signature query is run again. Writes in this
# process invalidate at once; this bounds how stale another process's writes can look.
STALE_CHECK_SECONDS = 3.0
# Moved by every committed change of a card, an agency or a service definition: the portal's
# kept public pages (``portal.pagecache``) and this process's index are of one generation.
PUBLIC_PAGES = Generation("pj:catalogue:public")
SERVICE_ID_LENGTH = 10
_NON_DIGITS = re.compile(r"[^\d\s]")

# Rank tiers, highest first. Within a tier, shorter titles (closer to what was typed) come
# first, then A to Z; close matches (typos) follow every tier, most similar first.
TIER_ID = 1000
TIER_ID_PREFIX = 900
TIER_TITLE_EXACT = 800
TIER_TITLE_PREFIX = 700
TIER_TITLE_WORDS = 600
TIER_TITLE_SUBSTRING = 500
TIER_TITLE_TOKENS = 400
TIER_BODY = 300
# Below this many plain matches the fuzzy fallback runs too.
FUZZY_BELOW = 5
# How many trigram-similar titles are scored exactly.
FUZZY_SHORTLIST = 200
# Below this many titles sharing a token's rarest trigram, one scan of all texts is faster.
RARE_TOKEN_TITLES = 400


@dataclass
class SearchResult:
    """Ordered primary keys of matching services, best first, and the matching agencies."""

    query: str
    service_pks: list[int]
    agency_pks: list[int] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def total(self) -> int:
        return len(self.service_pks)


def _load_synonyms() -> list[tuple[str, str]]:
    """(what people type, the catalogue's word) as search keys, longest first, from
    ``data/synonyms.tsv``: colloquial and foreign words that official titles never use."""
    path = Path(__file__).parent / "data" / "synonyms.tsv"
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        typed, official = line.split("\t")
        pairs.append((search_key(typed), search_key(official)))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


SYNONYMS = _load_synonyms()


def with_synonyms(key: str) -> str:
    """The search key with whole-word colloquial terms replaced by the catalogue's word
    («پاسپورت» → «گذرنامه»). A term already followed by its official completion is left
    alone («گواهینامه رانندگی» stays)."""
    padded = f" {key} "
    for typed, official in SYNONYMS:
        if f" {typed} " in padded and f" {official} " not in padded:
            padded = padded.replace(f" {typed} ", f" {official} ")
    return padded.strip()


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class SearchIndex:
    """An immutable snapshot of the catalogue prepared for matching.

    Cards are kept as parallel lists (one entry per service, same position in each list)
    rather than objects, and ranking works on postings and sets rather than scoring card by
    card: that is what keeps a query over 6,000 cards within a few milliseconds in CPython.
    """

    def __init__(self, services: list[tuple], agencies: list[tuple]):
        # Agencies: (pk, parent_id, name_fa, name_en, code).
        self.agency_pks = [a[0] for a in agencies]
        self.children: dict[int, list[int]] = {}
        for pk, parent, *_rest in agencies:
            if parent is not None:
                self.children.setdefault(parent, []).append(pk)
        self.agency_sq = [squash(f"{fa}|{en}|{code}") for _pk, _p, fa, en, code in agencies]
        self.agency_words = [
            frozenset(search_key(f"{fa} {en}").split()) for *_x, fa, en, _c in agencies
        ]

        # Services: (pk, service_id, agency_id, recipients, life_events, smart_status,
        # title_fa, title_en, description_fa, description_en).
        self.pks: list[int] = []
        self.service_ids: list[str] = []
        self.agency_of: list[int] = []
        self.recipients: list[frozenset[str]] = []
        self.life_events: list[frozenset[str]] = []
        self.smart: list[bool] = []
        self.title_sq: list[str] = []
        self.title_words: list[frozenset[str]] = []
        self.body_sq: list[str] = []
        self.exact_title: dict[str, list[int]] = {}
        prefixes: list[tuple[str, int]] = []
        sort_keys: list[str] = []
        lengths: list[int] = []
        # Many agencies offer services of the same title; normalise each text once.
        key_of = functools.lru_cache(maxsize=None)(search_key)
        for i, row in enumerate(services):
            pk, sid, agency_id, recipients, events, smart, t_fa, t_en, d_fa, d_en = row
            k_fa, k_en = key_of(t_fa), key_of(t_en)
            fa_sq, en_sq = k_fa.replace(" ", ""), k_en.replace(" ", "")
            title_sq = f"{fa_sq}|{en_sq}"
            # Agency names are matched once per agency (see search), not copied into cards.
            body = "|".join((title_sq, squash(d_fa), squash(d_en), sid or ""))
            self.pks.append(pk)
            self.service_ids.append(sid or "")
            self.agency_of.append(agency_id)
            self.recipients.append(frozenset(recipients or ()))
            self.life_events.append(frozenset(events or ()))
            self.smart.append(smart == SmartStatus.APPROVED)
            self.title_sq.append(title_sq)
            self.title_words.append(frozenset(k_fa.split()) | frozenset(k_en.split()))
            self.body_sq.append(body)
            for text in {fa_sq, en_sq} - {""}:
                self.exact_title.setdefault(text, []).append(i)
                prefixes.append((text, i))
            sort_keys.append(k_fa)
            lengths.append(len(k_fa))
        prefixes.sort()
        self.prefix_texts = [text for text, _i in prefixes]
        self.prefix_cards = [i for _text, i in prefixes]
        # Within a tier, shorter titles (closer to what was typed) first, then A to Z.
        self.title_order = sorted(range(len(sort_keys)), key=sort_keys.__getitem__)
        self.alpha = [0] * len(sort_keys)  # each card's place in A-to-Z order
        for position, i in enumerate(self.title_order):
            self.alpha[i] = position
        by_length = sorted(range(len(sort_keys)), key=lambda i: (lengths[i], sort_keys[i]))
        self.rank = [0] * len(by_length)
        for position, i in enumerate(by_length):
            self.rank[i] = position
        self.by_service_id = {sid: i for i, sid in enumerate(self.service_ids) if sid}
        self.sorted_sids = sorted(self.by_service_id)
        # All card texts in one string, so the first token is found by one C-level scan
        # instead of 6,000 Python-level ``in`` tests. ``starts`` holds each card's offset.
        self.starts: list[int] = []
        offset = 0
        for text in self.body_sq:
            self.starts.append(offset)
            offset += len(text) + 1
        self.all_text = "\n".join(self.body_sq)

        # Postings: title trigrams (fuzzy fallback) and title words (ranking, corrections).
        self.trigrams: dict[str, list[int]] = {}
        self.trigram_counts: list[int] = []
        self.word_postings: dict[str, list[int]] = {}
        for i, title in enumerate(self.title_sq):
            grams = _trigrams(title)
            self.trigram_counts.append(len(grams))
            for g in grams:
                self.trigrams.setdefault(g, []).append(i)
            for word in self.title_words[i]:
                self.word_postings.setdefault(word, []).append(i)
        # One-edit neighbours: a word and a query token one edit apart share a delete form.
        self.deletes: dict[str, set[str]] = {}
        for word in self.word_postings:
            if len(word) < 3:
                continue
            for form in _deletes(word) | {word}:
                self.deletes.setdefault(form, set()).add(word)
        self._memo: dict[str, Any] = {}
        self._memo_lock = threading.Lock()
        # Names this snapshot in cache keys; :func:`get_index` sets it from the catalogue's
        # signature, so every process serving the same catalogue uses the same name.
        self.snapshot = f"local-{id(self)}-{time.monotonic_ns()}"

    @classmethod
    def build(cls) -> SearchIndex:
        agencies = list(Agency.objects.values_list("id", "parent_id", "name_fa", "name_en", "code"))
        services = list(
            Service.objects.values_list(
                "id",
                "service_id",
                "agency_id",
                "recipients",
                "life_events",
                "smart_status",
                "title_fa",
                "title_en",
                "description_fa",
                "description_en",
            ).order_by("id")
        )
        return cls(services, agencies)

    def __len__(self) -> int:
        return len(self.pks)

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per snapshot: figures derived from the catalogue (the home
        page's counts) are then as fresh as the index and cost nothing between changes."""
        try:
            return self._memo[name]
        except KeyError:
            pass
        with self._memo_lock:
            if name not in self._memo:
                self._memo[name] = compute()
            return self._memo[name]

    # Filters and tallies -----------------------------------------------------------------

    def agency_and_descendants(self, agency_pk: int) -> set[int]:
        seen = {agency_pk}
        stack = [agency_pk]
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def _filtered(
        self,
        agency_pk: int | None,
        recipient: str | None,
        smart: bool,
        life_event: str | None,
    ) -> list[int]:
        pool: Iterable[int] = range(len(self.pks))
        if agency_pk is not None:
            agency_ids = self.agency_and_descendants(agency_pk)
            agency_of = self.agency_of
            pool = [i for i in pool if agency_of[i] in agency_ids]
        if recipient:
            recipients = self.recipients
            pool = [i for i in pool if recipient in recipients[i]]
        if smart:
            smart_flags = self.smart
            pool = [i for i in pool if smart_flags[i]]
        if life_event:
            events = self.life_events
            pool = [i for i in pool if life_event in events[i]]
        return list(pool)

    def life_event_counts(self) -> dict[str, int]:
        """How many services each life event gathers."""
        counts: dict[str, int] = {}
        for events in self.life_events:
            for code in events:
                counts[code] = counts.get(code, 0) + 1
        return counts

    def agencies_of(self, service_pks: Iterable[int]) -> Counter[int]:
        """How many of ``service_pks`` each agency provides."""
        position = self.memo("position", lambda: {pk: i for i, pk in enumerate(self.pks)})
        return Counter(self.agency_of[position[pk]] for pk in service_pks if pk in position)

    # Matching ----------------------------------------------------------------------------

    def corrections(self, token: str) -> set[str]:
        """Title words one edit (insert, delete, substitute, swap) from ``token``."""
        if len(token) < 4 or token in self.word_postings:
            return set()
        found: set[str] = set()
        for form in _deletes(token) | {token}:
            found |= self.deletes.get(form, set())
        return found

    def splits(self, token: str) -> list[tuple[str, str]]:
        """Ways to cut ``token`` into two title words ("کارتملی": "کارت" + "ملی")."""
        if len(token) < 4 or token in self.word_postings:
            return []
        postings = self.word_postings
        return [
            (token[:cut], token[cut:])
            for cut in range(2, len(token) - 1)
            if token[:cut] in postings and token[cut:] in postings
        ]

    def _rare(self, token: str) -> bool:
        """Whether ``token`` is in few titles, judged by its least common title trigram: the
        single scan wins for rare tokens, the per-card test for common ones."""
        if len(token) < 3:
            return False
        grams = (token[i : i + 3] for i in range(len(token) - 2))
        return min(len(self.trigrams.get(g, ())) for g in grams) < RARE_TOKEN_TITLES

    def _scan(self, token: str) -> set[int]:
        """Cards whose text contains ``token``."""
        text, starts = self.all_text, self.starts
        found: set[int] = set()
        position = text.find(token)
        while position != -1:
            card = bisect.bisect_right(starts, position) - 1
            found.add(card)
            # Skip to the next card: one hit per card is enough.
            next_start = starts[card + 1] if card + 1 < len(starts) else len(text)
            position = text.find(token, next_start)
        return found

    def _title_prefix(self, q_sq: str) -> list[int]:
        """Cards whose Persian or English title starts with ``q_sq``."""
        texts = self.prefix_texts
        start = bisect.bisect_left(texts, q_sq)
        end = bisect.bisect_left(texts, q_sq + "\U0010ffff", lo=start)
        return self.prefix_cards[start:end]

    def search(
        self,
        query: str = "",
        *,
        agency_pk: int | None = None,
        recipient: str | None = None,
        smart: bool = False,
        life_event: str | None = None,
        limit: int | None = None,
    ) -> SearchResult:
        """Services matching ``query`` and the filters, best first (see the tiers above);
        with no query, every service that passes the filters, A to Z."""
        query = (query or "")[:MAX_QUERY_LENGTH]
        key = search_key(query)
        unfiltered = agency_pk is None and not recipient and not smart and not life_event
        pool = (
            range(len(self.pks))
            if unfiltered
            else self._filtered(agency_pk, recipient, smart, life_event)
        )
        if not key:
            if unfiltered:
                ordered = self.title_order
            else:
                ordered = sorted(pool, key=self.alpha.__getitem__)
            return self._result(query, ordered, [], limit)

        tier_of: dict[int, int] = {}
        allowed = None if unfiltered else set(pool)

        # A service ID, typed in any digits and with any separators, wins outright.
        digits = digits_only(query)
        if len(digits) >= 4 and not _NON_DIGITS.search(key):
            exact = self.by_service_id.get(digits) if len(digits) == SERVICE_ID_LENGTH else None
            if exact is not None and (allowed is None or exact in allowed):
                tier_of[exact] = TIER_ID
            ordered_ids = self.sorted_sids
            start = bisect.bisect_left(ordered_ids, digits)
            end = bisect.bisect_left(ordered_ids, digits + ":", lo=start)  # ":" follows "9"
            for sid in ordered_ids[start:end]:
                i = self.by_service_id[sid]
                if i not in tier_of and (allowed is None or i in allowed):
                    tier_of[i] = TIER_ID_PREFIX

        key = with_synonyms(key)
        q_sq = key.replace(" ", "")
        tokens = key.split()
        # Every text tier needs each token in the card's text or its agency's name, so a
        # substring filter narrows 6,000 cards to those worth ranking; longest token first.
        body, agency_of = self.body_sq, self.agency_of
        candidates: Iterable[int] = pool
        for n, t in enumerate(sorted(tokens, key=len, reverse=True)):
            agencies = {self.agency_pks[a] for a, name in enumerate(self.agency_sq) if t in name}
            if n == 0 and unfiltered and self._rare(t):
                found = self._scan(t)
                if agencies:
                    found.update(i for i in pool if agency_of[i] in agencies)
                candidates = sorted(found)
            elif agencies:
                candidates = [i for i in candidates if t in body[i] or agency_of[i] in agencies]
            else:
                candidates = [i for i in candidates if t in body[i]]
            if not candidates:
                break
        matched = set(candidates)

        def assign(cards: Iterable[int], tier: int) -> None:
            for i in cards:
                if i in matched and i not in tier_of:
                    tier_of[i] = tier

        assign(self.exact_title.get(q_sq, ()), TIER_TITLE_EXACT)
        assign(self._title_prefix(q_sq), TIER_TITLE_PREFIX)
        postings = [self.word_postings.get(t, ()) for t in tokens]
        if len(postings) == 1:
            assign(postings[0], TIER_TITLE_WORDS)
        elif all(postings):
            assign(set(postings[0]).intersection(*postings[1:]), TIER_TITLE_WORDS)
        title = self.title_sq
        rest = [i for i in candidates if i not in tier_of]
        for i in rest:
            if q_sq in title[i]:
                tier_of[i] = TIER_TITLE_SUBSTRING
            elif len(tokens) > 1 and all(t in title[i] for t in tokens):
                tier_of[i] = TIER_TITLE_TOKENS
            else:
                tier_of[i] = TIER_BODY

        fuzzy: list[tuple[float, int, int]] = []
        if len(tier_of) < FUZZY_BELOW:
            fuzzy = self._fuzzy(key, tokens, allowed, tier_of)

        groups: dict[int, list[int]] = {}
        for i, tier in tier_of.items():
            groups.setdefault(tier, []).append(i)
        rank = self.rank
        ordered = []
        for tier in sorted(groups, reverse=True):
            ordered.extend(sorted(groups[tier], key=rank.__getitem__))
        ordered.extend(i for _score, _rank, i in sorted(fuzzy))
        return self._result(query, ordered, self._agencies(key), limit, bool(fuzzy))

    def _fuzzy(
        self,
        key: str,
        tokens: list[str],
        allowed: set[int] | None,
        matched: dict[int, int],
    ) -> list[tuple[float, int, int]]:
        """Close matches not already found, as (-score, rank, card) to sort."""
        found: dict[int, float] = {}
        title = self.title_sq
        # Token corrections, over titles: every token must match as typed or as a title word
        # one edit away. Word postings keep this to a few set operations.
        postings = self.word_postings
        fixes = [self.corrections(t) for t in tokens]
        splits = [self.splits(t) for t in tokens]
        if any(fixes) or any(splits):
            hits: set[int] | None = None
            for token, words, pairs in zip(tokens, fixes, splits, strict=True):
                cards: set[int] = set()
                for word in words:
                    cards.update(postings.get(word, ()))
                # Two words typed with nothing between them: the card needs both.
                for first, second in pairs:
                    cards.update(set(postings[first]).intersection(postings[second]))
                if token in postings:
                    cards.update(postings[token])
                elif not words and not pairs:
                    cards.update(i for i in range(len(title)) if token in title[i])
                hits = cards if hits is None else hits & cards
                if not hits:
                    break
            for i in hits or ():
                if i not in matched and (allowed is None or i in allowed):
                    found[i] = 1.0
        # Trigram similarity on the squashed title catches split or merged words and typos
        # in short words that the word lookup skips. Very common trigrams say little, so
        # they are left out of the first count; the best few are then scored on all their
        # trigrams.
        q_sq = key.replace(" ", "")
        if len(q_sq) >= 4:
            grams = _trigrams(q_sq)
            common = max(50, len(title) // 5)
            overlap: Counter[int] = Counter()
            skipped = 0
            for g in grams:
                posting = self.trigrams.get(g, ())
                if len(posting) <= common:
                    overlap.update(posting)
                else:
                    skipped += 1
            # A title needs 60 % of the query's trigrams; even with every skipped one it
            # cannot get there below this partial count.
            needed = 0.6 * len(grams) - skipped
            counts = self.trigram_counts
            for i, partial in overlap.most_common(FUZZY_SHORTLIST):
                if partial < needed:
                    break
                if i in matched or i in found or (allowed is not None and i not in allowed):
                    continue
                shared = len(grams & _trigrams(title[i]))
                # Share of the query's trigrams in the title, discounted by title length.
                similarity = shared / (len(grams) + 0.25 * counts[i])
                if shared / len(grams) >= 0.6 and similarity >= 0.35:
                    found[i] = similarity
        rank = self.rank
        return [(-score, rank[i], i) for i, score in found.items()]

    def _agencies(self, key: str, limit: int = 5) -> list[int]:
        q_sq = key.replace(" ", "")
        tokens = key.split()
        hits = [
            (0 if name.startswith(q_sq) else 1, len(name), self.agency_pks[n])
            for n, name in enumerate(self.agency_sq)
            if q_sq in name or all(t in self.agency_words[n] for t in tokens)
        ]
        return [pk for *_rank, pk in sorted(hits)[:limit]]

    def _result(
        self,
        query: str,
        ordered: list[int],
        agencies: list[int],
        limit: int | None,
        fuzzy: bool = False,
    ) -> SearchResult:
        if limit is not None:
            ordered = ordered[:limit]
        pks = self.pks
        return SearchResult(
            query=query,
            service_pks=[pks[i] for i in ordered],
            agency_pks=agencies,
            fuzzy=fuzzy,
        )


# The shared index --------------------------------------------------------------------------

_lock = threading.Lock()
_index: SearchIndex | None = None
_signature: tuple | None = None
_checked_at = 0.0
_generation: int | None = None


def _current_signature() -> tuple:
    """What changes whenever the catalogue does, cheap to ask for on SQLite and PostgreSQL.

    Every write through :mod:`.operations` (and the seeder) appends a version row, so the
    newest version ID moves on any edit; row counts and the newest IDs catch additions and
    deletions. All are primary-key lookups, where ``MAX(updated_at)`` would scan the table.
    """
    return (
        Service.objects.count(),
        Service.objects.aggregate(top=Max("id"))["top"],
        ServiceVersion.objects.aggregate(top=Max("id"))["top"],
        Agency.objects.count(),
        Agency.objects.aggregate(top=Max("id"))["top"],
        AgencyVersion.objects.aggregate(top=Max("id"))["top"],
    )


def get_index() -> SearchIndex:
    """The current index, rebuilt if the catalogue changed since it was built."""
    global _index, _signature, _checked_at, _generation
    now = time.monotonic()
    generation = PUBLIC_PAGES.read()
    if _index is not None and now - _checked_at < STALE_CHECK_SECONDS and generation == _generation:
        return _index
    with _lock:
        now = time.monotonic()
        if (
            _index is not None
            and now - _checked_at < STALE_CHECK_SECONDS
            and generation == _generation
        ):
            return _index
        signature = _current_signature()
        if _index is None or signature != _signature:
            _index = SearchIndex.build()
            _signature = signature
        # The snapshot names cached fragments: it follows the public generation too, which
        # moves with changes the signature does not see (a service definition, say).
        _index.snapshot = hashlib.blake2b(
            repr((signature, generation)).encode(), digest_size=8
        ).hexdigest()
        _checked_at = time.monotonic()
        _generation = generation
        return _index


def invalidate(**_kwargs) -> None:
    """Forget the index so the next query rebuilds it (any catalogue write in this process)."""
    global _index, _checked_at
    with _lock:
        _index = None
        _checked_at = 0.0


def public_changed(**_kwargs) -> None:
    """A card, an agency or a service definition changed: every process drops its index and
    every kept public page, so the next request sees the change.

    The generation moves at once (this transaction's own later reads, and tests that never
    commit, see the change) and again on commit: a page another process rendered from the old
    rows in between is kept under the first move only, and the second one drops it.
    """
    invalidate()
    PUBLIC_PAGES.bump()
    transaction.on_commit(PUBLIC_PAGES.bump)


def connect_signals() -> None:
    """Called from ``CatalogueConfig.ready`` so writes invalidate the index in every process."""
    for model in (Service, Agency):
        post_save.connect(public_changed, sender=model, dispatch_uid=f"search-public-save-{model}")
        post_delete.connect(public_changed, sender=model, dispatch_uid=f"search-public-del-{model}")


def search_services(
    query: str = "",
    *,
    agency_pk: int | None = None,
    recipient: str | None = None,
    smart: bool = False,
    life_event: str | None = None,
    limit: int | None = None,
) -> SearchResult:
    """Search the catalogue; see :meth:`SearchIndex.search`."""
    return get_index().search(
        query,
        agency_pk=agency_pk,
        recipient=recipient,
        smart=smart,
        life_event=life_event,
        limit=limit,
    )
