"""Camera file formats shared by trajectories (`--trajectory`) and datasets: one parser and one writer each.

`re10k_txt`: RealEstate10K / ACID camera files; `transforms_json`: nerfstudio / DL3DV transforms.json.
The project's own trajectory JSON, which only trajectories use, is in `wonderland.trajectories.format`.
Parsers check syntax and raise `InputError` naming the file and field; callers decide what a bad value means
(a trajectory is refused, a dataset scene is skipped). Each module's docstring states its frame order.
"""

from .re10k_txt import RE10K_SIZE, Re10kFile, re10k_cameras, read_re10k_txt, square_pixel_size, write_re10k_txt
from .transforms_json import (
    TransformsFile,
    parse_transforms,
    read_transforms_json,
    transforms_cameras,
    write_transforms_json,
)

__all__ = [
    "RE10K_SIZE", "Re10kFile", "TransformsFile", "parse_transforms", "re10k_cameras", "read_re10k_txt",
    "read_transforms_json", "square_pixel_size", "transforms_cameras", "write_re10k_txt", "write_transforms_json",
]
