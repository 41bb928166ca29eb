"""The desk's board: a web page over the ticket register (``pbxdiag serve``, docs/board.md).

``app`` builds the ASGI application, ``auth`` keeps sessions, CSRF tokens and the login
rate limit, ``users`` the users file (argon2 hashes, hashed API tokens), ``views`` turns
register records into sorted rows, ``actions`` the forms into register calls, ``api`` the
JSON endpoints. Needs the ``board`` extra (Starlette, uvicorn, argon2-cffi).
"""
