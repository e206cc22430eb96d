"""Response headers that keep what a user sees to that user, and keep the
browser from doing anything the app did not ask for."""

# The page needs only its own stylesheet and form posts to itself: no
# script, no inline style, nothing from another origin, no framing.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])

# Sent with every response, HTML, JSON, static files and errors alike.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Never guess a type other than the one sent (a JSON answer holding
    # user data must never be run as HTML or script).
    "X-Content-Type-Options": "nosniff",
    # For browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def register_security_headers(app):
    app.after_request(add_security_headers)
    app.after_request(keep_pages_private)


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def keep_pages_private(response):
    """Every HTML page uses the session (CSRF tokens, flash messages), so no
    shared cache may store one, or it could hand one user's page and session
    cookie to the next. Flask 1.1 does not add Vary: Cookie when a request
    uses the session (CVE-2023-30861, fixed in Flask 2.2.5 and 2.3.2); this
    does, on both stacks, and forbids storing the page at all.

    (Asking `session.accessed` would not do: on Flask 3 reading it through
    the proxy marks the session accessed.) The JSON API never uses the
    session and is left alone.
    """
    if response.mimetype == "text/html":
        response.vary.add("Cookie")
        response.cache_control.private = True
        response.cache_control.no_store = True
    return response
