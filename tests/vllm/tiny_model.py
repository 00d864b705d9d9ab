"""A tiny random-weight Qwen3 checkpoint for running a real vLLM engine in tests.

Nothing is downloaded: the byte-level BPE tokenizer is trained here on generated text
(English and Chinese dialogue turns, digits, the extraction JSON with its keys and PL1-PL4,
chat markers), and the weights are random. The output of such a model is junk, so tests that
use it check the contract around the model (JSON that fits the schema, batching, timeouts,
truncation), never the quality of the extraction.

Needs torch, transformers and tokenizers: run it with the vLLM venv's python
(``infra/vllm_cpu.sh tiny-model [DIR]`` does). Builds in a few seconds.

    python tests/vllm/tiny_model.py OUT_DIR [--seed N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["build_tiny_model", "CHAT_TEMPLATE", "SPECIAL_TOKENS"]

VOCAB_SIZE = 4096
MAX_POSITIONS = 4096
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

# Qwen2/Qwen3's pre-tokenizer split: letters run together (so a Chinese clause is one piece),
# every digit is its own piece, punctuation runs stay together.
_QWEN_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# A Qwen3-style template: system/user/assistant turns between <|im_start|> and <|im_end|>;
# with enable_thinking=False the generation prompt carries an empty think block, as Qwen3's does.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{- '<think>\\n\\n</think>\\n\\n' -}}"
    "{%- endif -%}"
    "{%- endif -%}"
)

_EN_WORDS = (
    "hello my name is and I live at the in on with for to of a an my number phone mobile email "
    "address password code verification doctor diagnosed clinic hospital bank account card "
    "salary spent yuan dollars street road district city apartment room floor company work "
    "friend mother father wife husband son daughter born birthday age years old please help "
    "me fill it book ticket flight train hotel yesterday today tomorrow last night morning "
    "anxiety depression insomnia medicine prescription insurance passport license plate car "
    "user assistant system privacy data security compliance expert dialogue extract output "
    "real full text type level json array object string true false null"
).split()
_NAMES = ["Zhang San", "Li Si", "Wang Wu", "Alice Smith", "Bob Lee", "Chen Jing", "Maria Garcia"]
_TYPES = [
    "Real Name", "Phone Number", "Email", "Address", "ID Number", "Bank Card", "Password",
    "Verification Code", "Medical Health", "Financial", "Location", "Birthday", "Account",
]
_LEVELS = ["PL1", "PL2", "PL3", "PL4"]
_ZH_PHRASES = [
    "你好", "我的名字是张三", "我叫李四", "手机号是", "我的邮箱是", "我住在北京市海淀区中关村",
    "上海市浦东新区", "广州市天河区", "身份证号", "银行卡号", "密码是", "验证码", "请帮我填一下",
    "医生诊断我有轻度抑郁", "最近失眠", "花了一千八百元", "在医院做了检查", "我喜欢吃辣",
    "明天去深圳出差", "我的工资是每月", "元", "公司地址", "朋友", "妈妈", "生日是", "年", "月", "日",
    "隐私", "数据安全", "用户", "助手", "对话", "提取", "原文", "类型", "等级",
]
_ZH_PUNCT = ["，", "。", "！", "？", "：", "、", "（", "）", "“", "”"]
_KEYS = ["original_text", "privacy_type", "privacy_level"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _entity(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(_NAMES)
    if kind == 1:
        return "1" + _digits(rng, 10)
    if kind == 2:
        return f"{rng.choice(['alice', 'bob', 'zs', 'li.si'])}{_digits(rng, 2)}@example.com"
    if kind == 3:
        return _digits(rng, rng.choice([4, 6, 18]))
    if kind == 4:
        return f"{_digits(rng, 1 + rng.randrange(3))} {rng.choice(['Main', 'Oak', 'Park'])} Street"
    return "".join(rng.choice(_ZH_PHRASES) for _ in range(2))


def _english(rng: random.Random) -> str:
    words = [rng.choice(_EN_WORDS) for _ in range(rng.randint(4, 18))]
    words.insert(rng.randrange(len(words) + 1), _entity(rng))
    return " ".join(words) + rng.choice([".", "?", "!", ",", ""])


def _chinese(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(2, 6)):
        parts.append(rng.choice(_ZH_PHRASES))
        if rng.random() < 0.4:
            parts.append(_entity(rng))
        parts.append(rng.choice(_ZH_PUNCT))
    return "".join(parts)


def _spans_json(rng: random.Random) -> str:
    spans = [
        {
            "original_text": _entity(rng),
            "privacy_type": rng.choice(_TYPES),
            "privacy_level": rng.choice(_LEVELS),
        }
        for _ in range(rng.randint(0, 4))
    ]
    compact = rng.random() < 0.6  # the engine is run with disable_any_whitespace
    return json.dumps(
        spans, ensure_ascii=False, separators=(",", ":") if compact else None,
        indent=None if compact or rng.random() < 0.5 else 2,
    )


def _corpus(rng: random.Random, n: int = 12000) -> Iterator[str]:
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            yield _english(rng)
        elif r < 0.55:
            yield _chinese(rng)
        elif r < 0.8:
            yield _spans_json(rng)
        else:
            user = _english(rng) if rng.random() < 0.5 else _chinese(rng)
            yield (
                f"<|im_start|>user\n{json.dumps({'role': 'user', 'content': user}, ensure_ascii=False)}"
                f"<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
                f"{_spans_json(rng)}<|im_end|>\n"
            )
    for key in _KEYS + _LEVELS:  # make sure the schema words exist as pieces
        yield f'"{key}"' * 50


def _train_tokenizer(seed: int) -> Any:  # a transformers fast tokenizer
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte stays encodable
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(random.Random(seed)), trainer=trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_max_length=MAX_POSITIONS,
        clean_up_tokenization_spaces=False,
    )
    hf.chat_template = CHAT_TEMPLATE
    return hf


def build_tiny_model(out_dir: Path, seed: int = 0, json_bias: float = 0.0) -> Path:
    """Write a tiny random Qwen3 model with its tokenizer to ``out_dir``; return ``out_dir``.

    Deterministic for a given seed. About 0.7 M parameters in bfloat16; head_dim 64 (vLLM's CPU
    attention wants a head size of at least 32).

    ``json_bias`` > 0 adds about that much to the logit of every token that contains a double
    quote, so strings close after a token or two: under a JSON-schema constraint nearly every
    output is then short valid JSON (1.0: 16/16 valid, ~19 tokens each). With 0.0 (pure random)
    strings run long and about a quarter of the outputs stop at ``max_tokens=256``.
    """
    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(seed)
    tokenizer.save_pretrained(out_dir)

    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=64,
        max_position_embeddings=MAX_POSITIONS,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
        rms_norm_eps=1e-6,
        tie_word_embeddings=json_bias == 0.0,
        bos_token_id=None,
        eos_token_id=eos,
        pad_token_id=pad,
        dtype="bfloat16",
    )
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config).eval()
    if json_bias:
        _add_quote_bias(model, tokenizer, json_bias)
    model = model.to(torch.bfloat16)
    # Only stop tokens: vLLM takes sampling defaults from generation_config.json, keep it bare.
    model.generation_config = GenerationConfig(eos_token_id=[eos, pad], pad_token_id=pad)
    model.save_pretrained(out_dir, safe_serialization=True)
    return out_dir


def _add_quote_bias(model: Any, tokenizer: Any, bias: float) -> None:
    """A constant feature (dimension 0 of every embedding) carries a per-token logit bias."""
    import torch

    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 0.2
        head = model.lm_head.weight
        head[:, 0] = 0.0
        ids = tokenizer('hello 你好 [{"original_text":"', return_tensors="pt")["input_ids"]
        feature = model.model(ids).last_hidden_state[0, :, 0].mean().item()  # ~2.5
        quoted = [i for i in range(len(tokenizer)) if '"' in tokenizer.decode([i])]
        head[quoted, 0] = bias / feature


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json-bias", type=float, default=0.0,
                        help="logit bias for tokens with a double quote (1.0: short valid JSON)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    out = build_tiny_model(args.out_dir, seed=args.seed, json_bias=args.json_bias)

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out)
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "我叫张三, phone 13712345670"}],
        tokenize=False, add_generation_prompt=True, enable_thinking=False,
    )
    ids = tok(prompt)["input_ids"]
    assert tok.decode(ids) == prompt, "tokenizer does not round-trip"
    print(f"built {out} in {time.perf_counter() - t0:.1f} s: vocab {len(tok)}, "
          f"prompt of {len(prompt)} chars -> {len(ids)} tokens", file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
