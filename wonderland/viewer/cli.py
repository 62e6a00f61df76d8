"""`wonderland-view SCENE [--cameras cameras.json] [--port P] [--export scene.viser]`: look at a scene.

    wonderland-view outputs/photo/scene.ply            # cameras.json (and video.mp4) beside it are used
    wonderland-view scene.splat --cameras path.json --port 8081
    wonderland-view outputs/photo/scene.ply --export photo.html    # one self-contained page, no server
    wonderland-view outputs/photo/scene.ply --export photo.viser   # viser's scene file, for its static client

Serves viser's web viewer on 127.0.0.1 (pass --host 0.0.0.0 to share it on your network) and prints
the URL. Bad files are one-line errors with exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
from pathlib import Path

from ..errors import InputError

PROG = "wonderland-view"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scene", type=Path, help="scene.ply (INRIA 3DGS) or scene.splat")
    p.add_argument("--cameras", type=Path, default=None,
                   help="trajectory file to draw as frusta (default: cameras.json beside the scene, if any); "
                        "video.mp4 beside it puts the generated frames on the frusta")
    p.add_argument("--no-cameras", action="store_true", help="show the Gaussians only")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    p.add_argument("--export", type=Path, default=None,
                   help="write the scene to a file instead of serving it: .html (a page that opens in any "
                        "browser, no server) or .viser (viser's scene file, for its static client)")
    return p


def cameras_path(args: argparse.Namespace) -> Path | None:
    if args.no_cameras:
        return None
    if args.cameras is not None:
        return args.cameras
    beside = args.scene.parent / "cameras.json"
    return beside if beside.is_file() else None


def export_instructions(path: Path) -> str:
    if path.suffix == ".html":
        return f"wrote {path}: open it in a web browser (it holds the viewer and the scene; no server needed)"
    return (f"wrote {path}. To open it, serve viser's static client and the file from one folder:\n"
            f"  viser-build-client --out-dir viewer && cp {path} viewer/\n"
            f"  python -m http.server 8000 --bind 127.0.0.1 --directory viewer\n"
            f"then open http://127.0.0.1:8000/?playbackPath={path.name}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    from ..gaussians import load_scene
    from .scene import build_scene, load_cameras

    try:
        if args.export is not None and args.export.suffix not in (".html", ".viser"):
            raise InputError(args.export, None, f"--export writes .html or .viser, got suffix '{args.export.suffix}'")
        g = load_scene(args.scene)
        cams_file = cameras_path(args)
        cams, frames = load_cameras(cams_file) if cams_file is not None else (None, None)
        import viser
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except ImportError:
        print(f"{PROG}: error: the viewer needs viser: pip install 'wonderland[viewer]'", file=sys.stderr)
        return 2

    if args.export is not None:  # viser serialises a server's scene state, so build one on a free port
        with contextlib.redirect_stdout(io.StringIO()):  # viser's banner would advertise a server that is gone
            server = viser.ViserServer(host="127.0.0.1", port=0, verbose=False)
            try:
                build_scene(server, g, cams, frames)
                serializer = server.get_scene_serializer()
                data = serializer.as_html().encode() if args.export.suffix == ".html" else serializer.serialize()
            finally:
                server.stop()
        from ..io import atomic_path

        try:
            with atomic_path(args.export) as tmp:
                tmp.write_bytes(data)
        except OSError as e:
            print(f"{PROG}: error: {args.export}: cannot be written ({e.strerror or e})", file=sys.stderr)
            return 2
        print(export_instructions(args.export))
        return 0

    server = viser.ViserServer(host=args.host, port=args.port, verbose=False)
    build_scene(server, g, cams, frames)
    print(f"{g.num} Gaussians, {0 if cams is None else len(cams)} cameras: "
          f"http://{args.host}:{server.get_port()} (Ctrl-C to stop)", flush=True)
    try:
        server.sleep_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
