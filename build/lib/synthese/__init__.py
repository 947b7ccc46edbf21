"""synthese: local, traceable synthesis of free-text consultation answers."""

__version__ = "0.1.0"
