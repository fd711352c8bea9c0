"""Swedish full-text search over reports, on PostgreSQL.

What a coordinator types a word from: the report's texts (``Deviation.search_document``, a stored
generated tsvector with a GIN index: description weighted A, consequence, actions taken and suggestions
B) and the names of its category and commitment (small tables, looked up first and matched by id).

Every word is stemmed with the ``swedish`` configuration and matched as a prefix, so the beginning of a
compound finds the compound ("utskrivning" finds "utskrivningsmeddelandet", "nykter" the category
"… nykter eller drogfri" and "nykterhet"). A report matches when each word is found in its texts, its
category or its commitment; the planner combines the GIN index with the category and commitment indexes
(a BitmapOr). Words without a lexeme (stop words such as "och") are left out.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import F, Q, QuerySet

CONFIG = "swedish"
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+")


def document() -> SearchVector:
    """The expression stored in ``Deviation.search_document``."""
    return SearchVector("description", weight="A", config=CONFIG) + SearchVector(
        "consequence", "actions_taken", "suggested_improvement", weight="B", config=CONFIG
    )


def words_of(text: str) -> list[str]:
    """The distinct words of ``text``, lower-cased, at most MAX_WORDS (letters and digits only, so each
    is a safe ``to_tsquery`` operand)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        seen.setdefault(word, None)
    return list(seen)[:MAX_WORDS]


@dataclass(frozen=True)
class Word:
    text: str
    category_ids: list[int]
    commitment_ids: list[int]

    @property
    def query(self) -> SearchQuery:
        return SearchQuery(f"{self.text}:*", config=CONFIG, search_type="raw")


def look_up(words: list[str], *, using: str = "default") -> list[Word]:
    """The words that stem to a lexeme, each with the categories and commitments whose names match it,
    in one query (the reference tables are small)."""
    from agreements.models import Commitment, DeviationCategory

    if not words:
        return []
    categories, commitments = DeviationCategory._meta.db_table, Commitment._meta.db_table
    # Table names come from the models' metadata; the words and the configuration are parameters.
    sql = f"""
        SELECT w,
               ARRAY(SELECT c.id FROM {categories} c
                     WHERE to_tsvector(%(config)s::regconfig, c.name) @@ q ORDER BY c.id),
               ARRAY(SELECT m.id FROM {commitments} m
                     WHERE to_tsvector(%(config)s::regconfig, m.title || ' ' || m.description) @@ q
                     ORDER BY m.id)
        FROM unnest(%(words)s::text[]) WITH ORDINALITY AS u(w, n),
             LATERAL to_tsquery(%(config)s::regconfig, w || ':*') AS q
        WHERE numnode(q) > 0
        ORDER BY n
    """  # noqa: S608
    with connections[using].cursor() as cursor:
        cursor.execute(sql, {"words": words, "config": CONFIG})
        return [Word(text, list(cats), list(comms)) for text, cats, comms in cursor.fetchall()]


def search(queryset: QuerySet, text: str) -> QuerySet:
    """``queryset`` narrowed to the reports matching every word of ``text``, annotated with
    ``search_rank`` (full-text rank of the report's own texts for any of the words)."""
    words = look_up(words_of(text), using=queryset.db)
    if not words:
        return queryset.none()
    for word in words:
        queryset = queryset.filter(
            Q(search_document=word.query)
            | Q(category_id__in=word.category_ids)
            | Q(commitment_id__in=word.commitment_ids)
        )
    any_word = SearchQuery(" | ".join(f"{w.text}:*" for w in words), config=CONFIG, search_type="raw")
    # The stored document itself (F): SearchRank given a field name would rank to_tsvector(the document's
    # text), re-parsing every matching report's lexemes with the server's default configuration
    # (english) on every search: slower by twenty times at 1M reports and not the Swedish stems.
    return queryset.annotate(search_rank=SearchRank(F("search_document"), any_word))
