"""Page blueprints. `register_web` is called by the composition root."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

from web.assets import register_assets

PAGE_MODULES = (
    "web.pages.session",  # sign in / out, CSRF, current user, navigation, error pages
    "web.pages.inbox",  # My tasks / My agency's tasks, claim and release
    "web.pages.tasks",  # task form pages
    "web.pages.start",  # start pages: referral, MDT meeting, escalation, early help
    "web.pages.families",  # family page (Think Family), add and edit person, ethnicity
    "web.pages.households",  # a member has left the household, or is back
    "web.pages.dashboard",  # team manager dashboard and process heatmap
    "web.pages.processes",  # processes: versions, open cases, parameters owners change
    "web.pages.instances",  # instance page: diagram, timeline, timers, audit trail
)


def register_web(app: Flask) -> None:
    """Register assets and every page blueprint (each exposes `bp`, perhaps `setup`)."""
    register_assets(app)
    for name in PAGE_MODULES:
        module = import_module(name)
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app)
        app.register_blueprint(module.bp)
