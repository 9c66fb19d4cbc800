"""A fully connected classifier in low-level TensorFlow: ``tf.Variable`` + ``tf.GradientTape`` (notebook 05).

The book chapter in the seeds (Sandipan Dey, *Deep Learning Models in Image Processing*) builds MNIST's
784 → 1,024 ReLU → 10 network with TensorFlow 1's graph API (placeholders, sessions). This module is
the TensorFlow 2 version of the same computation, written out without Keras layers:

- :class:`DenseSoftmaxNet` holds the weights as ``tf.Variable`` s and computes the logits;
- :func:`loss_fn` is the softmax cross-entropy plus ``lambda * (l2_loss(W1) + l2_loss(W2))``;
- :func:`train_sgd` runs minibatch stochastic gradient descent and logs the book's curves.

``hidden_units=0`` gives softmax regression (one weight matrix, 784 x 10).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class DenseSoftmaxNet(tf.Module):
    """``logits = relu(x @ W1 + b1) @ W2 + b2`` with weights drawn from a truncated normal distribution.

    Args:
        input_dim: features per sample (784 for flattened MNIST).
        hidden_units: width of the hidden ReLU layer (the book: 1,024); 0 for softmax regression.
        num_classes: number of outputs (10 digits).
        init_stddev: standard deviation of the initial weights. The book used ``tf.truncated_normal``'s
            default 1.0; ``None`` picks He initialisation ``sqrt(2 / fan_in)``, which trains faster.
        seed: seed for the initial weights.
    """

    def __init__(self, input_dim: int = 784, hidden_units: int = 1024, num_classes: int = 10,
                 init_stddev: float | None = 1.0, seed: int = 0, name: str | None = None):
        super().__init__(name=name)
        if int(input_dim) < 1 or int(num_classes) < 2 or int(hidden_units) < 0:
            raise ValueError(f"Need input_dim >= 1, num_classes >= 2 and hidden_units >= 0; got {input_dim}, "
                             f"{num_classes}, {hidden_units}.")
        if init_stddev is not None and not init_stddev > 0:
            raise ValueError(f"init_stddev must be positive or None (He initialisation); got {init_stddev}.")
        self.hidden_units = int(hidden_units)
        widths = [int(input_dim)] + ([self.hidden_units] if self.hidden_units else []) + [int(num_classes)]
        generator = tf.random.Generator.from_seed(seed)
        self.weights, self.biases = [], []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), 1):
            std = init_stddev if init_stddev is not None else float(np.sqrt(2.0 / fan_in))
            w = generator.truncated_normal([fan_in, fan_out], stddev=std)
            self.weights.append(tf.Variable(w, name=f"W{i}"))
            self.biases.append(tf.Variable(tf.zeros([fan_out]), name=f"b{i}"))

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Logits ``(batch, num_classes)`` for float32 inputs ``(batch, input_dim)``."""
        h = tf.convert_to_tensor(x, dtype=tf.float32)
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            h = tf.nn.relu(tf.matmul(h, w) + b)
        return tf.matmul(h, self.weights[-1]) + self.biases[-1]

    def predict(self, x) -> np.ndarray:
        """Softmax probabilities, NumPy ``(batch, num_classes)``."""
        return tf.nn.softmax(self(x)).numpy()

    def class_templates(self) -> np.ndarray:
        """``W1 @ W2`` (or ``W1`` for softmax regression): one ``input_dim`` column per class, ``(input_dim, classes)``.

        The book draws these columns as 28x28 images: a linear summary of what pushes each class's score up.
        """
        product = self.weights[0]
        for w in self.weights[1:]:
            product = tf.matmul(product, w)
        return product.numpy()


def loss_fn(model: DenseSoftmaxNet, x, y_one_hot, l2: float = 0.0) -> tf.Tensor:
    """Mean softmax cross-entropy plus ``l2 * sum(tf.nn.l2_loss(W))`` over the weight matrices (as in the book)."""
    logits = model(x)
    cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_one_hot, logits=logits))
    penalty = tf.add_n([tf.nn.l2_loss(w) for w in model.weights])
    return cross_entropy + l2 * penalty


def accuracy(probabilities_or_logits, y_one_hot) -> float:
    """Fraction of rows whose arg-max matches the one-hot label's arg-max."""
    return float(np.mean(np.argmax(np.asarray(probabilities_or_logits), 1) == np.argmax(np.asarray(y_one_hot), 1)))


def train_sgd(model: DenseSoftmaxNet, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
              y_val: np.ndarray, steps: int = 1000, batch_size: int = 256, learning_rate: float = 0.003,
              l2: float = 0.05, eval_every: int = 100, seed: int = 0, verbose: bool = True) -> dict:
    """Minibatch SGD: ``W <- W - learning_rate * dLoss/dW`` for every variable, ``steps`` times.

    Batches are drawn from a fresh shuffle of the training set each epoch (the book stepped through it in
    a fixed order).

    Args:
        x_train, y_train: float32 ``(n, input_dim)`` and one-hot ``(n, classes)``.
        x_val, y_val: validation data, same layout.
        eval_every: log the minibatch loss / accuracy and the validation accuracy every this many steps
            (and at step 0 and the last step); ``verbose`` prints one line each time.

    Returns:
        ``{"step", "loss", "batch_accuracy", "val_accuracy"}`` lists.
    """
    steps, batch_size, eval_every = int(steps), int(batch_size), max(1, int(eval_every))
    n = len(x_train)
    if steps < 1 or not 1 <= batch_size <= n:
        raise ValueError(f"Need steps >= 1 and 1 <= batch_size <= {n} (training samples); got {steps}, {batch_size}.")
    if len(y_train) != n or len(x_val) != len(y_val):
        raise ValueError("x and y must have the same number of rows (training and validation).")
    x_train = tf.constant(np.asarray(x_train, dtype=np.float32))
    y_train = tf.constant(np.asarray(y_train, dtype=np.float32))
    x_val = tf.constant(np.asarray(x_val, dtype=np.float32))
    variables = model.trainable_variables
    lr = tf.constant(learning_rate, dtype=tf.float32)
    l2_rate = tf.constant(l2, dtype=tf.float32)

    @tf.function
    def sgd_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(model, xb, yb, l2_rate)
        grads = tape.gradient(loss, variables)
        for var, grad in zip(variables, grads):
            var.assign_sub(lr * grad)
        return loss, model(xb)

    @tf.function
    def val_logits():
        return model(x_val)

    rng = np.random.default_rng(seed)
    batches_per_epoch = n // batch_size
    order = rng.permutation(n)
    history = {"step": [], "loss": [], "batch_accuracy": [], "val_accuracy": []}
    for step in range(steps):
        k = step % batches_per_epoch
        if k == 0 and step > 0:
            order = rng.permutation(n)
        idx = tf.constant(order[k * batch_size:(k + 1) * batch_size])
        xb, yb = tf.gather(x_train, idx), tf.gather(y_train, idx)
        loss, logits = sgd_step(xb, yb)
        if step % eval_every == 0 or step == steps - 1:
            batch_acc = accuracy(logits, yb)
            val_acc = accuracy(val_logits(), y_val)
            for key, value in zip(history, (step, float(loss), batch_acc, val_acc)):
                history[key].append(value)
            if verbose:
                print(f"step {step:5d}  minibatch loss {float(loss):12.4f}  minibatch accuracy {batch_acc:6.1%}  "
                      f"validation accuracy {val_acc:6.1%}")
    return history
