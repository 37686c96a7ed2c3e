"""Sign-in and account security pages, the same for staff and patients:
sign in (with optional TOTP), sign out, forgot password, set a password from
an emailed link, change password, two-factor enrolment."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from portal_gateway import web
from portal_gateway.access import (
    AREAS, anonymous_form, client_ip, forget_session, set_cookie, signed_in,
)

AREA = "<any(staff, portal):area>"
GENERIC_SIGN_IN_ERROR = ("That email and password do not match, or the account is locked for a "
                         "while. Try again later or reset your password.")
RESET_SENT = ("If an account uses that address, we have emailed it a link to set a new password. "
              "The link works for one hour.")


class AuthPages:

    @http("GET", f"/{AREA}/login")
    @anonymous_form
    def login_form(self, request, area, form_token):
        return self._auth_page("auth/login.html", area, form_token)

    @http("POST", f"/{AREA}/login")
    @anonymous_form
    def login(self, request, area, form_token):
        login = request.form.get("login", "").strip().lower()
        try:
            result = self.clients.sign_in(area, login, request.form.get("password", ""),
                                          client_ip(request))
        except RemoteError as error:
            if error.exc_type not in ("Unauthorized", "InvalidInput"):
                raise
            return self._auth_page("auth/login.html", area, form_token, status=401, login=login,
                                   error=GENERIC_SIGN_IN_ERROR)
        return self._signed_in_or_totp(area, form_token, result)

    @http("POST", f"/{AREA}/login/totp")
    @anonymous_form
    def login_totp(self, request, area, form_token):
        challenge = request.form.get("challenge", "")
        try:
            result = self.clients.complete_totp(challenge, request.form.get("code", "").strip(),
                                                client_ip(request))
        except RemoteError as error:
            if error.exc_type not in ("Unauthorized", "InvalidInput", "Gone"):
                raise
            return self._auth_page("auth/totp.html", area, form_token, status=401,
                                   challenge=challenge, error="That code is not right. Try again.")
        return self._signed_in_or_totp(area, form_token, result)

    @http("POST", "/staff/logout")
    @signed_in("staff")
    def staff_logout(self, request, session):
        return self._sign_out("staff", request)

    @http("POST", "/portal/logout")
    @signed_in("portal")
    def portal_logout(self, request, session):
        return self._sign_out("portal", request)

    @http("GET", f"/{AREA}/forgot")
    @anonymous_form
    def forgot_form(self, request, area, form_token):
        return self._auth_page("auth/forgot.html", area, form_token)

    @http("POST", f"/{AREA}/forgot")
    @anonymous_form
    def forgot(self, request, area, form_token):
        login = request.form.get("login", "").strip().lower()
        if "@" not in login:
            return self._auth_page("auth/forgot.html", area, form_token, status=400, login=login,
                                   error="Enter the email address you sign in with.")
        self.clients.request_password_reset(area, login, client_ip(request))
        return self._auth_page("auth/forgot.html", area, form_token, notice=RESET_SENT)

    @http("GET", f"/{AREA}/set-password/<token>")
    @anonymous_form
    def set_password_form(self, request, area, token, form_token):
        return self._set_password_page(area, token, form_token)

    @http("POST", f"/{AREA}/set-password/<token>")
    @anonymous_form
    def set_password(self, request, area, token, form_token):
        new, again = request.form.get("password", ""), request.form.get("password_again", "")
        if new != again:
            return self._set_password_page(area, token, form_token, status=400,
                                           error="The two passwords are not the same.")
        try:
            self.clients.set_password_with_token(token, new, client_ip(request))
        except RemoteError as error:
            if error.exc_type != "InvalidInput":
                return self._set_password_page(area, token, form_token)
            return self._set_password_page(area, token, form_token, status=400, error=error.value)
        return self._auth_page("auth/login.html", area, form_token,
                               notice="Your password is set. Sign in with it now.")

    # ---- account settings (signed in) ------------------------------------------
    @http("GET", "/staff/account")
    @signed_in("staff")
    def staff_account(self, request, session):
        return self._account_page("staff", session)

    @http("GET", "/portal/account")
    @signed_in("portal")
    def portal_account(self, request, session):
        return self._account_page("portal", session)

    @http("POST", "/staff/account/<action>")
    @signed_in("staff")
    def staff_account_action(self, request, session, action):
        return self._account_action("staff", request, session, action)

    @http("POST", "/portal/account/<action>")
    @signed_in("portal")
    def portal_account_action(self, request, session, action):
        return self._account_action("portal", request, session, action)

    # ---- helpers ----------------------------------------------------------------
    def _auth_page(self, template, area, form_token, status=200, **context):
        return web.page(template, status=status, area=area, form_token=form_token,
                        organization=self._organization(), **context)

    def _signed_in_or_totp(self, area, form_token, result):
        if result["status"] == "totp_required":
            return self._auth_page("auth/totp.html", area, form_token, challenge=result["challenge"])
        response = web.redirect(f"/{area}")
        set_cookie(self, response, AREAS[area], result["session"]["token"])
        return response

    def _sign_out(self, area, request):
        self.clients.end_session(request.cookies.get(AREAS[area]))
        forget_session(self, request, area)
        response = web.redirect(f"/{area}/login")
        response.delete_cookie(AREAS[area], path="/")
        return response

    def _set_password_page(self, area, token, form_token, status=200, error=None):
        try:
            link = self.clients.check_password_link(token)
        except RemoteError as failure:
            known = web.expected_error(failure)
            if not known:
                raise
            return self._auth_page("auth/link_unusable.html", area, form_token, status=known[0],
                                   message=known[1])
        return self._auth_page("auth/set_password.html", area, form_token, status=status,
                               token=token, link=link, error=error)

    def _account_page(self, area, session, status=200, **context):
        return web.page("auth/account.html", status=status, area=area, session=session,
                        organization=self._organization(), **context)

    def _account_action(self, area, request, session, action):
        token = request.cookies.get(AREAS[area])
        form = request.form
        try:
            if action == "password":
                if form.get("password") != form.get("password_again"):
                    raise ValueError("The two new passwords are not the same.")
                self.clients.change_password(token, form.get("current_password", ""),
                                             form.get("password", ""), client_ip(request))
                # every other session of the account has ended
                self._forget_sessions({"kind": area, "subject_id": session["subject_id"]})
                return self._account_page(area, session, notice="Your password has been changed.")
            if action == "totp-begin":
                enrolment = self.clients.totp_begin(token)
                return self._account_page(area, session, enrolment=enrolment)
            if action == "totp-confirm":
                self.clients.totp_confirm(token, form.get("code", "").strip())
                forget_session(self, request, area)
                return self._account_page(area, session, notice="Two-step sign-in is on.")
            if action == "totp-disable":
                self.clients.totp_disable(token, form.get("current_password", ""))
                forget_session(self, request, area)
                return self._account_page(area, session, notice="Two-step sign-in is off.")
        except ValueError as problem:
            return self._account_page(area, session, status=400, error=str(problem))
        except RemoteError as error:
            known = web.expected_error(error)
            if not known or error.exc_type not in ("InvalidInput", "Unauthorized"):
                raise
            message = ("Your current password is not right." if error.exc_type == "Unauthorized"
                       else known[1])
            return self._account_page(area, session, status=400, error=message)
        return web.error_page(404, "There is no such account setting.", session=session, area=area)
