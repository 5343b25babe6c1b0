"""Who is using the dashboard: login, logout, the session cookie, and CSRF checks.

- The session cookie holds only the session id (``MediatorStore.start_session``): HttpOnly, SameSite=Lax,
  Path=/dashboard, Secure when the request came over HTTPS (directly or per ``X-Forwarded-Proto``).
- Every dashboard route but the login page and the static files needs a live session: pages redirect to
  the login page, the JSON API and the event streams answer 401.
- Every POST carries the session's CSRF token, in the form field ``csrf_token`` or the header
  ``X-CSRF-Token``; missing or wrong: 403, and the handler does not run.
- The login form itself is protected by a pre-session token (double submit: a cookie and a form field
  that must match), so that no other site can log a browser in to an account of its choosing.
- The dashboard's language is the mediator's (``POST /dashboard/language``, kept on the account); the
  login page reads ``?lang=``, and logging in from a page in a chosen language keeps that choice.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiDictProxy
from yarl import URL

from bot.core.errors import InvalidInput
from bot.core.tickets import Mediator
from bot.web.clients import client_address, is_https
from bot.web.dashboard.attachments import FILE_ROUTES
from bot.web.dashboard.i18n import LANGUAGES, N_, QUERY
from bot.web.dashboard.keys import CSRF_TOKEN, MEDIATOR, SESSION_ID, THROTTLE
from bot.web.dashboard.responses import error_response, is_api, render, route_name, translator
from bot.web.keys import MEDIATION, MEDIATORS

log = logging.getLogger(__name__)

SESSION_COOKIE = "sportello_dashboard"
LOGIN_COOKIE = "sportello_dashboard_login"
COOKIE_PATH = "/dashboard"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/dashboard/login"
HOME_PATH = "/dashboard"
PUBLIC_ROUTES = frozenset({"login"})  # and the static files
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
MAX_TOKEN = 100  # our ids and tokens are 43 characters; anything much longer is not ours
ISSUED_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) makes
MAX_EMAIL, MAX_PASSWORD = 320, 1024


def see_other(location: str | URL) -> web.Response:
    return web.Response(status=303, headers={"Location": str(location)})


def _same(given: str | None, expected: str | None) -> bool:
    if not given or not expected or len(given) > MAX_TOKEN:
        return False
    # a cookie's invalid UTF-8 arrives as lone surrogates: compared as bytes, never an error
    return secrets.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a dashboard path of this site, never another site."""
    if not target or not target.startswith(HOME_PATH) or "\\" in target:
        return HOME_PATH
    url = URL(target)
    if url.is_absolute() or not (url.path == HOME_PATH or url.path.startswith(HOME_PATH + "/")):
        return HOME_PATH
    return target


def _form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The fields of a POST's form; a form that cannot be read (bytes not of the charset it names, an
    unknown charset, a broken multipart body) is a 400, never a 500."""
    try:
        return await request.post()
    except (ValueError, LookupError):  # UnicodeDecodeError is a ValueError
        raise web.HTTPBadRequest(text=translator(request)._("The form could not be read.")) from None


async def submitted_csrf_token(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in FORM_TYPES:
        return _form_value(await read_form(request), CSRF_FIELD) or None
    return None


async def current_session(request: web.Request) -> tuple[Mediator, str] | None:
    """The mediator and CSRF token of the request's session cookie, if it names a live session."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if not ISSUED_TOKEN.fullmatch(session_id):  # nothing else is looked up (invalid UTF-8 cannot even be)
        return None
    return await request.config_dict[MEDIATORS].session(session_id)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if isinstance(resource, web.StaticResource) or route_name(request) in PUBLIC_ROUTES:
        return await handler(request)
    found = await current_session(request)
    if found is None:
        if route_name(request).startswith(FILE_ROUTES):  # a user's file: refused, not a login page
            return error_response(request, 403, N_("Log in at /dashboard/login first."))
        if is_api(request):
            return error_response(request, 401, N_("Log in at /dashboard/login first."))
        target = request.path_qs if request.method in SAFE_METHODS else HOME_PATH
        return see_other(URL(LOGIN_PATH).with_query(next=target))
    mediator, csrf_token = found
    request[MEDIATOR], request[CSRF_TOKEN] = mediator, csrf_token
    request[SESSION_ID] = request.cookies[SESSION_COOKIE]
    if request.method not in SAFE_METHODS and not _same(await submitted_csrf_token(request), csrf_token):
        log.warning("dashboard: %s %s without a valid CSRF token", request.method, request.path)
        ticket_id = request.match_info.get("ticket_id")
        await request.config_dict[MEDIATION].refused(mediator, "csrf", ticket_id, client_address(request))
        return error_response(
            request,
            403,
            N_("The form has expired or did not come from the dashboard. Reload the page and try again."),
        )
    return await handler(request)


def _set_login_token(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        path=LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        max_age=3600,
    )


def _login_page(
    request: web.Request, status: int = 200, error: str = "", email: str = "", next_path: str = HOME_PATH
) -> web.Response:
    existing = request.cookies.get(LOGIN_COOKIE, "")
    # only a token we could have issued is sent back: anything else in the cookie is not echoed
    token = existing if ISSUED_TOKEN.fullmatch(existing) else secrets.token_urlsafe(32)
    shown_error = translator(request)._(error) if error else ""
    response = render(
        request,
        "login.html",
        {"login_token": token, "error": shown_error, "email": email, "next": next_path},
        status=status,
    )
    _set_login_token(request, response, token)
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if await current_session(request) is not None:
        return see_other(next_path)
    return _login_page(request, next_path=next_path)


async def login(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    next_path = safe_next(_form_value(form, "next"))
    if not _same(_form_value(form, CSRF_FIELD), request.cookies.get(LOGIN_COOKIE)):
        expired = N_("The login form has expired. Please try again.")
        return _login_page(request, 403, expired, next_path=next_path)
    email, password = _form_value(form, "email").strip(), _form_value(form, "password")
    throttle = request.config_dict[THROTTLE]
    if throttle.blocked(email):
        log.info("dashboard: login refused after repeated failures")
        await request.config_dict[MEDIATION].login_failed(client_address(request))
        message = N_("Too many failed attempts. Wait 15 minutes, or ask a coordinator.")
        return _login_page(request, 429, message, email=email, next_path=next_path)
    mediator = None
    if 0 < len(email) <= MAX_EMAIL and 0 < len(password) <= MAX_PASSWORD:
        mediator = await request.config_dict[MEDIATORS].authenticate(email, password)
    if mediator is None:
        throttle.failed(email)
        log.info("dashboard: a login failed")  # no e-mail in the log: people type passwords there
        await request.config_dict[MEDIATION].login_failed(client_address(request))
        wrong = N_("Wrong e-mail or password.")
        return _login_page(request, 401, wrong, email=email, next_path=next_path)
    throttle.succeeded(email)
    chosen = request.query.get(QUERY)
    if chosen in LANGUAGES and chosen != mediator.language:  # chosen on the login page: kept
        mediator = await request.config_dict[MEDIATORS].set_language(mediator.id, chosen)
    session_id, _ = await request.config_dict[MEDIATORS].start_session(mediator)
    await request.config_dict[MEDIATION].logged_in(mediator)
    response = see_other(next_path)
    response.set_cookie(
        SESSION_COOKIE, session_id, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=is_https(request)
    )
    response.del_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


async def choose_language(request: web.Request) -> web.StreamResponse:
    """The form in the page header: the dashboard in Italian or English, kept on the mediator's account."""
    form = await read_form(request)
    language = _form_value(form, "language")
    if language not in LANGUAGES:
        raise InvalidInput(N_("Choose Italian or English."))
    request[MEDIATOR] = await request.config_dict[MEDIATORS].set_language(request[MEDIATOR].id, language)
    return see_other(safe_next(_form_value(form, "next")))


async def logout(request: web.Request) -> web.StreamResponse:
    await request.config_dict[MEDIATORS].end_session(request[SESSION_ID])
    await request.config_dict[MEDIATION].logged_out(request[MEDIATOR])
    response = see_other(LOGIN_PATH)
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
