"""`python -m lalrm.stitching {search,fit,pretrain} key=value ...` (Hydra overrides; `--help` per subcommand).

  search    configs/stitching/search.yaml  -> <output_dir>/search.json, mse.png, decoder/
  fit       configs/stitching/fit.yaml     -> <trainer.output_dir>/model (a StitchedDecoder), resumable
  pretrain  configs/lalrm/config.yaml      -> <trainer.output_dir>/model (an RGBLRM: the LaLRM recipe on frames)
Configuration errors are one line with exit status 2, before anything is loaded or written.
"""

from __future__ import annotations

import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
COMMANDS = ("search", "fit", "pretrain")


def main(argv: list[str] | None = None) -> int:
    from wonderland.hydra_entry import hydra_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--help"], ["-h"]):
        print(__doc__)
        return 0
    if not argv or argv[0] not in COMMANDS:
        what = f"{argv[0]}: unknown subcommand" if argv else "missing subcommand"
        print(f"lalrm.stitching: error: {what}; expected one of {', '.join(COMMANDS)} "
              "(e.g. python -m lalrm.stitching search --help)", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    prog = f"lalrm.stitching {command}"
    if command == "search":
        from .config import build_search_config
        from .search import run_search

        return hydra_main(rest, prog=prog, config_dir=CONFIGS / "stitching", config_name="search",
                          build=build_search_config, run=run_search)
    if command == "fit":
        from .config import build_fit_config
        from .fit import fit_stitched

        return hydra_main(rest, prog=prog, config_dir=CONFIGS / "stitching", config_name="fit",
                          build=build_fit_config, run=fit_stitched)
    from .pretrain import build_pretrain_config, pretrain

    return hydra_main(rest, prog=prog, config_dir=CONFIGS / "lalrm", build=build_pretrain_config, run=pretrain)


if __name__ == "__main__":
    sys.exit(main())
