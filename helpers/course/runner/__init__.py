"""Course runner: ``python -m helpers run`` executes the course notebooks with papermill and summarises them.

One module per job (the command line's usage is in :mod:`helpers.runner.cli`):

- :mod:`helpers.runner.planning`   notebooks, parameters cells, values, presets, grids -> executions
- :mod:`helpers.runner.execution`  run one execution with papermill, a batch in order or in worker processes
- :mod:`helpers.runner.results`    summary.csv, summary.md and the batch report
- :mod:`helpers.runner.cli`        the ``run``, ``list``, ``record-times`` and ``site`` commands
- :mod:`helpers.dask_runner`       the same batch on Dask distributed (``--scheduler``)

Every public name of these modules is importable from ``helpers.runner`` too.
"""

from helpers.runner.planning import *  # noqa: F401,F403
from helpers.runner.execution import *  # noqa: F401,F403
from helpers.runner.results import *  # noqa: F401,F403
from helpers.runner.cli import *  # noqa: F401,F403
from helpers.runner.cli import main  # noqa: F401
