"""Notebook 06's exercises: the common wrong answers get messages that name the mistake."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises.solutions import nb06 as solutions


@pytest.mark.parametrize("answer, words", [
    (lambda w, f, stride=1, padding=0: (w - f + 2 * padding) // stride, "off by one"),
    (lambda w, f, stride=1, padding=0: (w - f + 2 * padding) // stride + 2, "off by one"),
    (lambda w, f, stride=1, padding=0: (w - f) // stride + 1, "padding was left out"),
    (lambda w, f, stride=1, padding=0: (w - f + padding) // stride + 1, "one side only"),
    (lambda w, f, stride=1, padding=0: w - f + 2 * padding + 1, "stride was ignored"),
    (lambda w, f, stride=1, padding=0: 12, "expected"),
])
def test_output_size_mistakes(answer, words):
    feedback = exercises.evaluate_answer("06.1", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def test_output_size_accepts_a_whole_float():
    feedback = exercises.evaluate_answer("06.1", lambda w, f, stride=1, padding=0: (w - f + 2 * padding) / stride + 1)
    assert feedback.passed, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda k, c, n: k * k * c * n, "forgot the biases"),
    (lambda k, c, n: k * k * n + n, "forgot the input channels"),
    (lambda k, c, n: k * c * n + n, "kernel_size²"),
    (lambda k, c, n: k * k * c * n + c, "per *input channel*"),
    (lambda k, c, n: 896, "expected"),
])
def test_parameter_count_mistakes(answer, words):
    feedback = exercises.evaluate_answer("06.2", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)


def _in_place(image, kernels, bias):
    image *= 2
    return solutions.conv2d_layer(image / 2, kernels, bias)


def _first_channel(image, kernels, bias):
    return solutions.conv2d_layer(np.asarray(image)[:, :, :1], np.asarray(kernels)[:, :, :1, :], bias)


def _correct_but_not_through_the_page(image, kernels, bias):
    """A right answer written without cross_correlate2d (einsum over each window) also passes."""
    image, kernels = np.asarray(image, float), np.asarray(kernels, float)
    kh, kw = kernels.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(0, 1))   # (H_out, W_out, C, kh, kw)
    return np.einsum("ijcab,abcf->ijf", windows, kernels) + bias


def test_the_solution_and_another_right_answer_pass():
    assert exercises.evaluate_answer("06.3", solutions.conv2d_layer).passed
    feedback = exercises.evaluate_answer("06.3", _correct_but_not_through_the_page)
    assert feedback.passed, str(feedback)


@pytest.mark.parametrize("answer, words", [
    (lambda image, kernels, bias: solutions.conv2d_layer(image, np.asarray(kernels)[::-1, ::-1], bias),
     "true* convolutions"),
    (lambda image, kernels, bias: solutions.conv2d_layer(image, kernels, np.zeros_like(bias)), "off by its filter's bias"),
    (_first_channel, "first input channel only"),
    (lambda image, kernels, bias: np.moveaxis(solutions.conv2d_layer(image, kernels, bias), -1, 0), "filters come first"),
    (lambda image, kernels, bias: solutions.conv2d_layer(image, kernels, bias)[:-1], "expected"),
    (_in_place, "changed its inputs"),
])
def test_conv2d_layer_mistakes(answer, words):
    feedback = exercises.evaluate_answer("06.3", answer)
    assert not feedback.passed and words in feedback.problem, str(feedback)
