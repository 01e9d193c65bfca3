"""Near-duplicate decisions on real-looking articles (the demo sites' own article texts): the
copies portals make are caught, different articles that share phrases are not, short texts
never match."""
import json
import random
from pathlib import Path

import numpy as np
import opencc
import pytest

from crawler.article.dedup import (LIKELY_SIMILARITY, MAX_BUCKET, MAX_CHECKED_CANDIDATES, MIN_NEAR_CHARS, NUM_PERM,
                                   candidates, candidates_of_many, estimated_similarity, fingerprint, normalized_body,
                                   sharing_bands, shingles, similarity)
from crawler.chain.ingest import clean_record
from crawler.chain.process import admit
from crawler.storage.store import Store

CONTENT = Path(__file__).resolve().parent.parent / "crawler" / "demo" / "content"


def demo_articles(site: str) -> list[dict]:
    return json.loads((CONTENT / f"{site}.json").read_text("utf-8"))["articles"]


ARTICLES = demo_articles("laowu") + demo_articles("investchn")
ORIGINAL = ARTICLES[0]  # 掇刀区开展一季度重点项目拉练观摩活动, five paragraphs


def record(paragraphs: list[str], url: str, title: str = "标题") -> dict:
    return {"url": url, "site": "test", "extractor": "site:test", "title": title, "published": "2022-03-18",
            "source": None, "author": None, "summary": None, "body": "\n".join(paragraphs), "script": "hans",
            "fetched_at": "2026-01-01T00:00:00+00:00"}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "near.db")
    yield s
    s.close()


def sentences(paragraph: str) -> list[str]:
    return [s + "。" for s in paragraph.split("。") if s]


def edited(paragraphs: list[str]) -> list[str]:
    """A figure changed and the last sentence of the second paragraph dropped."""
    second = "".join(sentences(paragraphs[1])[:-1])
    return [paragraphs[0].replace("12个", "13个"), second, *paragraphs[2:]]


COPIES = {
    "new headline and dateline": lambda p: ["本报讯 " + p[0], *p[1:]],
    "trimmed ending": lambda p: p[:-1],
    "bylines and 原标题 around it": lambda p: ["原标题：掇刀区开展重点项目观摩", "（记者 张伟 通讯员 李娜）", *p, "本文转载自荆门发布微信公众号。"],
    "edited": edited,
    "everything at once": lambda p: ["（记者 张伟）", "本报讯 " + p[0], *p[1:-1]],
}


@pytest.mark.parametrize("make_copy", COPIES.values(), ids=COPIES.keys())
def test_republished_copies_are_near_duplicates_of_the_first(store, make_copy):
    first = admit(store, record(ORIGINAL["paragraphs"], "http://a.test/1.html"))
    copy = admit(store, record(make_copy(ORIGINAL["paragraphs"]), "http://b.test/9.html", title="另一个标题"))
    assert (first.kind, copy.kind, copy.match) == ("new", "duplicate", "near")
    row = store.db.execute("SELECT duplicate_of, kind, similarity, url FROM duplicates").fetchone()
    assert row[:2] == (first.article_id, "near")
    assert 0.8 <= row[2] <= 1.0  # share of the shorter text found in the other: 1.0 when trimmed
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def test_a_copy_in_traditional_script_is_a_near_duplicate_after_cleaning(store):
    first = admit(store, record(ORIGINAL["paragraphs"], "http://a.test/1.html"))
    s2t = opencc.OpenCC("s2t").convert
    traditional = record([s2t(p) for p in ORIGINAL["paragraphs"]], "http://tw.test/1.html", title=s2t(ORIGINAL["title"]))
    cleaned = clean_record(traditional)
    assert cleaned["script"] == "hant"
    copy = admit(store, cleaned)
    assert (copy.kind, copy.article_id) == ("duplicate", first.article_id)


def test_different_articles_on_the_same_kind_of_subject_are_all_kept(store):
    outcomes = [admit(store, record(a["paragraphs"], f"http://a.test/{i}.html")) for i, a in enumerate(ARTICLES)]
    assert [o.kind for o in outcomes] == ["new"] * len(ARTICLES)
    assert store.db.execute("SELECT COUNT(*) FROM duplicates").fetchone()[0] == 0


def test_a_follow_up_that_repeats_the_lead_is_not_a_copy(store):
    admit(store, record(ORIGINAL["paragraphs"], "http://a.test/1.html"))
    follow_up = [ORIGINAL["paragraphs"][0], *ARTICLES[5]["paragraphs"][1:]]
    assert admit(store, record(follow_up, "http://a.test/2.html")).kind == "new"


def test_a_digest_holding_a_whole_article_is_not_its_copy(store):
    admit(store, record(ORIGINAL["paragraphs"], "http://a.test/1.html"))
    digest = [*ORIGINAL["paragraphs"], *ARTICLES[3]["paragraphs"], *ARTICLES[4]["paragraphs"]]
    assert admit(store, record(digest, "http://a.test/digest.html")).kind == "new"


SHORT = "3月17日，掇刀区组织开展2022年一季度重点项目拉练观摩活动，现场察看了12个在建和新开工项目，总投资达86.5亿元。"


def test_short_texts_never_match_as_near_duplicates(store):
    assert len(normalized_body(SHORT * 2)) < MIN_NEAR_CHARS
    assert len(shingles(normalized_body(SHORT))) == 0
    admit(store, record([SHORT, "企业负责人介绍了项目进展。"], "http://a.test/1.html"))
    nearly = record([SHORT.replace("12个", "15个"), "企业负责人介绍了项目进展。"], "http://a.test/2.html")
    assert admit(store, nearly).kind == "new"
    assert admit(store, record([SHORT], "http://a.test/3.html")).kind == "new"  # its own first sentence


def test_identical_short_texts_are_still_exact_duplicates(store):
    admit(store, record([SHORT], "http://a.test/1.html"))
    assert admit(store, record([SHORT], "http://b.test/1.html")).match == "exact"


def test_similarity_is_the_share_of_the_shorter_text_found_in_the_longer():
    whole = shingles(normalized_body("".join(ORIGINAL["paragraphs"] + ARTICLES[1]["paragraphs"])))
    first_part = shingles(normalized_body("".join(ORIGINAL["paragraphs"])))
    other = shingles(normalized_body("".join(ARTICLES[2]["paragraphs"])))
    assert similarity(first_part, whole) == pytest.approx(1.0, abs=0.01)
    assert similarity(whole, first_part) == similarity(first_part, whole)
    assert similarity(first_part, other) < 0.2
    assert similarity(first_part, shingles(normalized_body("".join(ORIGINAL["paragraphs"] * 3)))) == 1.0
    assert similarity(first_part, first_part[:0]) == 0.0


def test_candidates_are_the_best_and_those_sharing_more_than_one_band(store):
    with store.transaction():
        for key, article_id in [(1, 10), (2, 10), (3, 10), (1, 11), (4, 12), (5, 12), (6, 13), (7, 14)]:
            store.db.execute("INSERT INTO lsh_bands (key, article_id) VALUES (?, ?)", [key, article_id])
    sharing = sharing_bands(store.band_members([1, 2, 3, 4, 5, 6, 7]), limit=3)
    assert sharing == [(10, 3), (12, 2), (11, 1)]
    assert candidates(sharing) == [10, 12]
    assert candidates(sharing_bands(store.band_members([6, 7]), limit=3)) == [13]  # one band each: only the first is checked
    assert candidates(sharing_bands(store.band_members([99]), limit=3)) == []


def test_a_band_key_shared_by_many_articles_is_not_indexed_again(store):
    text = normalized_body("".join(ORIGINAL["paragraphs"]))
    found = fingerprint(shingles(text))
    crowded_key = found.keys[0]
    with store.transaction():
        for article_id in range(1000, 1000 + MAX_BUCKET):
            store.db.execute("INSERT INTO lsh_bands (key, article_id) VALUES (?, ?)", [crowded_key, article_id])
    article_id = admit(store, record(ORIGINAL["paragraphs"], "http://a.test/1.html")).article_id
    keys = {row[0] for row in store.db.execute("SELECT key FROM lsh_bands WHERE article_id = ?", [article_id])}
    assert keys == set(found.keys) - {crowded_key}


def test_a_reextracted_body_is_indexed_under_its_new_keys(tmp_path):
    store = Store(tmp_path / "t.db")
    old, new = "海陵区举行项目观摩活动。" * 30, "淮安市召开重大项目推进会，部署下一阶段工作。" * 20
    article_id = store.add_article(
        {"url": "http://a.test/1", "canonical_url": "http://a.test/1", "site": "a", "body": old,
         "content_hash": "h", "fetched_at": "2026-01-01"}, b"", None, fingerprint(shingles(normalized_body(old))))
    store.update_article(article_id, {"body": new})
    keys = {row[0] for row in store.db.execute("SELECT key FROM lsh_bands WHERE article_id = ?", [article_id])}
    expected = fingerprint(shingles(normalized_body(new)))
    assert keys == set(expected.keys)
    size, signature = store.signatures([article_id])[article_id]
    assert size == expected.size and (signature == expected.signature).all()
    store.close()


def test_signatures_estimate_the_similarity_of_copies_and_strangers():
    def found(paragraphs):
        return fingerprint(shingles(normalized_body("".join(paragraphs))))

    original = found(ORIGINAL["paragraphs"])
    for name, make_copy in COPIES.items():
        copy = found(make_copy(ORIGINAL["paragraphs"]))
        assert estimated_similarity(copy, original.size, original.signature) >= 0.6, name
    for article in ARTICLES[1:]:
        stranger = found(article["paragraphs"])
        assert estimated_similarity(stranger, original.size, original.signature) < LIKELY_SIMILARITY


def test_short_texts_fill_every_signature_value_the_same_way():
    """A text of a few hundred characters leaves bins empty; two copies fill them alike, so
    their share of equal values still estimates their Jaccard similarity."""
    text = normalized_body(SHORT * 4)  # repeated: 55 distinct shingles for 128 values
    a, b = fingerprint(shingles(text)), fingerprint(shingles(normalized_body("（记者 张伟）") + text))
    assert a.size < 60 and len(a.signature) == NUM_PERM
    jaccard = a.size / b.size  # b holds every shingle of a
    assert abs(np.count_nonzero(a.signature == b.signature) / NUM_PERM - jaccard) < 0.1


def test_older_databases_get_signatures_and_new_band_keys(tmp_path):
    import sqlite_utils

    from crawler.storage.store import MIGRATIONS

    path = tmp_path / "v7.db"
    old = sqlite_utils.Database(path)
    for migration in MIGRATIONS[:7]:
        migration(old)
    old["meta"].insert({"key": "schema_version", "value": "7"}, pk="key")
    body = "".join(ORIGINAL["paragraphs"])
    old.execute("INSERT INTO articles (url, canonical_url, site, body, content_hash, published, fetched_at) "
                "VALUES (?, ?, 'a', ?, 'h', '2022-03-18', '2025-01-01T00:00:00+00:00')",
                ["http://a.test/1", "http://a.test/1", body])
    old.execute("INSERT INTO lsh_bands (key, article_id) VALUES (12345, 1)")  # a key of the old scheme
    old.conn.commit()
    old.close()
    store = Store(path)
    keys = {row[0] for row in store.db.execute("SELECT key FROM lsh_bands WHERE article_id = 1")}
    assert keys == set(fingerprint(shingles(normalized_body(body))).keys)
    copy = admit(store, record(COPIES["edited"](ORIGINAL["paragraphs"]), "http://b.test/1.html"))
    assert (copy.kind, copy.article_id) == ("duplicate", 1)
    store.close()


def test_candidates_of_many_texts_are_each_texts_own():
    """The batch computation picks, for every text, the articles the one-text rule picks."""
    rng = random.Random(7)
    keys = list(range(1, 400))
    members = {key: rng.sample(range(1, 60), rng.choice([1, 1, 1, 2, 3, 5, 50 if rng.random() < 0.05 else 2]))
               for key in keys if rng.random() < 0.6}
    texts = [rng.sample(keys, 16) for _ in range(300)] + [[], [10_000], [1, 1, 2, 3, 3]]
    batch = candidates_of_many(texts, members)
    for text, found in zip(texts, batch):
        own = {key: members[key] for key in text if key in members}
        assert found == candidates(sharing_bands(own, MAX_CHECKED_CANDIDATES))
    assert sum(len(found) > 1 for found in batch) > 50  # ties, runs of several: the cases that can differ
