"""`wonderland-app [--model DIR|owner/name] [--port P]`: the Gradio page on http://127.0.0.1:7860.

    wonderland-app                              # the bundled demo family, CPU
    wonderland-app --model /models/wonderland-5b --device cuda --port 7861
    wonderland-app --host 0.0.0.0               # reachable from other machines (no authentication!)

The model is loaded once at start-up; requests wait in Gradio's queue and run one at a time. Every
result is kept under --out (default outputs/app/<time>-<id>/), as `wonderland-generate` writes it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from ..errors import InputError

PROG = "wonderland-app"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="model directory or Hugging Face repo id (default: the bundled "
                   "demo family)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860; 0 picks a free one)")
    p.add_argument("--out", type=Path, default=Path("outputs") / "app", help="where results are kept")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--dtype", choices=("auto", "float32", "bfloat16", "float16"), default="auto")
    p.add_argument("--offload", choices=("none", "model", "sequential"), default="none")
    return p


def theme():
    """Gradio's default look with the system's fonts: the default theme fetches Google Fonts, which an
    offline machine (or a lab behind a firewall) cannot reach."""
    import gradio as gr

    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


def free_port(host: str) -> int:
    """A port the OS says is free now (Gradio, unlike viser, does not take port 0)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def launch(page, host: str, port: int, out: Path, block: bool = True):
    """Queue (one request at a time: one model) and serve; port 0 picks a free one. -> (page, url)."""
    port = port or free_port(host)
    page.queue(default_concurrency_limit=1)
    _, url, _ = page.launch(server_name=host, server_port=port, prevent_thread_lock=not block, quiet=not block,
                            show_error=True, allowed_paths=[str(out.resolve())], theme=theme(), ssr_mode=False,
                            footer_links=["api"])
    return page, url


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a lab machine
    from ..cli.generate import default_model_dir, resolve_device_dtype
    from ..pipeline.hub import resolve_model_dir
    from ..pipeline.manifest import read_manifest

    try:
        manifest = read_manifest(resolve_model_dir(args.model) if args.model else default_model_dir())
        device, dtype = resolve_device_dtype(args.device, args.dtype)
        args.out.mkdir(parents=True, exist_ok=True)
        import gradio  # noqa: F401
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{PROG}: error: {args.out}: cannot create the output folder ({e.strerror or e})", file=sys.stderr)
        return 2
    except ImportError:
        print(f"{PROG}: error: the app needs Gradio: pip install 'wonderland[app]'", file=sys.stderr)
        return 2

    from ..pipeline import WonderlandPipeline
    from .jobs import AppJobs
    from .ui import build_page

    print(f"{PROG}: loading {manifest.root} on {device} ...", flush=True)
    pipe = WonderlandPipeline.from_pretrained(manifest.root, device=device, dtype=dtype, offload=args.offload)
    pipe.set_progress_bar(False)
    launch(build_page(AppJobs(pipe, args.out)), args.host, args.port, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
