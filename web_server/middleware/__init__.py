"""Pure ASGI middleware of the web server: browser protections, request-body limits before parsing."""
