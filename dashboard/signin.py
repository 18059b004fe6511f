"""Signing in to the dashboard, served by the dashboard's own web server (not by a page script).

The sign-in form is a plain HTML page at ``/signin``, posted back to the server, so the session
cookie is set by the server's response: ``HttpOnly`` (no script on any page can read it),
``SameSite=Strict`` (another site cannot send it), ``Secure`` when the request came over HTTPS,
valid for the session's lifetime (:data:`credgraph.security.users.SESSION_S`). The form works
without JavaScript, and the browser holds the cookie before the first page loads: there is no
window in which a page is signed in but a reload is not.

* :class:`SignInGate` sends a browser that asks for a page without a valid session to
  ``/signin?next=PAGE``; Streamlit's own files (scripts, styles, components) are not pages.
  The page script checks the session again (:func:`credgraph.dashboard.auth.login_gate`).
* ``POST /signin`` checks the password (argon2, rate-limited per user name) and records
  ``login`` or ``login_failed`` in the audit log. The form carries a one-use token that must
  match a cookie set with the form, so another site cannot sign a browser in.
* ``GET /signout`` ends the session on the server and clears the cookie.

Messages are the ones the users module gives (``wrong user name or password``, ``too many
failed logins for 'NAME': try again in N s``), never a stack trace.
"""

from __future__ import annotations

import functools
import hmac
import html
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["SIGNIN_PATH", "SIGNOUT_PATH", "SignInGate", "routes", "safe_next"]

SIGNIN_PATH = "/signin"
SIGNOUT_PATH = "/signout"
#: Cookie holding the sign-in form's one-use token (double-submit check).
FORM_COOKIE = "credgraph_signin"
#: Paths that are Streamlit's own machinery or files, never a page.
_NOT_PAGES = ("/_stcore/", "/static/", "/component/", "/media/", "/app/static/")


@functools.lru_cache(maxsize=1)
def _config():
    from credgraph.dashboard.data import config_from_env

    return config_from_env()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (no scheme, host or ``//``),
    else ``/``.

    >>> safe_next("/profile?id=L1"), safe_next("https://evil.example/"), safe_next("//evil.example")
    ('/profile?id=L1', '/', '/')
    """
    target = (target or "").strip()
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or "\\" in target or parts.scheme or parts.netloc:
        return "/"
    return target


def is_page(path: str) -> bool:
    """True when ``path`` is a dashboard page (what a browser navigates to), not a file.

    >>> [is_page(p) for p in ("/", "/profile", "/static/js/main.js", "/favicon.png", "/_stcore/health")]
    [True, True, False, False, False]
    """
    if path in (SIGNIN_PATH, SIGNOUT_PATH) or path.startswith(_NOT_PAGES):
        return False
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.endswith(".html")


def _audit(cfg, actor: str, action: str, **detail: Any) -> str | None:
    """Record an audit event; the reason when the log cannot be written (then nobody is signed in)."""
    from credgraph.security.audit import AuditError, record

    try:
        record(cfg, actor=actor, action=action, **detail)
    except AuditError as exc:
        return f"the audit log cannot be written, so nobody can sign in: {exc}"
    return None


def _cookie(name: str, value: str, max_age: int, secure: bool) -> str:
    flags = f"; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    return f"{name}={value}{flags}"


class SignInGate:
    """ASGI middleware: a page request without a valid session cookie is sent to the sign-in form."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") and is_page(scope.get("path", "/")):
            from starlette.requests import Request
            from starlette.responses import RedirectResponse

            from credgraph.dashboard.auth import COOKIE
            from credgraph.security.users import session_user

            request = Request(scope)
            if session_user(_config(), request.cookies.get(COOKIE)) is None:
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"{SIGNIN_PATH}?next={quote(here, safe='')}", status_code=303)
                response.headers["Cache-Control"] = "no-store"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>credgraph · sign in 登录</title>
<style>
body {{ font-family: "Source Sans Pro", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; background: #f6f7f9;
       color: #262730; margin: 0; }}
main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 0.5rem;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.4rem; margin: 0 0 1.2rem; }}
label {{ display: block; margin: 0.8rem 0 0.2rem; font-size: 0.9rem; }}
input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: 0.5rem; font-size: 1rem;
       border: 1px solid #c9ccd3; border-radius: 0.3rem; }}
button {{ margin-top: 1.2rem; padding: 0.5rem 1.2rem; font-size: 1rem; border: 1px solid #c9ccd3;
       border-radius: 0.3rem; background: #fff; cursor: pointer; }}
.error {{ background: #fde8e8; color: #7d1a1a; padding: 0.6rem 0.8rem; border-radius: 0.3rem; margin-bottom: 0.8rem; }}
.note {{ color: #6b6f76; font-size: 0.85rem; margin-top: 1.2rem; }}
</style></head>
<body><main>
<h1>credgraph · sign in 登录</h1>
{error}
<form method="post" action="{action}">
<input type="hidden" name="form_token" value="{form_token}">
<label for="user">user 用户名</label>
<input type="text" id="user" name="user" autocomplete="username" value="{user}" required>
<label for="password">password 密码</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in 登录</button>
</form>
<p class="note">{note}</p>
</main></body></html>
"""


def _form(request, error: str = "", user: str = "", status: int = 200):
    from starlette.responses import HTMLResponse

    from credgraph.security.users import list_users

    token = secrets.token_urlsafe(24)
    nxt = safe_next(request.query_params.get("next"))
    note = ("no users yet: an administrator adds one with <code>credgraph users add NAME --role admin</code>"
            if not list_users(_config()) else
            "ask an administrator for an account: <code>credgraph users add NAME --role investigator</code>")
    body = _PAGE.format(
        error=f'<div class="error" role="alert">{html.escape(error)}</div>' if error else "",
        action=html.escape(f"{SIGNIN_PATH}?next={quote(nxt, safe='')}"), form_token=token,
        user=html.escape(user), note=note)
    response = HTMLResponse(body, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.append("Set-Cookie", _cookie(FORM_COOKIE, token, 3600, request.url.scheme == "https"))
    return response


def _show(request):
    """GET /signin: the form."""
    return _form(request)


async def _submit(request):
    """POST /signin: check the form token and the password; on success set the session cookie and go on."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    from credgraph.dashboard.auth import COOKIE
    from credgraph.security.users import LoginRefused, UserError, authenticate, end_session, new_session

    form = await request.form()
    name = str(form.get("user") or "").strip()[:64]
    sent, expected = str(form.get("form_token") or ""), request.cookies.get(FORM_COOKIE) or ""
    if not expected or not hmac.compare_digest(sent, expected):
        return _form(request, "the sign-in form expired: please sign in again", name, status=400)
    cfg = _config()
    try:
        role = await run_in_threadpool(authenticate, cfg, name, str(form.get("password") or ""))
        token = new_session(cfg, name)
    except LoginRefused as exc:
        problem = _audit(cfg, f"user:{name}", "login_failed", reason=str(exc))
        status = 429 if "too many" in str(exc) else 401
        return _form(request, problem or str(exc), name, status=503 if problem else status)
    except UserError as exc:
        return _form(request, str(exc), name, status=400)
    problem = _audit(cfg, name, "login", role=role)
    if problem:
        end_session(cfg, token)
        return _form(request, problem, name, status=503)
    secure = request.url.scheme == "https"
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers.append("Set-Cookie", _cookie(COOKIE, token, _session_seconds(), secure))
    response.headers.append("Set-Cookie", _cookie(FORM_COOKIE, "", 0, secure))
    return response


def _signout(request):
    """GET /signout: end the session on the server, clear the cookie, back to the form."""
    from starlette.responses import RedirectResponse

    from credgraph.dashboard.auth import COOKIE
    from credgraph.security.users import end_session, session_user

    cfg = _config()
    token = request.cookies.get(COOKIE)
    user = session_user(cfg, token)
    end_session(cfg, token)
    if user:
        _audit(cfg, user[0], "logout")
    response = RedirectResponse(SIGNIN_PATH, status_code=303)
    response.headers.append("Set-Cookie", _cookie(COOKIE, "", 0, request.url.scheme == "https"))
    return response


def _session_seconds() -> int:
    from credgraph.security.users import SESSION_S

    return int(SESSION_S)


def routes() -> list:
    """The sign-in and sign-out routes, for the dashboard's ``st.App``."""
    from starlette.routing import Route

    return [Route(SIGNIN_PATH, _show, methods=["GET"]), Route(SIGNIN_PATH, _submit, methods=["POST"]),
            Route(SIGNOUT_PATH, _signout, methods=["GET"])]
