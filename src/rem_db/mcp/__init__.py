"""The MCP server (SPEC §17): a REM database as memory for AI agents over the Model Context Protocol."""
