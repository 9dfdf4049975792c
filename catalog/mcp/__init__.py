"""`meshwork mcp`: the mesh served over the Model Context Protocol, so an AI assistant searches, describes and
queries the mesh as the person it works for, with that person's masking, restrictions and grants.

An entry point like `cli/`: it resolves who is calling (`caller.py`), hands each tool call to the facade's
viewer-aware calls and the governed `Session` (`tools.py`, `resources.py`), and wires them into the official
`mcp` SDK over stdio and streamable HTTP (`server.py`, `http.py`). It computes nothing the library does not.
"""
