"""`huashen`: the command-line client of the Huashen platform.

It speaks only the public HTTP API (`/api/v1/`) and the submission WebSocket, with an API token; it
imports nothing of the server (no Django), so it installs and runs on a student's own machine.
"""
