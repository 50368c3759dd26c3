"""Generated files of trial 3.1: public/photo.png, a downscaled scikit-learn sample photo.

scikit-learn's sample photos are masked inside the sandbox, so the trial ships its own small copy
(240×160 RGB PNG of china.jpg). Run `python -m exercises.kit.generate` after changing this.
"""

import io
from pathlib import Path

PHOTO = "photo.png"
PHOTO_SIZE = (240, 160)  # width, height


def generate(bundle: Path) -> None:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    image = Image.fromarray(load_sample_image("china.jpg")).resize(PHOTO_SIZE, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    (bundle / "public").mkdir(exist_ok=True)
    (bundle / "public" / PHOTO).write_bytes(buffer.getvalue())
