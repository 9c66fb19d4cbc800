"""helpers.training: the one-line-per-epoch progress callback."""

import re

import numpy as np


def _tiny_fit(epochs, callback):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    model.fit(x, x.sum(axis=1), epochs=epochs, batch_size=8, verbose=0, callbacks=[callback])


def test_epoch_line_prints_exactly_one_line_per_epoch(capsys):
    from helpers.training import EpochLine

    _tiny_fit(3, EpochLine())
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert re.fullmatch(rf"epoch {i}/3  loss \d+\.\d{{4}}  mae \d+\.\d{{4}}  \(\d+\.\d s\)", line), line


def test_epoch_line_every_n_keeps_the_last(capsys):
    from helpers.training import EpochLine

    _tiny_fit(5, EpochLine(every=2))
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["2/5", "4/5", "5/5"]
