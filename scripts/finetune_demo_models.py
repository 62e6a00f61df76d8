"""Fine-tune a demo family without moving its latent space: steps 2-4 of `make demo-models`.

    python scripts/finetune_demo_models.py --family models/wonderland-demo --out models/wonderland-demo [...]

The recipe is `wonderland.demo.recipe.finetune_family` (its docstring and MODEL_CARD.md say what each option does).
"""

import sys

from wonderland.demo.recipe import finetune_family

if __name__ == "__main__":
    sys.exit(finetune_family(sys.argv[1:]))
