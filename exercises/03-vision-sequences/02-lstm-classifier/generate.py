"""Generated files of trial 3.2: token sequences for training and held-out ones for grading.

public/sequences.npz  train_tokens (2000, 40) uint8 padded with 0, train_lengths, train_labels,
                      test_tokens (600, 40) uint8, test_lengths          (what the sandbox sees)
hidden/sequence_labels.npz  test_labels (600,)                            (what only the check sees)

Run `python -m exercises.kit.generate` after changing this.
"""

from pathlib import Path

TRAIN_SEED = 3201
TEST_SEED = 3202
TRAIN_SIZE = 2000
TEST_SIZE = 600


def generate(bundle: Path) -> None:
    import numpy as np

    from exercises.kit.sequences import make_sequences, npz_bytes

    train = make_sequences(TRAIN_SIZE, TRAIN_SEED, min_len=1)
    test = make_sequences(TEST_SIZE, TEST_SEED, min_len=1)
    small = np.uint8
    (bundle / "public").mkdir(exist_ok=True)
    (bundle / "hidden").mkdir(exist_ok=True)
    (bundle / "public" / "sequences.npz").write_bytes(
        npz_bytes(
            train_tokens=train.tokens.astype(small),
            train_lengths=train.lengths.astype(small),
            train_labels=train.labels.astype(small),
            test_tokens=test.tokens.astype(small),
            test_lengths=test.lengths.astype(small),
        )
    )
    (bundle / "hidden" / "sequence_labels.npz").write_bytes(npz_bytes(test_labels=test.labels))
