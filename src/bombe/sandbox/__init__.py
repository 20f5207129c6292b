"""Untrusted execution: the only place candidate code runs."""

from bombe.sandbox.isolation import IsolationUnavailable, available_levels
from bombe.sandbox.limits import Limits
from bombe.sandbox.pool import Job, Sandbox

__all__ = ["IsolationUnavailable", "Job", "Limits", "Sandbox", "available_levels"]
