"""The Gradio page: image + camera path in, video, fly-through, 3D scene and downloads out.

Every handler goes through `_report`, which turns `InputError` into `gr.Error`: the page (and a
`gradio_client` caller) gets the one-line message, never a traceback. The API names `preview` and
`generate` are what `gradio_client` calls.
"""

from __future__ import annotations

import json

from ..errors import InputError
from ..trajectories import PRESETS
from ..trajectories.cli import PRESET_PARAMS
from .jobs import DEFAULT_FOV, AppJobs, PathRequest, preset_parameters

DEFAULT_PRESET = "orbit"
OUTPUT_ORDER = ("scene.ply", "scene.splat", "video.mp4", "flythrough.mp4", "cameras.json", "report.json", "path.png")


def _report(fn):
    import gradio as gr

    def wrapped(*args):
        try:
            return fn(*args)
        except InputError as e:
            raise gr.Error(str(e), print_exception=False) from None
    return wrapped


def _request(preset, fov, trajectory_file, *values) -> PathRequest:
    return PathRequest(preset=preset, params=dict(zip(PRESET_PARAMS, values)), trajectory_file=trajectory_file,
                       fov=float(fov))


def build_page(jobs: AppJobs):
    """-> gr.Blocks (not launched)."""
    import gradio as gr

    m = jobs.manifest
    default_steps = int(m.defaults.get("num_inference_steps", 50))
    with gr.Blocks(title="Wonderland") as page:
        gr.Markdown(f"# Wonderland\nOne image and a camera path in, a 3D Gaussian scene out. Model **{m.name}** "
                    f"({m.num_frames} frames at {m.height} x {m.width}); images are centre-cropped to its aspect.")
        with gr.Row():
            with gr.Column():
                image = gr.Image(type="filepath", label="Image", sources=["upload", "clipboard"], height=260)
                preset = gr.Dropdown(sorted(PRESETS), value=DEFAULT_PRESET, label="Camera path preset")
                shown = preset_parameters(DEFAULT_PRESET)
                with gr.Row():
                    numbers = [gr.Number(label=k, value=shown.get(k), visible=k in shown, min_width=80)
                               for k in PRESET_PARAMS]
                fov = gr.Slider(10, 120, value=DEFAULT_FOV, step=1, label="Vertical field of view (degrees)")
                trajectory = gr.File(label="...or a trajectory file (overrides the preset): project JSON, RE10K "
                                     ".txt, transforms.json", file_types=[".json", ".txt"], type="filepath")
                preview = gr.Button("Preview path")
                with gr.Row():
                    seed = gr.Number(0, precision=0, label="Seed")
                    steps = gr.Slider(1, max(100, default_steps), value=default_steps, step=1, label="Denoising steps")
                min_opacity = gr.Slider(0, 0.9, value=0, step=0.01, label="Export: drop Gaussians with opacity "
                                        "below (smaller files; the fly-through keeps all)")
                run = gr.Button("Generate", variant="primary")
            with gr.Column():
                path_image = gr.Image(label="Camera path (red dot: frame 0)", type="filepath", interactive=False)
                video = gr.Video(label="Generated video", interactive=False)
                flythrough = gr.Video(label="Fly-through: the Gaussians rendered along the path", interactive=False)
                scene = gr.Model3D(label="3D scene (scene.splat)", clear_color=(1.0, 1.0, 1.0, 1.0), height=360)
                files = gr.File(label="Downloads", file_count="multiple", interactive=False)
                summary = gr.Markdown()

        def show_parameters(name):
            params = preset_parameters(name)
            return [gr.update(visible=k in params, value=params.get(k)) for k in PRESET_PARAMS]

        def make_preview(preset_name, fov_deg, trajectory_file, *values):
            return str(jobs.preview(_request(preset_name, fov_deg, trajectory_file, *values)))

        def generate(image_path, preset_name, fov_deg, trajectory_file, seed_value, steps_value, min_opacity_value,
                     *values):
            req = _request(preset_name, fov_deg, trajectory_file, *values)
            out = jobs.generate(image_path, req, seed=int(seed_value or 0), steps=int(steps_value),
                                min_opacity=float(min_opacity_value or 0))
            report = json.loads(out["report.json"].read_text())
            times = ", ".join(f"{k} {v['seconds']:.1f} s" for k, v in report["stages"].items())
            text = (f"**{report['num_gaussians']:,} Gaussians** in `{out['scene.ply'].parent}` ({times}). "
                    f"Look at it in 3D: `wonderland-view {out['scene.ply']}`")
            return (str(out["path.png"]), str(out["video.mp4"]), str(out["flythrough.mp4"]),
                    str(out["scene.splat"]), [str(out[k]) for k in OUTPUT_ORDER], text)

        path_inputs = [preset, fov, trajectory, *numbers]
        preset.change(show_parameters, preset, numbers, api_name=False)
        preview.click(_report(make_preview), path_inputs, path_image, api_name="preview")
        run.click(_report(generate), [image, preset, fov, trajectory, seed, steps, min_opacity, *numbers],
                  [path_image, video, flythrough, scene, files, summary], api_name="generate")
    return page
