"""The command-line shell: the only package that imports click.

Commands parse options, call one domain function and render its result through ``App``.
"""
