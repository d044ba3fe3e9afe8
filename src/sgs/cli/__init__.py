"""The ``sgs`` command line."""
