"""Single-process pandas implementation of the clean job's cleaning: the baseline of bench_clean.py.

The same steps, rules and constants as spark_jobs/transforms, written the way one process of pandas does
them (object-dtype strings, Python ``re``, ``apply``), so the benchmark compares execution, not rules:

- HTML to text: the Arrow path's own Python function (``text._strip_html``) on the rows holding ``<``/``&``;
- NFKC with ``Series.str.normalize``, every whitespace run to one space (Python's ``\\s`` is
  ``str.isspace``, the set the Arrow path spells out for RE2);
- masking: ``pii._STEP_GROUPS`` (same scans, patterns, order, rewrites, Luhn/IBAN checks) with ``regex``
  (Python ``re`` has no ``\\p{L}``),
  then the customer's name/e-mail literals through ``pii._replace_literals``;
- prompt-injection flags: ``INJECTION_RULES`` with Python ``re``, first matching rule wins;
- language: the ``STOP_WORDS`` profiles scored with pandas string ops and a groupby;
- exact dedup: ``hashlib.sha256`` + ``drop_duplicates`` after sorting by the job's order key;
- near duplicates: ``dedup``'s numpy shingle/MinHash/band functions over the whole column at once,
  bands grouped with pandas, candidates verified by exact Jaccard on Python sets.

Nested ``messages`` (list<struct>) are flattened and rebuilt with pyarrow at read/write time only.
Private helpers of spark_jobs (leading underscore) are imported on purpose: sharing them is what
makes the baseline the SAME cleaning.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import regex

from llmops.contracts.personal_data import PLACEHOLDERS
from llmops.masking.phones import mask_phones
from llmops.masking.pii import _STEP_GROUPS, _replace_literals
from llmops.screening import langid
from llmops.screening.injection import INJECTION_RULES
from spark_jobs.schemas import SILVER
from spark_jobs.transforms import text
from spark_jobs.transforms.dedup import band_hashes, jaccard, minhash, shingle_hashes

ID_COLUMN = {"tickets": "ticket_id", "faq": "faq_id", "reviews": "review_id"}
TEXT_SOURCES = tuple(ID_COLUMN)

# ASCII: \b, \d and (?i) behave as in RE2, which the Arrow path runs these patterns with. The masking patterns
# use Unicode classes (\p{L} in e-mail addresses) that RE2 has and ``re`` lacks: they run with ``regex``.
_MASK_GROUPS = [
    (regex.compile(scan, regex.ASCII),
     [(step, regex.compile(step.pattern, regex.ASCII) if hasattr(step, "pattern") else None) for step in steps])
    for scan, steps in _STEP_GROUPS
]
_RULES = [(name, re.compile(p, re.ASCII)) for name, p in INJECTION_RULES.items()]
_HTML_ROWS = re.compile("[<&]")
_WHITESPACE = re.compile(r"\s+")




# --- text --------------------------------------------------------------------------------------------


def html_to_text(s: pd.Series) -> pd.Series:
    rows = s.str.contains(_HTML_ROWS, na=False)
    if rows.any():
        s = s.copy()
        s[rows] = text._strip_html(pa.array(s[rows].tolist(), pa.string())).to_pylist()
    return s


def normalize(s: pd.Series) -> pd.Series:
    return s.str.normalize("NFKC").str.replace(_WHITESPACE, " ", regex=True).str.strip(" ")


def _mask_patterns(s: pd.Series) -> pd.Series:
    """As ``mask_pii``: per group, one scan of the original text picks the rows its steps run on."""
    out = s.copy()
    for scan, steps in _MASK_GROUPS:
        candidates = s.map(lambda t, scan=scan: isinstance(t, str) and scan.search(t) is not None).astype(bool)
        rows = out[candidates]
        for step, pattern in steps:
            if pattern is None:  # phones past the regex shapes: libphonenumber in Python, as in the Arrow path
                rows = rows.map(lambda t: mask_phones(t, PLACEHOLDERS["PHONE"])[0] if isinstance(t, str) else t)
            else:
                repl = step.rewrite if step.verify is None else (lambda m, v=step.verify: v(m.group(0)) or m.group(0))
                rows = rows.map(lambda t, p=pattern, r=repl: p.sub(r, t) if isinstance(t, str) else t)
        out[candidates] = rows
    return out


def _mask_literals(s: pd.Series, person_values: pd.Series) -> pd.Series:
    counts: Counter = Counter()  # _replace_literals counts replacements; the baseline has no use for them

    def one(value, literals):
        if not isinstance(value, str) or not literals:
            return value
        lowered = value.lower()
        present = {lit for lit in (x.strip().lower() for x in literals) if lit and lit in lowered}
        return _replace_literals(value, lowered, present, counts) if present else value

    return pd.Series([one(v, p) for v, p in zip(s.tolist(), person_values.tolist(), strict=True)], index=s.index)


def clean_text(s: pd.Series, person_values: pd.Series | None = None) -> pd.Series:
    masked = _mask_patterns(normalize(html_to_text(s)))
    return masked if person_values is None else _mask_literals(masked, person_values)


def detect_language(s: pd.Series, declared: pa.Array | None, policy: langid.LanguagePolicy) -> pd.Series:
    """The job's identifier (lingua is a library call, not a Spark or Arrow feature)."""
    got = langid.detect_language(pa.array(s.tolist(), pa.string()), declared, policy)
    return pd.Series(got.to_pylist(), index=s.index)


def first_injection_rule(s: pd.Series) -> pd.Series:
    """Name of the first rule (in ``INJECTION_RULES`` order) that matches each row, else None."""
    rule = pd.Series(None, index=s.index, dtype=object)
    for name, pattern in _RULES:
        todo = s[rule.isna()]
        hit = todo.str.contains(pattern, na=False)
        rule[hit[hit].index] = name
    return rule


def dedup_text(s: pd.Series) -> pd.Series:
    return normalize(s).str.lower()


def _sha256(values: pd.Series) -> pd.Series:
    return values.map(lambda t: hashlib.sha256(t.encode()).hexdigest())


# --- per source --------------------------------------------------------------------------------------


def _tickets(table: pa.Table) -> tuple[pd.DataFrame, pd.Series, pa.ListArray]:
    """(cleaned columns, joined message text, cleaned messages) of a bronze tickets table."""
    customer = table.column("customer").combine_chunks()
    df = table.select(["ticket_id", "created_at", "channel", "subject", "resolution", "_source_file", "_line"])
    df = df.to_pandas()
    df["customer_id"] = customer.field("id").to_pandas()
    name, email = customer.field("name").to_pandas(), customer.field("email").to_pandas()
    first = name.fillna("").str.split(" ", n=1).str[0]
    person = pd.Series(
        [[v for v in (n, f, e) if v and len(v) > 1] for n, f, e in zip(name, first, email, strict=True)],
        index=df.index,
    )
    messages = table.column("messages").combine_chunks()
    flat = messages.flatten()
    parent = pc.list_parent_indices(messages).to_numpy()
    msg_text = clean_text(flat.field("text").to_pandas(), person.iloc[parent].reset_index(drop=True))
    df["subject"] = clean_text(df["subject"], person)
    df["resolution"] = clean_text(df["resolution"], person)
    joined = msg_text.fillna("").groupby(parent).agg("\n".join).reindex(df.index, fill_value="")
    cleaned = pa.StructArray.from_arrays(
        [flat.field("role"), pa.array(msg_text.tolist(), pa.string()), flat.field("ts")],
        fields=list(flat.type),
    )
    offsets = pc.subtract(messages.offsets, messages.offsets[0])
    return df, joined, pa.ListArray.from_arrays(offsets, cleaned)


def _join_lines(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.fillna("") + "\n" + b.fillna("")


def clean_frame(
    table: pa.Table, source: str, policy: langid.LanguagePolicy
) -> tuple[pd.DataFrame, pa.ListArray | None]:
    """Bronze table -> every row cleaned (text, lang, dedup_text, flags), before any row is dropped."""
    messages, declared = None, None
    if source == "tickets":
        df, main, messages = _tickets(table)
        flagged = [df["subject"], main, df["resolution"]]
    elif source == "faq":
        df = table.to_pandas()
        df["page_title"] = clean_text(df["page_title"])
        df["question"] = clean_text(df["question"])
        df["answer"] = clean_text(df.pop("answer_html"))
        main = _join_lines(df["question"], df["answer"])
        flagged = [df["question"], df["answer"]]
    else:
        declared = table.column("lang")
        df = table.drop_columns(["lang", "extra"]).to_pandas()
        df["title"] = clean_text(df["title"])
        df["body"] = clean_text(df["body"])
        main = _join_lines(df["title"], df["body"])
        flagged = [df["title"], df["body"]]
    rule = pd.Series(None, index=df.index, dtype=object)
    for column in flagged:  # the first text with a hit names the rule
        todo = rule.isna()
        rule[todo] = first_injection_rule(column[todo])
    df["suspicious_rule"] = rule
    df["is_suspicious"] = rule.notna()
    df["lang"] = detect_language(main, declared, policy)
    df["dedup_text"] = dedup_text(main)
    return df, messages


def order_key(df: pd.DataFrame, source: str) -> pd.Series:
    """The job's ``_order``: created_at (microseconds, UTC) | id | content_hash | file | line (12 digits)."""
    parts = [
        df[ID_COLUMN[source]],
        df["content_hash"],
        df["_source_file"],
        df["_line"].astype(str).str.zfill(12),
    ]
    if "created_at" in df:
        parts.insert(0, df["created_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%f"))
    return parts[0].str.cat(parts[1:], sep="|")


def near_duplicate_keys(
    texts: pd.Series, keys: pd.Series, threshold: float, num_perm: int, bands: int, shingle_words: int
) -> pd.Series:
    """``dup_of`` indexed by the key of every row that near-duplicates an earlier row (as the job's
    ``near_duplicates``: each bucket's members are checked against the bucket's smallest key)."""
    shingles, offsets = shingle_hashes(pa.array(texts.tolist(), pa.string()), shingle_words)
    bh = band_hashes(minhash(shingles, offsets, num_perm), bands)
    n = len(texts)
    keys = keys.to_numpy()
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(keys, kind="stable")] = np.arange(n)  # integers group faster than key strings
    members = pd.DataFrame({"rank": np.repeat(rank, bands), "band": np.tile(np.arange(bands), n), "bh": bh.ravel()})
    bucket = members.groupby(["band", "bh"])["rank"]
    members["head"] = bucket.transform("min")
    members = members[(bucket.transform("size") > 1) & (members["rank"] != members["head"])]
    pairs = members[["rank", "head"]].drop_duplicates()
    row_of_rank = np.argsort(rank)
    sets: dict[int, set] = {}

    def shingle_set(row: int) -> set:
        if row not in sets:
            sets[row] = set(shingles[offsets[row] : offsets[row + 1]].tolist())
        return sets[row]

    pairs["jaccard"] = [
        jaccard(shingle_set(row_of_rank[a]), shingle_set(row_of_rank[b]))
        for a, b in zip(pairs["rank"], pairs["head"], strict=True)
    ]
    verified = pairs[pairs["jaccard"] >= threshold].groupby("rank")["head"].min()
    return pd.Series(keys[row_of_rank[verified.to_numpy()]], index=keys[row_of_rank[verified.index]])


def clean_source(table: pa.Table, source: str, languages: list[str], data_cfg) -> pa.Table:
    """Bronze Arrow table of ``source`` -> silver Arrow table (SILVER column order)."""
    policy = langid.LanguagePolicy(tuple(languages), data_cfg.language_min_confidence, data_cfg.language_min_letters)
    df, messages = clean_frame(table, source, policy)
    df["content_hash"] = _sha256(df["dedup_text"])
    df["_order"] = order_key(df, source)
    kept = df[df["lang"].isin([*languages, langid.UNKNOWN] if data_cfg.keep_unknown_language else languages)]
    kept = kept.sort_values("_order").drop_duplicates("content_hash", keep="first")
    dups = near_duplicate_keys(
        kept["dedup_text"],
        kept["_order"],
        data_cfg.near_dup_threshold,
        data_cfg.minhash_permutations,
        data_cfg.minhash_bands,
        data_cfg.shingle_words,
    )
    kept = kept[~kept["_order"].isin(dups.index)].sort_index()
    columns = [n for n in SILVER[source].fieldNames() if n != "messages"]
    out = pa.Table.from_pandas(kept[columns], preserve_index=False)
    if messages is not None:
        out = out.append_column("messages", messages.take(pa.array(kept.index.to_numpy())))
    return out.select(SILVER[source].fieldNames())


def run(bronze_dir: Path, out_file: Path, source: str, languages: list[str], data_cfg) -> int:
    """Read one bronze partition, clean it, write silver Parquet; return the silver row count."""
    silver = clean_source(pq.read_table(bronze_dir), source, languages, data_cfg)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(silver, out_file, coerce_timestamps="us", allow_truncated_timestamps=True)
    return silver.num_rows
