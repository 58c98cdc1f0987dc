"""The graph (SPEC §7): edges between entities, stored forward (``edges``) and reverse (``reverse_edges``)
in the same atomic batch as the entity change, and the reads over them: edge lists, BFS/DFS traversal,
shortest paths and batched neighbour expansion.

Modules: :mod:`.options` (argument checks), :mod:`.ids` (id text <-> bytes), :mod:`.resolve` (ids or keys
-> ids), :mod:`.edges` (adjacency reads), :mod:`.walk` (BFS/DFS/shortest path over ids), :mod:`.writes`
(edge changes through the entity write path) and :mod:`.service` (the :class:`~.service.Graph` facade that
:class:`rem_db.Database` delegates to). Nothing is imported here, so the entity engine can import
:mod:`.resolve` without a cycle.
"""
