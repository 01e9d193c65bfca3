"""Which copy is the article: the earliest published (then the earliest fetched day, then the
canonical URL), whatever order the copies arrive in; an older copy found later takes the
article's place with its search entry, band keys and duplicates. And a batch of records gets
the outcomes each would get admitted alone."""
import itertools
import random
import sqlite3

import pytest

from crawler.article.dedup import body_fingerprint, original_rank
from crawler.chain.process import Arrival, admit, admit_many
from crawler.storage.store import Store
from test_near_duplicates import ARTICLES, COPIES, ORIGINAL, record, store  # noqa: F401 (a fixture)

PARAGRAPHS = ORIGINAL["paragraphs"]


def copy(url: str, published: str | None, make=lambda p: p, title: str = "标题", fetched: str = "2026-01-01") -> dict:
    return {**record(make(PARAGRAPHS), url, title=title), "published": published,
            "fetched_at": f"{fetched}T00:00:00+00:00"}


def snapshot(store: Store) -> dict:
    """Everything admitting writes, as comparable values."""
    query = lambda sql: store.db.execute(sql).fetchall()  # noqa: E731
    return {
        "articles": query("SELECT id, url, canonical_url, site, title, published, body, content_hash, fetched_at "
                          "FROM articles ORDER BY id"),
        "duplicates": query("SELECT url, duplicate_of, kind, similarity, site, published FROM duplicates ORDER BY url"),
        "bands": query("SELECT key, article_id FROM lsh_bands ORDER BY key, article_id"),
        "minhashes": query("SELECT article_id, size, signature FROM minhashes ORDER BY article_id"),
        "raw_pages": query("SELECT article_id, url FROM raw_pages ORDER BY article_id"),
    }


def searched(store: Store, phrase: str) -> list[int]:
    store.commit()
    return [row[0] for row in store.db.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", [f'"{phrase}"'])]


def test_an_older_copy_found_later_takes_the_article_place(store):
    first = admit(store, copy("http://a.test/1.html", "2022-03-20", title="甲网转载标题"), b"<html>a")
    later = admit(store, copy("http://c.test/3.html", "2022-03-21", COPIES["trimmed ending"]), b"<html>c")
    older = admit(store, copy("http://b.test/2.html", "2022-03-18T09:00:00+08:00", COPIES["edited"],
                              title="乙网原始标题"), b"<html>b")
    assert (first.kind, later.kind, older.kind, older.took_place) == ("new", "duplicate", "duplicate", True)
    assert older.article_id == first.article_id == later.article_id
    assert store.db.execute("SELECT url, published, title FROM articles").fetchall() == [
        ("http://b.test/2.html", "2022-03-18T09:00:00+08:00", "乙网原始标题")]
    assert store.db.execute("SELECT url, duplicate_of, kind, published FROM duplicates ORDER BY url").fetchall() == [
        ("http://a.test/1.html", first.article_id, "near", "2022-03-20"),
        ("http://c.test/3.html", first.article_id, "near", "2022-03-21")]
    assert searched(store, "乙网原始") == [first.article_id]
    assert searched(store, "甲网转载") == []
    store.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    found = body_fingerprint(store.db.execute("SELECT body FROM articles").fetchone()[0])
    assert {row[0] for row in store.db.execute("SELECT key FROM lsh_bands WHERE article_id = ?",
                                               [first.article_id])} == set(found.keys)
    assert store.db.execute("SELECT signature FROM minhashes").fetchone()[0] == found.signature.tobytes()
    assert store.db.execute("SELECT url FROM raw_pages").fetchall() == [("http://b.test/2.html",)]
    again = admit(store, copy("http://d.test/4.html", "2022-03-22", COPIES["edited"]))
    assert (again.kind, again.article_id, again.took_place) == ("duplicate", first.article_id, False)


@pytest.mark.parametrize("stored, arriving, replaced", [
    (("2022-03-18", "2026-01-02"), ("2022-03-18", "2026-01-01"), True),  # same date: fetched a day earlier
    (("2022-03-18", "2026-01-01"), ("2022-03-18", "2026-01-01"), False),  # a full tie: the lower URL (a.test)
    (("2022-03-18", "2026-01-01"), (None, "2025-01-01"), False),  # no date comes after every date
    (("2022-03-18", "2026-01-01"), ("2022-03-18T10:00:00+08:00", "2026-01-01"), True),  # the timed copy that day
    ((None, "2026-01-01"), ("not a date", "2025-12-31"), True),  # neither dated: the earlier fetched day
])
def test_the_original_is_the_earliest_published_then_fetched_then_url(store, stored, arriving, replaced):
    admit(store, copy("http://a.test/1.html", stored[0], fetched=stored[1]))
    outcome = admit(store, copy("http://b.test/2.html", arriving[0], COPIES["edited"], fetched=arriving[1]))
    assert outcome.took_place is replaced
    expected = "http://b.test/2.html" if replaced else "http://a.test/1.html"
    assert store.db.execute("SELECT url FROM articles").fetchall() == [(expected,)]


def test_a_date_without_time_counts_as_the_end_of_its_day():
    assert original_rank("2022-03-18", None, "x") > original_rank("2022-03-18T23:00:00+08:00", None, "x")
    assert original_rank("2022-03-18", None, "x") < original_rank("2022-03-19T00:00:00+08:00", None, "x")


GROUP = [  # one article as five portals carry it (each a near copy of every other), d an exact copy of b
    copy("http://e.test/5.html", "2022-03-19", COPIES["new headline and dateline"]),
    copy("http://a.test/1.html", "2022-03-20"),
    copy("http://b.test/2.html", "2022-03-17T15:00:00+08:00", COPIES["edited"]),
    copy("http://c.test/3.html", None, COPIES["bylines and 原标题 around it"]),
    copy("http://d.test/4.html", "2022-03-17", COPIES["edited"]),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(GROUP))))[::7])
def test_the_same_original_whatever_the_order_of_arrival(tmp_path, order):
    store = Store(tmp_path / "order.db")
    for position in order:
        admit(store, GROUP[position])
    assert store.db.execute("SELECT url FROM articles").fetchall() == [("http://b.test/2.html",)]
    assert store.db.execute("SELECT COUNT(*) FROM duplicates WHERE duplicate_of = (SELECT id FROM articles)"
                            ).fetchone()[0] == 4
    store.close()


def test_copies_lists_every_copy_with_the_text_of_its_article(store):
    for item in GROUP:
        admit(store, item)
    admit(store, {**record(ARTICLES[3]["paragraphs"], "http://f.test/6.html"), "site": "other"})
    rows = store.db.execute("SELECT url, kind, published, title, body = (SELECT body FROM articles a "
                            "WHERE a.id = copies.article_id) FROM copies ORDER BY url").fetchall()
    assert [row[0] for row in rows] == [f"http://{c}.test/{n}.html" for n, c in enumerate("abcdef", start=1)]
    assert [row[1] for row in rows] == ["near", "original", "near", "exact", "near", "original"]
    assert [row[2] for row in rows][:5] == ["2022-03-20", "2022-03-17T15:00:00+08:00", None, "2022-03-17",
                                            "2022-03-19"]
    assert all(row[4] for row in rows)


def corpus(seed: int) -> list[dict]:
    """Articles and their copies with dates at random, exact copies, repeated URLs and empty
    bodies, shuffled."""
    rng = random.Random(seed)
    records = []
    for n, article in enumerate(ARTICLES[:12]):
        for c, make in enumerate([lambda p: p, *COPIES.values()][:rng.randint(1, 5)]):
            day = rng.choice([None, "2022-03-17", "2022-03-18", "2022-03-18T08:00:00+08:00"])
            records.append({**record(make(article["paragraphs"]), f"http://s{rng.randrange(4)}.test/{n}-{c}.html",
                                     title=f"{article['title']}{c}"),
                            "published": day, "fetched_at": f"2026-01-0{rng.randint(1, 3)}T00:00:00+00:00"})
    records += [{**rng.choice(records), "url": f"http://s9.test/exact{n}.html"} for n in range(6)]  # exact copies
    records += [dict(rng.choice(records)) for _ in range(5)]  # already stored by then (or in the same batch)
    records += [{**record(["短"], f"http://s0.test/empty{n}.html")} for n in range(3)]
    rng.shuffle(records)
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_gets_the_outcomes_of_its_records_admitted_one_by_one(tmp_path, seed):
    records = corpus(seed)
    alone = Store(tmp_path / "alone.db")
    expected = [admit(alone, item) for item in records]
    assert any(outcome.took_place for outcome in expected)  # the corpus exercises replacing
    for size in (7, len(records)):
        batched = Store(tmp_path / f"batched{size}.db")
        outcomes = []
        with batched.transaction():
            for start in range(0, len(records), size):
                outcomes += admit_many(batched, [Arrival(item) for item in records[start:start + size]])
        assert [(o.kind, o.match, o.article_id, o.took_place) for o in outcomes] == \
               [(o.kind, o.match, o.article_id, o.took_place) for o in expected]
        batched.commit()
        assert snapshot(batched) == snapshot(alone)
        batched.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        batched.close()
    alone.close()


def test_a_duplicate_url_inside_one_batch_is_known(store):
    outcomes = admit_many(store, [Arrival(GROUP[1]), Arrival(GROUP[1])])
    assert [o.kind for o in outcomes] == ["new", "known"]
    with pytest.raises(sqlite3.IntegrityError):  # a bad record is an error, not `known`
        admit(store, {**GROUP[0], "site": None})
