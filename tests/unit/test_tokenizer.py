"""The project tokenizer: a real BPE training run, saved and reloaded through AutoTokenizer."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from llmops import tokenizer as tk

CORPUS = [
    f"Hi {who}, order {n} was {state}. Reach us at [EMAIL] or [PHONE] if the refund of ${n}.99 is late."
    for n in range(300)
    for who, state in [("[PERSON]", "shipped"), ("there", "delivered"), ("Sam", "returned")]
]


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    return tk.build_tokenizer(CORPUS, tmp_path_factory.mktemp("tok") / "t", vocab_size=400)


def test_round_trip_through_from_pretrained(tok_dir):
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    assert (tok.pad_token, tok.bos_token, tok.eos_token) == (tk.PAD, tk.BOS, tk.EOS)
    assert len({tok.pad_token_id, tok.bos_token_id, tok.eos_token_id}) == 3
    assert 400 <= len(tok) <= 400 + len(tk.PLACEHOLDERS)
    text = "Order 77 — café crème, naïve 😀 refund to [IBAN] please"
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text  # byte-level: any text survives, no unknown token
    assert tok.unk_token_id is None or tok.unk_token_id not in ids


def test_placeholders_stay_single_tokens(tok_dir):
    tok = tk.load_tokenizer(tok_dir)
    ids = {p: tok.encode(p, add_special_tokens=False) for p in tk.PLACEHOLDERS}
    assert all(len(v) == 1 for v in ids.values()), ids
    assert len({v[0] for v in ids.values()}) == len(tk.PLACEHOLDERS)
    in_text = tok.encode("mail[EMAIL]now, card:[CREDIT_CARD].", add_special_tokens=False)
    assert ids["[EMAIL]"][0] in in_text and ids["[CREDIT_CARD]"][0] in in_text
    # placeholders are content, not control tokens: skipping special tokens keeps them
    assert tok.decode(in_text, skip_special_tokens=True) == "mail[EMAIL]now, card:[CREDIT_CARD]."


def test_chat_template_is_chatml_and_ends_answers_with_eos(tok_dir):
    tok = tk.load_tokenizer(tok_dir)
    example = tk.chat_messages("Be kind.", "Where is my order?", "order 12 shipped", "On its way.")
    rendered = tok.apply_chat_template(example, tokenize=False)
    assert rendered == (
        "<|bos|><|im_start|>system\nBe kind.<|im_end|>\n"
        "<|im_start|>user\nContext:\norder 12 shipped\n\nQuestion:\nWhere is my order?<|im_end|>\n"
        "<|im_start|>assistant\nOn its way.<|im_end|>\n<|eos|>"
    )
    prompt = tok.apply_chat_template(
        tk.chat_messages("Be kind.", "Hi?", "", None), tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n")
    ids = tok.encode(rendered, add_special_tokens=False)
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert ids.count(tok.convert_tokens_to_ids(tk.IM_START)) == 3


def test_ensure_tokenizer_reuses_the_cached_build(tmp_path):
    lake_root = f"file://{tmp_path}/lake"
    first = tk.ensure_tokenizer(CORPUS, lake_root, vocab_size=300)
    assert first.parent == tmp_path / "lake" / "models" / "tokenizer"
    stamp = (first / "tokenizer.json").stat().st_mtime_ns
    again = tk.ensure_tokenizer(list(CORPUS), lake_root, vocab_size=300)
    assert again == first and (again / "tokenizer.json").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name]  # no staging litter
    other_text = tk.ensure_tokenizer(CORPUS[:-1], lake_root, vocab_size=300)
    other_size = tk.ensure_tokenizer(CORPUS, lake_root, vocab_size=320)
    assert len({first, other_text, other_size}) == 3


def test_first_pinned_tokenizer_wins(tmp_path):
    lake_root = f"file://{tmp_path}/lake"
    assert tk.pinned_tokenizer(lake_root) is None
    a = tk.ensure_tokenizer(CORPUS[:300], lake_root, vocab_size=300)
    b = tk.ensure_tokenizer(CORPUS[300:], lake_root, vocab_size=300)
    assert tk.pin_tokenizer(lake_root, a) == a
    assert tk.pin_tokenizer(lake_root, b) == a
    assert tk.pinned_tokenizer(lake_root) == a
    with pytest.raises(ValueError):
        tk.pin_tokenizer(lake_root, tmp_path)


def test_training_texts_read_silver_without_spark(tmp_path):
    """Ticket messages, FAQ question + answer and review bodies of one date, blank ones dropped, in sha256
    order, cut after max_chars; a source without a partition that day contributes nothing."""
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(table, data):
        part = tmp_path / "silver" / table / "ds=2026-11-20"
        part.mkdir(parents=True)
        pq.write_table(data, part / "part-00000.parquet")

    message = pa.struct([("role", pa.string()), ("text", pa.string())])
    turns = [[{"role": "customer", "text": "where is my order"}, {"role": "agent", "text": "  "}], None,
             [{"role": "agent", "text": None}, {"role": "agent", "text": "it shipped"}]]
    write("tickets", pa.table({"messages": pa.array(turns, pa.list_(message))}))
    write("faq", pa.table({"question": ["How do returns work?", None], "answer": ["Within 30 days.", "Call us."]}))
    lake_root = f"file://{tmp_path}"
    expected = ["where is my order", "it shipped", "How do returns work?\nWithin 30 days.", "Call us."]
    expected.sort(key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    assert tk.training_texts(lake_root, "2026-11-20") == expected
    assert tk.training_texts(lake_root, "2026-11-20", max_chars=1) == expected[:1]
    assert tk.training_texts(lake_root, "2026-11-21") == []
