"""Generated files of trial 3.3: public/records/, a folder of odd-format .rec files (and some clutter).

The format is documented in exercises.kit.oddfiles and in the statement. The checks also write fresh
folders of their own inside the sandbox, so nothing hidden is needed here. Run
`python -m exercises.kit.generate` after changing this.
"""

from pathlib import Path

SEED = 3300
COUNT = 24


def generate(bundle: Path) -> None:
    from exercises.kit.oddfiles import write_record_folder

    write_record_folder(bundle / "public" / "records", n=COUNT, seed=SEED)
