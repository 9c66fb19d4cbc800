"""Measure notebook 05's dropout lesson with a validation split held out of the training digits.

Issue 23 asks whether the tutorial's claim (without dropout the validation loss rises and a gap opens between
training and validation; Dropout(0.5) reduces both) holds at the course's default scale, measured on a validation
split separate from the test set. For each seed this trains the tutorial's network 784 -> 512 -> 512 -> 10 (RMSprop
0.001, batch 256) with and without Dropout(0.5) for EPOCHS epochs and records, at every epoch, the validation loss,
and at the end the training accuracy measured with dropout off, the validation and test accuracy.

    DLFB_MIRROR=/work/shared .venv/bin/python benchmarks/dropout_05.py --seeds 0 1 2 --epochs 40 \
        --out benchmarks/results/05_dropout_2cores.json
"""
import argparse
import json
import platform
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--val-samples", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    import helpers
    helpers.setup(figure_style=False)
    import keras
    from helpers import data

    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255
    y_train_1h, y_test_1h = keras.utils.to_categorical(y_train, 10), keras.utils.to_categorical(y_test, 10)

    runs = []
    for seed in args.seeds:
        order = np.random.default_rng(seed).permutation(len(x_train))
        val, fit = order[:args.val_samples], order[args.val_samples:]
        for rate in (0.0, args.rate):
            keras.utils.set_random_seed(seed)
            layers = [keras.Input(shape=(784,))]
            for _ in range(2):
                layers.append(keras.layers.Dense(512, activation="relu"))
                if rate:
                    layers.append(keras.layers.Dropout(rate))
            layers.append(keras.layers.Dense(10, activation="softmax"))
            model = keras.Sequential(layers)
            model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001), loss="categorical_crossentropy",
                          metrics=["accuracy"])
            start = time.perf_counter()
            history = model.fit(x_train[fit], y_train_1h[fit], batch_size=256, epochs=args.epochs, verbose=0,
                                validation_data=(x_train[val], y_train_1h[val]))
            seconds = time.perf_counter() - start
            train_eval = float(model.evaluate(x_train[fit], y_train_1h[fit], verbose=0)[1])
            test_loss, test_acc = (float(v) for v in model.evaluate(x_test, y_test_1h, verbose=0))
            h = {k: [float(v) for v in vals] for k, vals in history.history.items()}
            runs.append(dict(seed=seed, dropout=rate, seconds=round(seconds, 1), train_accuracy_eval=train_eval,
                             test_loss=test_loss, test_accuracy=test_acc, history=h))
            vl = h["val_loss"]
            print(f"seed {seed} dropout {rate}: min val loss {min(vl):.4f} at epoch {int(np.argmin(vl)) + 1}, "
                  f"val loss at 20 {vl[19]:.4f}, final {vl[-1]:.4f}; train(eval) {train_eval:.4f} "
                  f"val acc {h['val_accuracy'][-1]:.4f} test {test_acc:.4f} ({seconds:.0f} s)", flush=True)
    record = dict(command="DLFB_MIRROR=/work/shared .venv/bin/python benchmarks/dropout_05.py " +
                  f"--seeds {' '.join(map(str, args.seeds))} --epochs {args.epochs} --val-samples {args.val_samples}",
                  training_digits=len(x_train) - args.val_samples, validation_digits=args.val_samples,
                  test_digits=len(x_test), epochs=args.epochs, versions=dict(python=platform.python_version(),
                  keras=keras.__version__, numpy=np.__version__), runs=runs)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
