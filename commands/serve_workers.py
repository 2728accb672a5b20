"""The app of one worker of `evalflow serve --workers N` (commands/serve.py starts the workers;
uvicorn starts each fresh and asks it for its app by this module's name)."""

from __future__ import annotations

import os
from typing import Any

from commands.serve import IDLE_ENV, SECURE_ENV, cli_env


def app_from_env() -> Any:
    """The app of one worker of `evalflow serve --workers N`: the database, settings, clock, idle
    timeout and cookies `serve` was given, read from the environment it handed its workers."""
    from cli import main
    from commands.common import Config, configure_logging
    from web.app import create_app
    from workflow.log import before_first_use

    before_first_use(lambda: configure_logging(False))
    env = os.environ
    config = Config(env.get("EVALFLOW_DATABASE_URL"), None, env.get("EVALFLOW_NOW") or None, False)
    config.config_path = env.get("EVALFLOW_CONFIG") or None
    engine = config.engine()
    app = create_app(engine, idle_minutes=int(env.get(IDLE_ENV, "30")), secure_cookies=env.get(SECURE_ENV) == "1")
    app.state.cli_root = main
    app.state.cli_env = cli_env(engine, config.config_path, config.now_text)
    return app
