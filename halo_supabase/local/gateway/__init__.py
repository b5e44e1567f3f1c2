"""One gateway on HALO_API_PORT serving /rest/v1, /auth/v1, /realtime/v1, /storage/v1, /functions/v1.

Each service is an ASGI app registered by path prefix in `app.py`; they share the JWT handling in
`credentials.py`, the database pools in `db.py` and the HTTP plumbing in `http.py`.
"""
