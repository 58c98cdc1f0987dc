"""REM dreaming (SPEC §12): recent resources, sessions and messages become moments linked into the graph.

:class:`~.service.DreamService` runs a dream: :mod:`.window` (the window and its rows), :mod:`.periods`
(activity gaps), :mod:`.recognise` (people and entities through the key index), :mod:`.offline` and
:mod:`.llm` (the summarisers), :mod:`.writer` (the one atomic batch). See docs/dreaming.md.
"""
