"""The mutation run of the core (issue 17; docs/testing.md, "Mutation testing").

mutmut makes the mutants (``[tool.mutmut]`` in pyproject.toml: which modules); this package
runs them the way that proved fast here: each module's mutants first against its exact tests
alone (``[tool.mutation.modules]``: ``first``), each survivor then against the wider list
(``then``), every run a fork of one warm process (the imports and the collection done once),
two at a time. ``python -m tests.mutation --help``.
"""
