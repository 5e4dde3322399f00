"""The owner's web pages: server-rendered HTML over the same functions as the API.

:func:`rms.web.app.install_web` is the one call the app factory makes. Pages are Jinja2 templates
rendered on the server; forms are real HTML forms (POST, then a redirect), so everything
works without JavaScript, and the one small script (:file:`static/rms.js`) only adds a
live counter to the waking page. Styles and that script are ours, served from
``/static/``; the API docs' assets come from the installed ``fastapi-offline`` package
(:mod:`rms.web.docs`), never from a CDN.
"""
