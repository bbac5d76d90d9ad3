"""Plain helpers shared by test modules (no fixtures, no tests): `git(...)`, the Jupyter
server starter, the IPython shell driver. Fixtures live in conftest.py files; test
modules import helpers from here and never from conftest.py or another test module."""
