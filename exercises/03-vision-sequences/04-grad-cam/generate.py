"""Generated files of trial 3.4: the reference CNN and the images to explain.

public/shapes_cnn.safetensors  a ShapesCNN trained deterministically by the kit (exercises.kit.shapes)
public/cam_images.npz          images (24, 64, 64, 3) uint8: one shape each, no labels, no boxes
hidden/cam_regions.npz         boxes (24, 4) top/left/bottom/right (bottom, right exclusive), labels (24,)

Training takes a few seconds on one CPU thread. Run `python -m exercises.kit.generate` after changing
this.
"""

from pathlib import Path

MODEL_SEED = 0
IMAGES_SEED = 3401
IMAGES = 24
# Trained, so not byte-stable across processors: the staleness check compares it by behaviour instead.
TRAINED_FILES = ("public/shapes_cnn.safetensors",)


def generate(bundle: Path) -> None:
    from exercises.kit import shapes
    from exercises.kit.generate import source_fingerprint
    from exercises.kit.sequences import npz_bytes
    from exercises.kit.shapes import WEIGHTS_FILE, make_shapes, save_images, write_reference_cnn

    (bundle / "public").mkdir(exist_ok=True)
    (bundle / "hidden").mkdir(exist_ok=True)
    sources = source_fingerprint(bundle / "generate.py", Path(shapes.__file__))
    write_reference_cnn(bundle / "public" / WEIGHTS_FILE, seed=MODEL_SEED, sources=sources)
    data = make_shapes(IMAGES, IMAGES_SEED)
    (bundle / "public" / "cam_images.npz").write_bytes(save_images(data.images))
    (bundle / "hidden" / "cam_regions.npz").write_bytes(npz_bytes(boxes=data.boxes, labels=data.labels))


def trained_file_differences(name: str, fresh: Path, committed: Path) -> list[str]:
    from exercises.kit.shapes import reference_cnn_differences

    return reference_cnn_differences(fresh, committed)
