"""The course tooling: what runs, records and publishes the notebooks (``python -m helpers``), never imported by them.

- :mod:`helpers.course.cli`            the command line: one parser, one list of command modules
- :mod:`helpers.course.runner`         ``run`` / ``list``: execute notebooks with papermill (planning, execution,
                                       executors: one batch loop for the three modes, results, the command;
                                       :mod:`~helpers.course.runner.dask_batch` for Dask)
- :mod:`helpers.course.presets`        the notebooks' named configurations (``--preset tutorial`` and grids)
- :mod:`helpers.course.run_record`     each execution's key and reproducibility card (``--resume``)
- :mod:`helpers.course.batch_report`   a batch's curves, metric-vs-parameter figures and slowest cells
- :mod:`helpers.course.run_times`      run times from one measured run (``record-times``)
- :mod:`helpers.course.store`          a run's executed notebooks stored as the course's notebooks (``store``)
- :mod:`helpers.course.website`        the course website (``site``), with :mod:`helpers.course.website_pages`
- :mod:`helpers.course.progress`       ``progress``: the learner's exercises checked, one child process per notebook
- :mod:`helpers.course.jupyterlab_settings`  JupyterLab set to save widget state (run once per environment)
- :mod:`helpers.course.paths`          the repository's folders (``REPO_ROOT``)

This layer never imports Keras or TensorFlow (``python -m helpers list`` starts in a fraction of a second), nor the
modules that do: what needs Keras runs in a child process (a notebook's kernel, :mod:`helpers.exercises.cell_runner`).
Only ``helpers/__main__.py`` imports it. The import-linter contracts in ``pyproject.toml`` check both (``lint-imports``).
"""
