#!/usr/bin/env python3
"""Validate the evaluation question sets (JSONL) against the document corpus.

Usage:
    python3 eval/sets/validate_sets.py [SET.jsonl ...] [--corpus DIR ...]

Without arguments it validates jjj.jsonl, jjj_dev.jsonl, broad.jsonl and broad_dev.jsonl next
to this script, looking documents up in <repo>/docs_corpus (the shipped library; /work/shared/corpus/jjj as a fallback), and
also checks that the sets share no question.  Exit status 1 if any problem.

Broad sets (issue #24, file name containing "broad") hold questions answered by a whole section:
kind "broad", a ``section`` field (the verbatim heading or first-line prefix of the answering
section, at a line start), ``evidence`` = the first sentence of that section's body and 4-8
``key_points`` that are verbatim in the document within that section (not necessarily in the
evidence).

Standard library only.
"""
import json
import os
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # index.zh of this checkout
from index.zh import HEADING_END_PUNCT

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

KEYS = ["id", "question", "history", "answerable", "doc", "alt_docs",
        "evidence", "key_points", "kind"]
KINDS = ["fact", "number", "list", "paraphrase", "cross_document", "temporal",
         "follow_up", "unanswerable", "named_doc", "colloquial", "broad"]
# Kinds only the broad sets use (issue #24); the question sets use every other kind.
BROAD_KINDS = ["broad"]
# Optional fields (issue #13): why an unanswerable question has no answer, the document a
# missing-document question names, what was searched to check it, and whether the question
# names its document (``据2025年天津市政府工作报告……``, ``《…条例》第X条……``).
OPTIONAL_KEYS = ["why", "missing_doc", "checked", "names_doc", "section"]
WHYS = ["missing_fact", "missing_document", "wrong_scope", "false_premise"]

# Minimum counts for the held-out main set.
MAIN_MIN = {"total": 160, "fact": 25, "number": 20, "list": 15, "paraphrase": 20,
            "cross_document": 12, "temporal": 15, "follow_up": 12, "unanswerable": 35}
# The tuning (dev) set is smaller: every kind must be present.
DEV_MIN = {"total": 40, **{k: 1 for k in KINDS if k not in BROAD_KINDS}}
# Broad sets (issue #24): a held-out one and a dev one, all rows of kind broad.
BROAD_MIN = {"total": 20, "broad": 20}
BROAD_DEV_MIN = {"total": 24, "broad": 24}
BROAD_MIN_DOCS = 10
BROAD_KP_MIN_N, BROAD_KP_MAX_N = 4, 8
BROAD_KP_MAX = 40
SECTION_MAX_CHARS = 6000
# Across both sets (issue #13): fresh unanswerable questions with a reason, and questions naming their document.
BOTH_MIN = {"why": 80, "named_doc": 40, **{w: 10 for w in WHYS}}
MIN_DOCS = 25
MIN_UNANSWERABLE_RATIO = 0.20

SEED_ID = "协同发展看京津冀"
# shared/ normally lives at /work/shared; CI lays a copy beside the clone.
_SHARED = [os.path.join(os.path.dirname(REPO), "shared"), "/work/shared"]
SEED_FALLBACKS = [os.path.join(d, "seeds", "000_96270f4216e9840f.txt") for d in _SHARED]
DEFAULT_CORPUS_DIRS = [os.path.join(REPO, "docs_corpus")] + [os.path.join(d, "corpus", "jjj") for d in _SHARED]
DISTRACTOR_DIRS = [os.path.join(d, "corpus", "distractors") for d in _SHARED]

EVIDENCE_MIN, EVIDENCE_MAX = 15, 200
KP_MIN, KP_MAX = 2, 20


def _doc_path(doc_id, corpus_dirs):
    for d in corpus_dirs:
        p = os.path.join(d, doc_id + ".txt")
        if os.path.isfile(p):
            return p
    if doc_id == SEED_ID:
        p = os.path.join(REPO, "docs_corpus", SEED_ID + ".txt")
        if os.path.isfile(p):
            return p
        for p in SEED_FALLBACKS:
            if os.path.isfile(p):
                return p
    return None


def _load_doc(doc_id, corpus_dirs, cache):
    if doc_id not in cache:
        p = _doc_path(doc_id, corpus_dirs)
        cache[doc_id] = None
        if p is not None:
            with open(p, encoding="utf-8") as f:
                cache[doc_id] = f.read()
    return cache[doc_id]


def _is_broad(path):
    return "broad" in os.path.basename(path)


def _minimums(path):
    if _is_broad(path):
        return BROAD_DEV_MIN if "dev" in os.path.basename(path) else BROAD_MIN
    return DEV_MIN if "dev" in os.path.basename(path) else MAIN_MIN


_CN = "一二三四五六七八九十百零〇两"
# Heading levels by how a line starts (1 = top); lower numbers end the sections of higher ones.
_HEADING_LEVELS = [
    (1, re.compile(r"第[%s]+章|[%s]+、" % (_CN, _CN))),
    (2, re.compile(r"第[%s]+节|（[%s]+）" % (_CN, _CN))),
    (3, re.compile(r"第[%s]+条|\d+[.．、]" % _CN)),
]


def _heading_level(line):
    for level, rx in _HEADING_LEVELS:
        if rx.match(line):
            return level
    return None


_BLANK = " \t\u3000\r\n\u200b\ufeff\xa0"


def _looks_like_plain_heading(line):
    line = line.strip(_BLANK)
    return 0 < len(line) <= 30 and line[-1] not in HEADING_END_PUNCT


def section_spans(text, section):
    """(body start, end) of every place where `section` starts a line of `text`.

    The body starts after the section string (and the white space after it); it ends at the next
    line that is a heading of the same or a higher level (第X章 / 一、 above 第X节 / （一） above
    第X条 / 1.), or, for an unnumbered heading, at the next short unpunctuated line; at most
    SECTION_MAX_CHARS characters."""
    spans = []
    start = 0
    while True:
        pos = text.find(section, start)
        if pos < 0:
            return spans
        start = pos + 1
        if pos > 0 and text[pos - 1] != "\n":
            continue
        body = pos + len(section)
        while body < len(text) and text[body] in _BLANK:
            body += 1
        level = _heading_level(section)
        end = min(len(text), body + SECTION_MAX_CHARS)
        line_start = text.find("\n", body)
        while 0 <= line_start < end:
            line = text[line_start + 1:text.find("\n", line_start + 1) if text.find("\n", line_start + 1) >= 0
                        else len(text)]
            other = _heading_level(line)
            if (level is not None and other is not None and other <= level) or (
                    level is None and (other is not None or _looks_like_plain_heading(line))):
                end = line_start
                break
            line_start = text.find("\n", line_start + 1)
        spans.append((body, end))


def _broad_problems(rec, where, text):
    """Issue #24: section at a line start, evidence opening its body, key points within it."""
    problems = []
    sec = rec.get("section")
    kps = rec["key_points"] if isinstance(rec["key_points"], list) else []
    ev = rec["evidence"] if isinstance(rec["evidence"], str) else ""
    if not isinstance(sec, str) or not sec.strip() or sec != sec.strip() or "\n" in sec:
        return ["%s: a broad question needs section: the verbatim heading of its section" % where]
    if rec["answerable"] is not True:
        problems.append("%s: a broad question must be answerable" % where)
    if not (BROAD_KP_MIN_N <= len(kps) <= BROAD_KP_MAX_N):
        problems.append("%s: a broad question needs %d-%d key_points, got %d" % (
            where, BROAD_KP_MIN_N, BROAD_KP_MAX_N, len(kps)))
    if text is None:
        return problems
    spans = [sp for sp in section_spans(text, sec) if text.startswith(ev, sp[0])] if ev else []
    if not section_spans(text, sec):
        problems.append("%s: section %r does not start a line of %s" % (where, sec, rec["doc"]))
    elif not spans:
        problems.append("%s: evidence is not the first sentence of the body of section %r" % (where, sec))
    else:
        body = text[spans[0][0]:spans[0][1]]
        for k in kps:
            if k not in body:
                problems.append("%s: key point %r not within section %r" % (where, k, sec))
    return problems


def load(path):
    items = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                items.append((n, line))
    return items


def validate(path, corpus_dirs=None, minimums=None):
    """Return a list of human-readable problems found in the JSONL set at `path`."""
    corpus_dirs = list(corpus_dirs or DEFAULT_CORPUS_DIRS)
    minimums = minimums or _minimums(path)
    problems = []
    cache = {}
    if not os.path.isfile(path):
        return ["%s: file not found" % path]

    ids = Counter()
    questions = Counter()
    kinds = Counter()
    docs_covered = set()
    n_records = 0

    for lineno, line in load(path):
        where = "%s:%d" % (os.path.basename(path), lineno)
        try:
            rec = json.loads(line)
        except ValueError as e:
            problems.append("%s: invalid JSON (%s)" % (where, e))
            continue
        if not isinstance(rec, dict):
            problems.append("%s: not a JSON object" % where)
            continue
        n_records += 1
        if not set(KEYS) <= set(rec.keys()) or set(rec.keys()) - set(KEYS) - set(OPTIONAL_KEYS):
            problems.append("%s: keys %s != %s (optional: %s)" % (where, sorted(rec.keys()), sorted(KEYS),
                                                                  sorted(OPTIONAL_KEYS)))
            continue
        rid = rec["id"]
        where = "%s:%d[%s]" % (os.path.basename(path), lineno, rid)

        # --- types ---
        if not isinstance(rid, str) or not rid:
            problems.append("%s: id must be a non-empty string" % where)
        ids[rid] += 1
        q = rec["question"]
        if not isinstance(q, str) or not q.strip():
            problems.append("%s: question must be a non-empty string" % where)
            q = ""
        questions[q.strip()] += 1
        hist = rec["history"]
        if not isinstance(hist, list) or not all(
                isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) and x.strip() for x in t)
                for t in hist):
            problems.append("%s: history must be a list of [question, answer] string pairs" % where)
            hist = []
        if not isinstance(rec["answerable"], bool):
            problems.append("%s: answerable must be a bool" % where)
        kind = rec["kind"]
        if kind not in KINDS:
            problems.append("%s: unknown kind %r" % (where, kind))
        elif _is_broad(path) != (kind in BROAD_KINDS):
            problems.append("%s: kind %r does not belong in %s" % (where, kind, os.path.basename(path)))
        if "section" in rec and kind not in BROAD_KINDS:
            problems.append("%s: section is only for broad questions" % where)
        kinds[kind] += 1
        alt = rec["alt_docs"]
        if not isinstance(alt, list) or not all(isinstance(a, str) for a in alt):
            problems.append("%s: alt_docs must be a list of strings" % where)
            alt = []
        ev = rec["evidence"]
        kps = rec["key_points"]
        if not isinstance(ev, str):
            problems.append("%s: evidence must be a string" % where)
            ev = ""
        if not isinstance(kps, list) or not all(isinstance(k, str) for k in kps):
            problems.append("%s: key_points must be a list of strings" % where)
            kps = []

        if kind == "follow_up" and not hist:
            problems.append("%s: follow_up question needs a non-empty history" % where)
        problems += _optional_field_problems(rec, where, corpus_dirs)

        # --- answerable / unanswerable consistency ---
        if rec["answerable"] is False or kind == "unanswerable":
            if kind != "unanswerable" or rec["answerable"] is not False:
                problems.append("%s: answerable=false iff kind=unanswerable" % where)
            if rec["doc"] is not None:
                problems.append("%s: unanswerable item must have doc=null" % where)
            if ev != "" or kps or alt:
                problems.append("%s: unanswerable item must have empty evidence/key_points/alt_docs" % where)
            continue

        doc = rec["doc"]
        if not isinstance(doc, str) or not doc:
            problems.append("%s: answerable item needs a doc id" % where)
            continue
        text = _load_doc(doc, corpus_dirs, cache)
        if text is None:
            problems.append("%s: doc %r not found in corpus" % (where, doc))
        else:
            docs_covered.add(doc)
        for a in alt:
            if a == doc:
                problems.append("%s: alt_docs repeats doc" % where)
            elif _load_doc(a, corpus_dirs, cache) is None:
                problems.append("%s: alt doc %r not found in corpus" % (where, a))
        if len(set(alt)) != len(alt):
            problems.append("%s: duplicate alt_docs" % where)

        if not (EVIDENCE_MIN <= len(ev) <= EVIDENCE_MAX):
            problems.append("%s: evidence length %d not in [%d, %d]" % (where, len(ev), EVIDENCE_MIN, EVIDENCE_MAX))
        if "\n" in ev or "\r" in ev:
            problems.append("%s: evidence spans a line break" % where)
        if ev != ev.strip():
            problems.append("%s: evidence has leading/trailing whitespace" % where)
        if text is not None and ev and ev not in text:
            problems.append("%s: evidence not found verbatim in %s" % (where, doc))
        if kind in BROAD_KINDS:
            problems += _broad_problems(rec, where, text)
            for k in kps:
                if not (KP_MIN <= len(k) <= BROAD_KP_MAX):
                    problems.append("%s: key point %r length %d not in [%d, %d]" % (
                        where, k, len(k), KP_MIN, BROAD_KP_MAX))
        else:
            if not (1 <= len(kps) <= 4):
                problems.append("%s: need 1-4 key_points, got %d" % (where, len(kps)))
            for k in kps:
                if not (KP_MIN <= len(k) <= KP_MAX):
                    problems.append("%s: key point %r length %d not in [%d, %d]" % (where, k, len(k), KP_MIN, KP_MAX))
                if k not in ev:
                    problems.append("%s: key point %r not in evidence" % (where, k))
        if len(set(kps)) != len(kps):
            problems.append("%s: duplicate key_points" % where)

    # --- set-level checks ---
    for rid, c in ids.items():
        if c > 1:
            problems.append("%s: duplicate id %r (%d times)" % (os.path.basename(path), rid, c))
    for q, c in questions.items():
        if q and c > 1:
            problems.append("%s: duplicate question %r (%d times)" % (os.path.basename(path), q, c))
    if n_records < minimums.get("total", 0):
        problems.append("%s: %d questions < required %d" % (os.path.basename(path), n_records, minimums["total"]))
    for k in KINDS:
        need = minimums.get(k, 0)
        if kinds[k] < need:
            problems.append("%s: kind %s has %d < required %d" % (os.path.basename(path), k, kinds[k], need))
    min_docs = BROAD_MIN_DOCS if _is_broad(path) else MIN_DOCS
    if len(docs_covered) < min_docs:
        problems.append("%s: %d documents covered < required %d" % (os.path.basename(path), len(docs_covered), min_docs))
    if _is_broad(path):
        return problems
    if n_records and kinds["unanswerable"] / n_records < MIN_UNANSWERABLE_RATIO:
        problems.append("%s: unanswerable ratio %.1f%% < %d%%" % (
            os.path.basename(path), 100.0 * kinds["unanswerable"] / n_records, int(MIN_UNANSWERABLE_RATIO * 100)))
    return problems


def _stem_key(name):
    """(title core, years) of a document name: 《》, dates, years and 中华人民共和国 removed."""
    name = name.strip().strip("《》")
    years = set(re.findall(r"((?:19|20)\d\d)(?:年|-\d\d-\d\d)", name))
    core = re.sub(r"[（(][^）)]*[）)]", "", name)
    core = re.sub(r"(?:19|20)\d\d年", "", core)
    core = re.sub(r"[《》\s]|中华人民共和国", "", core)
    return core, years


def missing_doc_matches(missing_doc, names, exact=False):
    """Names (file stems) that look like the document a missing-document question names.

    Same title core (or, unless ``exact``, one core inside the other) and overlapping years (or no
    year on one side). ``exact`` is for the distractors, whose generic titles (2026年政府工作报告 of a
    province) would otherwise match every report."""
    core, years = _stem_key(missing_doc)
    found = []
    for n in names:
        c, y = _stem_key(n)
        same = c == core if exact else (c == core or (c and core and (c in core or core in c)))
        if same and (not years or not y or years & y):
            found.append(n)
    return found


def _stems(dirs):
    out = []
    for d in dirs:
        if os.path.isdir(d):
            out += [os.path.splitext(f)[0] for f in os.listdir(d) if f.endswith(".txt")]
    return out


def _optional_field_problems(rec, where, corpus_dirs):
    problems = []
    why = rec.get("why")
    kind = rec["kind"]
    if "why" in rec:
        if why not in WHYS:
            problems.append("%s: why %r not in %s" % (where, why, WHYS))
        if rec["answerable"] is not False:
            problems.append("%s: why is only for unanswerable questions" % where)
        checked = rec.get("checked")
        if not isinstance(checked, list) or not checked or not all(isinstance(c, str) and c.strip() for c in checked):
            problems.append("%s: an unanswerable question with a why needs checked: [searched strings]" % where)
    elif "checked" in rec:
        problems.append("%s: checked without why" % where)
    if why == "missing_document":
        md = rec.get("missing_doc")
        if not isinstance(md, str) or not md.strip():
            problems.append("%s: missing_document needs missing_doc" % where)
        else:
            present = missing_doc_matches(md, _stems(corpus_dirs))
            if present:
                problems.append("%s: missing_doc %r is in the corpus: %s" % (where, md, present))
            present = missing_doc_matches(md, _stems(DISTRACTOR_DIRS), exact=True)
            if present:
                problems.append("%s: missing_doc %r is among the distractors: %s" % (where, md, present))
    elif "missing_doc" in rec:
        problems.append("%s: missing_doc only for why=missing_document" % where)
    if "names_doc" in rec:
        if rec["names_doc"] is not True:
            problems.append("%s: names_doc must be true when present" % where)
        if rec["answerable"] is not True:
            problems.append("%s: names_doc is for answerable questions" % where)
    if kind == "named_doc" and rec.get("names_doc") is not True:
        problems.append("%s: named_doc question needs names_doc: true" % where)
    return problems


def counts_across(paths):
    """Counts over several sets: rows with a why, per why, named_doc rows, names_doc rows."""
    c = Counter()
    for p in paths:
        if not os.path.isfile(p):
            continue
        for _, line in load(p):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("why"):
                c["why"] += 1
                c[rec["why"]] += 1
            if rec.get("kind") == "named_doc":
                c["named_doc"] += 1
            if rec.get("names_doc"):
                c["names_doc"] += 1
    return c


def check_disjoint(paths):
    """Problems for questions (with identical history) that occur in more than one set."""
    seen = {}
    problems = []
    for p in paths:
        if not os.path.isfile(p):
            continue
        for _, line in load(p):
            try:
                rec = json.loads(line)
                key = (rec["question"].strip(), json.dumps(rec["history"], ensure_ascii=False))
            except (ValueError, KeyError, AttributeError, TypeError):
                continue
            if key in seen and seen[key] != p:
                problems.append("question %r appears in both %s and %s" % (
                    key[0], os.path.basename(seen[key]), os.path.basename(p)))
            seen.setdefault(key, p)
    return problems


def check_disjoint_sections(paths):
    """Problems for a (document, section) pair answered in more than one broad set (issue #24:
    the held-out broad questions must not ask about the sections the dev ones ask about)."""
    seen = {}
    problems = []
    for p in paths:
        if not (_is_broad(p) and os.path.isfile(p)):
            continue
        for _, line in load(p):
            try:
                rec = json.loads(line)
                key = (rec["doc"], rec["section"])
            except (ValueError, KeyError, TypeError):
                continue
            if key in seen and seen[key] != p:
                problems.append("section %r of %s is used in both %s and %s" % (
                    key[1], key[0], os.path.basename(seen[key]), os.path.basename(p)))
            seen.setdefault(key, p)
    return problems


def summary(path):
    kinds, docs = Counter(), Counter()
    for _, line in load(path):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        kinds[rec.get("kind")] += 1
        if rec.get("doc"):
            docs[rec["doc"]] += 1
    return kinds, docs


def main(argv):
    paths, corpus_dirs = [], []
    it = iter(argv)
    for a in it:
        if a == "--corpus":
            corpus_dirs.append(next(it))
        else:
            paths.append(a)
    if not paths:
        paths = [os.path.join(HERE, n) for n in ("jjj.jsonl", "jjj_dev.jsonl", "broad.jsonl", "broad_dev.jsonl")]
    corpus_dirs = corpus_dirs or DEFAULT_CORPUS_DIRS
    all_problems = []
    for p in paths:
        probs = validate(p, corpus_dirs)
        all_problems += probs
        if os.path.isfile(p):
            kinds, docs = summary(p)
            print("%s: %d questions, %d documents; kinds: %s" % (
                os.path.basename(p), sum(kinds.values()), len(docs),
                ", ".join("%s=%d" % (k, kinds[k]) for k in KINDS)))
        for msg in probs:
            print("  PROBLEM:", msg)
    if len(paths) > 1:
        for msg in check_disjoint(paths) + check_disjoint_sections(paths):
            all_problems.append(msg)
            print("  PROBLEM:", msg)
    question_paths = [p for p in paths if not _is_broad(p)]
    if len(question_paths) > 1:
        both = counts_across(question_paths)
        print("both sets: " + ", ".join("%s=%d" % (k, both[k]) for k in ["why", *WHYS, "named_doc", "names_doc"]))
        for k, need in BOTH_MIN.items():
            if both[k] < need:
                msg = "both sets: %s has %d < required %d" % (k, both[k], need)
                all_problems.append(msg)
                print("  PROBLEM:", msg)
    print("OK" if not all_problems else "%d problem(s)" % len(all_problems))
    return 1 if all_problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
