"""The demo family's bar on held-out wonderland-synth scenes: `wonderland.demo.evaluate` (its docstring).

    python scripts/eval_demo.py [--model models/wonderland-demo] [--split test|validation] [--scenes N]
"""

import sys

from wonderland.demo.evaluate import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
