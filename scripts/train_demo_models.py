"""Train the bundled demo family (`models/wonderland-demo/`) from nothing: step 1 of `make demo-models`.

    python scripts/train_demo_models.py --out models/wonderland-demo [--resume]

The recipe is `wonderland.demo.recipe.train_family` (its docstring and MODEL_CARD.md say what each stage does).
"""

import sys

from wonderland.demo.recipe import train_family

if __name__ == "__main__":
    sys.exit(train_family(sys.argv[1:]))
