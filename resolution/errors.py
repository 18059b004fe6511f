"""Errors a user can cause; the CLI prints their message and exits with status 2."""

from __future__ import annotations

__all__ = ["ResolutionError", "InputError", "ModelVersionError", "JudgementError"]


class ResolutionError(ValueError):
    """Base class: a problem with the input or state of a resolution run, with a clear message."""


class InputError(ResolutionError):
    """The records cannot be resolved (empty, missing columns, a record without any usable field)."""


class ModelVersionError(ResolutionError):
    """A saved model was written by another model format version."""


class JudgementError(ResolutionError):
    """A judgement names mentions or entities that do not exist, or is contradictory."""
