"""The code the notebooks teach, exported from their pages: one module per notebook.

Each module here is *generated* from the cells of one notebook marked ``#| export`` (the notebook names
its module with ``#| default_exp <module>``), so a network or a loop a page teaches is written once, on
that page, and other notebooks, tests, presets, widgets and exercises import it from here:

===============================  =============================================================================
module                           exported from
===============================  =============================================================================
``helpers.taught.descent``       01: ``gradient_descent`` (the update w - learning_rate * gradient as a loop)
``helpers.taught.keras_basics``  03: ``linear_regression`` (the tutorial's one Dense unit)
``helpers.taught.feedforward``   04: ``single_neuron``, ``small_classifier``, ``train_full_batch``
``helpers.taught.mlp``           05: ``tutorial_mlp``, ``DenseSoftmaxNet``, ``loss_fn``, ``train_sgd``
``helpers.taught.cnn``           06: ``cross_correlate2d``, ``max_pool2d``, the MNIST and CIFAR-10 CNNs
``helpers.taught.deep_mlp``      07: ``build_mlp`` (a deep MLP with a named activation)
``helpers.taught.autoencoder``   08: the 5-3-5 and the convolutional denoising autoencoder, the training noise
``helpers.taught.transfer``      10: the scratch CNN and the classifier head (also used by 11)
``helpers.taught.fine_tuning``   11: ``freeze_all_but`` (the tutorial's ``layer.trainable = False`` loop)
===============================  =============================================================================

Do not edit these files: edit the notebook and regenerate them with ``python -m helpers.taught.export``
(nbdev's exporter); ``tests/test_taught_export.py`` fails when a committed module is stale.
"""
