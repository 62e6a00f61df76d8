"""The bundled demo family's recipe (`make demo-models`), its evaluation and its assets: `recipe.py` orchestrates
the stages (`vae_stage.py`, `video_stage.py`, `lalrm_stage.py`) on the product trainers. Top layer: it trains
both subsystems. `scripts/train_demo_models.py`, `finetune_demo_models.py` and `eval_demo.py` are its command lines.
"""
