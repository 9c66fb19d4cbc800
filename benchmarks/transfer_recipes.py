"""A standard published transfer-learning recipe, run on the photo sets notebooks 10 and 11 are checked on.

Issue 23 asks that notebooks 10 and 11's recipes be measured on small photo datasets besides their defaults,
against a standard published recipe on the same data. The standard recipe here is the one of TensorFlow's tutorial
"Transfer learning and fine-tuning" (tensorflow.org/tutorials/images/transfer_learning), written for this course
in Keras 3 with the course's offline backbone (EfficientNet-Lite0, whose input scaling x/127.5 - 1 is the tutorial
MobileNetV2's), so that only the recipe differs:

* stage 1 (feature extraction): 160x160 images, random horizontal flip and rotation (factor 0.2) inside the model, the
  frozen base called in inference mode, global average pooling, Dropout(0.2), one Dense output layer; Adam 1e-4,
  batch 32, 10 epochs;
* stage 2 (fine-tuning): the top of the base unfrozen (the tutorial unfreezes MobileNetV2 from layer 100 of 154, the
  top 35 %; here the same share of EfficientNet-Lite0's layers), batch normalisation still in inference mode,
  RMSprop 1e-5, 10 more epochs.

The validation accuracy after each stage is what notebooks 10 (stage 1) and 11 (stage 2) are compared with.
``--prepare-cifar`` writes the CIFAR-10 subset used as a low-resolution photo set (32x32 photos, 10 classes).

    DLFB_MIRROR=/work/shared .venv/bin/python benchmarks/transfer_recipes.py --prepare-cifar /tmp/recipes/cifar10_small
    DLFB_MIRROR=/work/shared .venv/bin/python benchmarks/transfer_recipes.py --data hymenoptera_data=PATH ... \
        --out benchmarks/results/transfer_recipes_2cores/standard_recipe.json
"""
import argparse
import json
import platform
import tarfile
import time
from pathlib import Path

import numpy as np

UNFREEZE_SHARE = 54 / 154  # the tutorial: MobileNetV2 layers 100..153 of 154 are trained in stage 2


def prepare_cifar(archive: Path, out: Path, train_per_class: int = 100, val_per_class: int = 50) -> None:
    """Write ``out/train/<class>/`` and ``out/validation/<class>/``: the first files of each class of the archive."""
    wanted = {"train": train_per_class, "test": val_per_class}
    taken: dict[tuple[str, str], int] = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or parts[0] not in wanted:
                continue
            split, label, name = parts
            key = (split, label)
            if taken.get(key, 0) >= wanted[split]:
                continue
            taken[key] = taken.get(key, 0) + 1
            target = out / ("train" if split == "train" else "validation") / label / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())
    print(f"{out}: {sum(v for (s, _), v in taken.items() if s == 'train')} training and "
          f"{sum(v for (s, _), v in taken.items() if s == 'test')} validation photos")


def run_standard(name: str, folder: Path, seed: int, stage1_epochs: int, stage2_epochs: int) -> dict:
    import keras
    from helpers import imagenet, transfer

    val_dir = folder / "validation" if (folder / "validation").is_dir() else folder / "val"
    train = transfer.load_image_folder(folder / "train", 160)
    val = transfer.load_image_folder(val_dir, 160, class_names=train.class_names)
    keras.utils.set_random_seed(seed)
    extractor = imagenet.load_feature_extractor("efficientnet_lite0", input_shape=(160, 160, 3), verbose=False)
    base = extractor.model
    x_train, x_val = extractor.preprocess(train.images), extractor.preprocess(val.images)
    n = len(train.class_names)
    inputs = keras.Input(shape=(160, 160, 3))
    x = keras.layers.RandomFlip("horizontal")(inputs)
    x = keras.layers.RandomRotation(0.2)(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(n, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    h1 = model.fit(x_train, train.labels, validation_data=(x_val, val.labels), epochs=stage1_epochs, batch_size=32,
                   verbose=0)
    t1 = time.perf_counter() - start
    base.trainable = True
    first_trained = int(round(len(base.layers) * (1 - UNFREEZE_SHARE)))
    for layer in base.layers[:first_trained]:
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.RMSprop(1e-5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    h2 = model.fit(x_train, train.labels, validation_data=(x_val, val.labels), epochs=stage1_epochs + stage2_epochs,
                   initial_epoch=stage1_epochs, batch_size=32, verbose=0)
    t2 = time.perf_counter() - start
    result = dict(dataset=name, classes=n, train=len(train), validation=len(val), seed=seed,
                  first_trained_layer=base.layers[first_trained].name, layers=len(base.layers),
                  stage1_val_accuracy=[float(v) for v in h1.history["val_accuracy"]],
                  stage2_val_accuracy=[float(v) for v in h2.history["val_accuracy"]],
                  stage1_seconds=round(t1, 1), stage2_seconds=round(t2, 1))
    print(f"{name} seed {seed}: stage 1 val acc {result['stage1_val_accuracy'][-1]:.4f} ({t1:.0f} s), "
          f"stage 2 val acc {result['stage2_val_accuracy'][-1]:.4f} ({t2:.0f} s), trained from "
          f"{result['first_trained_layer']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare-cifar", type=Path, help="write the CIFAR-10 subset into this folder and stop")
    parser.add_argument("--data", nargs="+", default=[], help="NAME=FOLDER (train/ and validation/ or val/)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--stage1-epochs", type=int, default=10)
    parser.add_argument("--stage2-epochs", type=int, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import helpers
    helpers.setup(figure_style=False)
    from helpers import sources

    if args.prepare_cifar:
        prepare_cifar(sources.mirror_path("datasets", "cifar10-jpg.tar.gz"), args.prepare_cifar)
        return
    import keras
    results = []
    for item in args.data:
        name, folder = item.split("=", 1)
        for seed in args.seeds:
            results.append(run_standard(name, Path(folder), seed, args.stage1_epochs, args.stage2_epochs))
            if args.out:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(dict(
                    command="DLFB_MIRROR=/work/shared .venv/bin/python benchmarks/transfer_recipes.py --data "
                            + " ".join(args.data) + f" --seeds {' '.join(map(str, args.seeds))}",
                    versions=dict(python=platform.python_version(), keras=keras.__version__), results=results),
                    indent=1))


if __name__ == "__main__":
    main()
