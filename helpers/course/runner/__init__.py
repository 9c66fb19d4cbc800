"""Course runner: ``python -m helpers run`` executes the course notebooks with papermill and summarises them.

One module per job (the command line's usage is in :mod:`helpers.course.runner.commands`):

- :mod:`helpers.course.runner.planning`    notebooks, parameters cells, values, presets, grids -> executions
- :mod:`helpers.course.runner.execution`   run one execution with papermill; its record, read back for --resume
- :mod:`helpers.course.runner.executors`   run a batch: one loop (resume, progress, Ctrl-C, failures, outcomes) and
                                           the Executor of each mode: in order, or in worker processes (--jobs)
- :mod:`helpers.course.runner.dask_batch`  the Executor on Dask distributed (``--scheduler``)
- :mod:`helpers.course.runner.results`     summary.csv, summary.md and the batch report
- :mod:`helpers.course.runner.commands`    the ``run`` and ``list`` commands (registered by :mod:`helpers.course.cli`)

Every public name of planning, execution, executors and results is importable from ``helpers.course.runner`` too.
"""

from helpers.course.runner.planning import *  # noqa: F401,F403
from helpers.course.runner.execution import *  # noqa: F401,F403
from helpers.course.runner.executors import *  # noqa: F401,F403
from helpers.course.runner.results import *  # noqa: F401,F403
