"""Give the bundled demo family a trained pose stream (`--trajectory auto`): step 5 of `make demo-models`.

    python scripts/train_demo_pose_stream.py --family models/wonderland-demo [--steps 500]

The recipe is `wonderland.demo.pose_stage` (its docstring and MODEL_CARD.md's "Pose stream" section).
"""

import sys

from wonderland.demo.pose_stage import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
