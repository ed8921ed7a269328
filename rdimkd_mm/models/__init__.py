from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .projections import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
