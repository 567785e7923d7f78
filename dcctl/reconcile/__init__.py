"""Generic desired-vs-observed reconciliation: the plan vocabulary, diffing and a DAG runner.

Nothing here knows about agencies or OpenStack; ``dcctl.tenant`` supplies the resource kinds.
"""
