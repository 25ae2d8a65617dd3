"""A page form sent twice records once (domain/submissions): the token forms carry, and the
redirect a second sending gets.

A form that records something carries
`<input type="hidden" name="form_token" value="{{ form_token() }}">`. The token is
new when the form is first shown and kept when the form comes back with errors, so the
sending that finally succeeds is the one the token stands for.
"""

from __future__ import annotations

from flask import redirect, request
from werkzeug.wrappers import Response

from domain.context import Context
from domain.submissions import service as submissions

FIELD = "form_token"
ALREADY = "This form had been sent already, so nothing was recorded twice: here is its result"


def sent_token() -> str | None:
    """The token the form being handled carried (None when it carried none we gave)."""
    return submissions.usable(request.form.get(FIELD))


def form_token() -> str:
    """The form's token: the one sent back with errors, or a new one."""
    return sent_token() or submissions.new_token()


def earlier_result(ctx: Context, token: str | None) -> Response | None:
    """A redirect to the first sending's result, if this form was sent before."""
    from web.pages.session import notify  # the pages import this module

    path = submissions.result_of(ctx, token)
    if path is None:
        return None
    notify("important", ALREADY)
    return redirect(path)
