"""Cache T5 prompt embeddings for training: `--captions` is a JSON {clip_key: caption}.

    python scripts/cache_prompt_embeds.py --captions captions.json --pretrained /models/CogVideoX-5b-I2V \
        --out cache/prompts.safetensors
Then train with `data.prompt_cache=cache/prompts.safetensors` (clips without a caption get the empty prompt).
"""

from __future__ import annotations

import argparse
import json

import torch

from camera_video.cache import cache_prompt_embeds


def main(argv=None) -> None:
    from transformers import T5EncoderModel, T5Tokenizer

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--captions", required=True)
    ap.add_argument("--pretrained", required=True, help="CogVideoX directory with text_encoder/ and tokenizer/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args(argv)
    with open(args.captions) as f:
        captions = json.load(f)
    tokenizer = T5Tokenizer.from_pretrained(args.pretrained, subfolder="tokenizer")
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    encoder = T5EncoderModel.from_pretrained(args.pretrained, subfolder="text_encoder", torch_dtype=dtype)
    cache_prompt_embeds(captions, encoder.to(args.device).eval(), tokenizer, args.out)
    print(f"cached {len(captions)} prompts in {args.out}")


if __name__ == "__main__":
    main()
