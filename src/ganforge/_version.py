"""The package version, in a module of its own so that nothing imports the package's
`__init__` back (it imports the API, which imports the trainer)."""

__version__ = "0.1.0"
