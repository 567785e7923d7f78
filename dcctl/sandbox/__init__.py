"""A real single-node OpenStack on this machine, for newcomers and for the test suite.

``dcctl sandbox up`` installs OpenStack from PyPI into a cached venv, provisions its own MariaDB
databases and RabbitMQ vhost, renders the service configs, starts every service as a background
process on 127.0.0.1 and bootstraps a usable cloud. The entry points are in
:mod:`dcctl.sandbox.lifecycle`; the modules beside it hold one concept each.
"""
