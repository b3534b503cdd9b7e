"""Team pages: invites, the members page, workspace settings, and account pages."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from studio import access, usage
from studio import budgets as caps
from studio.budgets import BudgetInvalid
from studio.forms import SignupForm
from studio.models import Membership, Role
from studio.money import CurrencyInvalid

from . import accounts, audit, budgets, invites, members, notifications
from .forms import (
    ChangeEmailForm,
    InviteEmailForm,
    InviteLinkForm,
    NotificationPreferenceForm,
    RoleForm,
    WorkspaceForm,
)
from .models import Refused


def _address(request) -> str | None:
    """The client's address as the server saw it (behind a proxy: as the proxy passes it)."""
    return request.META.get("REMOTE_ADDR") or None


def _owner(request, slug: str, what: str) -> Membership:
    """The user's membership of ``slug`` if they own it: 404 to outsiders, and 403 to other
    members saying what only owners may do."""
    membership = access.get_membership(request.user, slug)
    invites.require_owner(membership, what)
    return membership


def _base(request) -> str:
    return settings.SLATE_PUBLIC_URL or request.build_absolute_uri("/")


def _members_page(request, membership: Membership, status: int = 200, **forms) -> HttpResponse:
    workspace = membership.workspace
    is_owner = membership.role == Role.OWNER
    context = {
        "workspace": workspace,
        "membership": membership,
        "is_owner": is_owner,
        "people": members.members_of(workspace),
        "roles": Role.choices,
        "link_form": forms.get("link_form") or InviteLinkForm(),
        "email_form": forms.get("email_form") or InviteEmailForm(),
        "settings_form": forms.get("settings_form")
        or WorkspaceForm(
            initial={
                "name": workspace.name,
                "slug": workspace.slug,
                "currency": workspace.currency,
                "rate": f"{workspace.rate.normalize():f}",
            }
        ),
        "invites": [(i, invites.invite_url(i, _base(request))) for i in invites.pending(workspace)]
        if is_owner
        else [],
    }
    return render(request, "teams/members.html", context, status=status)


@login_required
@require_safe
def members_page(request, slug: str) -> HttpResponse:
    """Every member sees who is in the workspace; only owners see controls and invites."""
    return _members_page(request, access.get_membership(request.user, slug))


@login_required
@require_POST
def create_link(request, slug: str) -> HttpResponse:
    membership = _owner(request, slug, "invite people")
    form = InviteLinkForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            invites.create_invite(
                membership.workspace,
                by=membership,
                role=data["role"],
                expires_in=timedelta(days=data["days"]),
                uses=data["uses"],
                address=_address(request),
            )
        except Refused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Invite link made: copy it from Open invites below.")
            return redirect("teams:members", slug=slug)
    return _members_page(request, membership, status=400, link_form=form)


@login_required
@require_POST
def create_email_invite(request, slug: str) -> HttpResponse:
    membership = _owner(request, slug, "invite people")
    form = InviteEmailForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            invites.email_invite(
                membership.workspace,
                by=membership,
                email=data["email"],
                role=data["role"],
                expires_in=timedelta(days=data["days"]),
                base=_base(request),
                address=_address(request),
            )
        except Refused as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"Invite sent to {data['email']}; its link is also under Open invites."
            )
            return redirect("teams:members", slug=slug)
    return _members_page(request, membership, status=400, email_form=form)


@login_required
@require_POST
def revoke_invite(request, slug: str, invite_id: int) -> HttpResponse:
    membership = _owner(request, slug, "withdraw invites")
    if invites.revoke(membership, invite_id, _address(request)):
        messages.success(request, "Invite withdrawn: its link no longer works.")
    return redirect("teams:members", slug=slug)


def _invite_page(request, token: str, *, form=None, problem: str = "", status: int = 200):
    invite = invites.find(token)
    problem = problem or invites.problem(invite)
    member = (
        invite is not None
        and request.user.is_authenticated
        and invites.already_member(invite, request.user)
    )
    if problem and invite is None:
        status = 404
    elif problem and status == 200:
        status = 410
    context = {
        "invite": invite,
        "token": token,
        "problem": problem,
        "member": member,
        "form": form or SignupForm(initial={"email": invite.email if invite else ""}),
    }
    return render(request, "teams/invite.html", context, status=status)


@require_safe
def invite(request, token: str) -> HttpResponse:
    """What an invite offers: join (logged in), or sign up or log in first."""
    return _invite_page(request, token)


@login_required
@require_POST
def accept_invite(request, token: str) -> HttpResponse:
    try:
        membership = invites.accept(token, request.user, _address(request))
    except Refused as error:
        return _invite_page(request, token, problem=str(error), status=409)
    messages.success(request, f"Welcome to {membership.workspace.name}.")
    return redirect("workspace", slug=membership.workspace.slug)


@require_http_methods(["POST"])
def invite_signup(request, token: str) -> HttpResponse:
    """Sign up through an invite: open even when SLATE_OPEN_SIGNUP is off (an owner asked)."""
    if request.user.is_authenticated:
        return redirect("teams:invite", token=token)
    form = SignupForm(request.POST)
    if not form.is_valid():
        return _invite_page(request, token, form=form, status=400)
    try:
        user, membership = invites.sign_up_and_accept(token, form, _address(request))
    except Refused as error:
        return _invite_page(request, token, form=form, problem=str(error), status=409)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Welcome to {membership.workspace.name}.")
    return redirect("workspace", slug=membership.workspace.slug)


def _done(request, slug: str, action, success: str) -> HttpResponse:
    """Run an owner's change; its refusal or success is the message on the members page."""
    try:
        action()
    except Refused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect("teams:members", slug=slug)


@login_required
@require_POST
def change_role(request, slug: str, member_id: int) -> HttpResponse:
    membership = _owner(request, slug, "change roles")
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: owner, editor or viewer.")
        return redirect("teams:members", slug=slug)
    role = form.cleaned_data["role"]
    return _done(
        request,
        slug,
        lambda: members.change_role(
            membership.workspace, member_id, role, by=membership, address=_address(request)
        ),
        "Role changed.",
    )


@login_required
@require_POST
def remove_member(request, slug: str, member_id: int) -> HttpResponse:
    membership = _owner(request, slug, "remove members")
    return _done(
        request,
        slug,
        lambda: members.remove(membership, member_id, _address(request)),
        "Removed: their open pages of this workspace have closed.",
    )


@login_required
@require_POST
def transfer(request, slug: str, member_id: int) -> HttpResponse:
    membership = _owner(request, slug, "transfer ownership")
    return _done(
        request,
        slug,
        lambda: members.transfer_ownership(membership, member_id, _address(request)),
        "Ownership transferred: you are now an editor.",
    )


@login_required
@require_POST
def leave(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    try:
        members.leave(membership, _address(request))
    except Refused as error:
        messages.error(request, str(error))
        return redirect("teams:members", slug=slug)
    messages.success(request, f"You left {membership.workspace.name}.")
    return redirect("home")


@login_required
@require_POST
def workspace_settings(request, slug: str) -> HttpResponse:
    membership = _owner(request, slug, "change the workspace's settings")
    form = WorkspaceForm(request.POST)
    if form.is_valid():
        try:
            workspace = members.rename(
                membership,
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                currency=form.cleaned_data["currency"],
                rate=form.cleaned_data["rate"],
                address=_address(request),
            )
        except CurrencyInvalid as error:
            form.add_error(error.field, str(error))
        except Refused as error:
            form.add_error("slug", str(error))
        else:
            messages.success(request, "Settings saved.")
            return redirect("teams:members", slug=workspace.slug)
    return _members_page(request, membership, status=400, settings_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def account(request) -> HttpResponse:
    """The signed-in person's account: their email, and a way to their password."""
    form = ChangeEmailForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.change_email(request.user, form.cleaned_data["email"])
        messages.success(request, "Email saved: password resets go there now.")
        return redirect("teams:account")
    status = 400 if request.method == "POST" else 200
    return _account_page(request, form=form, status=status)


def _account_page(request, *, form=None, prefs_form=None, status: int = 200) -> HttpResponse:
    if form is None:
        form = ChangeEmailForm(request.user)
    if prefs_form is None:
        prefs_form = NotificationPreferenceForm(instance=notifications.preferences(request.user))
    context = {"form": form, "prefs_form": prefs_form}
    return render(request, "teams/account/account.html", context, status=status)


@login_required
@require_POST
def notification_preferences(request) -> HttpResponse:
    form = NotificationPreferenceForm(request.POST)
    if not form.is_valid():
        return _account_page(request, prefs_form=form, status=400)
    choices = {name: form.cleaned_data[name] for name in notifications.PREFERENCES}
    notifications.set_preferences(request.user, **choices)
    if choices["email_long_takes"] and not request.user.email:
        messages.warning(
            request, "Saved, but your account has no email address yet: add one on this page."
        )
    else:
        messages.success(request, "Notification settings saved.")
    return redirect("teams:account")


@login_required
@require_safe
def notifications_page(request) -> HttpResponse:
    """The person's notifications from every workspace they are in, newest first."""
    found = notifications.page(request.user, request.GET.get("page"))
    context = {"page": found, "keep_days": settings.SLATE_NOTIFICATIONS_KEEP_DAYS}
    return render(request, "teams/notifications.html", context)


@login_required
@require_safe
def open_notification(request, notification_id: int) -> HttpResponse:
    """Opening a notification marks it read and goes where it points."""
    note = notifications.find(request.user, notification_id)
    if note is None:
        raise Http404("No such notification")
    notifications.mark_read(note)
    if note.link and url_has_allowed_host_and_scheme(note.link, allowed_hosts=None):
        return redirect(note.link)
    return redirect("teams:notifications")


@login_required
@require_POST
def mark_all_read(request) -> HttpResponse:
    marked = notifications.mark_all_read(request.user)
    if marked:
        messages.success(request, f"Marked {marked} notification{pluralize(marked)} read.")
    return redirect("teams:notifications")


@login_required
@require_safe
def audit_log(request, slug: str) -> HttpResponse:
    """Owners read who changed the team, when, and from where."""
    membership = _owner(request, slug, "read the audit log")
    context = {
        "workspace": membership.workspace,
        "entries": audit.entries(membership.workspace),
        "page_size": audit.AUDIT_PAGE,
    }
    return render(request, "teams/audit.html", context)


@login_required
@require_safe
def audit_csv(request, slug: str) -> HttpResponse:
    """The whole log as CSV, streamed (it only grows)."""
    membership = _owner(request, slug, "read the audit log")
    rows = audit.entries(membership.workspace, limit=None).iterator()
    response = StreamingHttpResponse(audit.csv_lines(rows), content_type="text/csv")
    name = f"slate-{membership.workspace.slug}-audit.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _budget_page(request, membership: Membership, status: int = 200, **extra) -> HttpResponse:
    workspace = membership.workspace
    context = {
        "workspace": workspace,
        "membership": membership,
        "is_owner": membership.role == Role.OWNER,
        **caps.overview(workspace),
        **extra,
    }
    context.setdefault("typed", {})
    return render(request, "teams/budget.html", context, status=status)


@login_required
@require_safe
def budget_page(request, slug: str) -> HttpResponse:
    """The month's caps, spend and alerts: every member sees them, owners change them."""
    return _budget_page(request, access.get_membership(request.user, slug))


@login_required
@require_POST
def budget_save(request, slug: str) -> HttpResponse:
    membership = _owner(request, slug, "change the budget")
    typed = {name: request.POST.get(name, "") for name in ("monthly", "thresholds", "time_zone")}
    try:
        budgets.change_budget(
            membership.workspace, by=membership, address=_address(request), **typed
        )
    except BudgetInvalid as error:
        return _budget_page(request, membership, status=400, error=str(error), typed=typed)
    messages.success(request, "Budget saved.")
    return redirect("teams:budget", slug=slug)


@login_required
@require_POST
def member_cap(request, slug: str, member_id: int) -> HttpResponse:
    membership = _owner(request, slug, "change the budget")
    member = membership.workspace.memberships.select_related("user").filter(pk=member_id).first()
    if member is None:
        raise Http404("No such member.")
    try:
        budgets.change_member_cap(
            membership.workspace,
            member.user,
            request.POST.get("monthly", ""),
            by=membership,
            address=_address(request),
        )
    except BudgetInvalid as error:
        return _budget_page(
            request, membership, status=400, member_error=str(error), error_member=member.pk
        )
    messages.success(request, f"Cap for {member.user.get_username()} saved.")
    return redirect("teams:budget", slug=slug)


def _month(request, membership: Membership):
    """The month asked for (?month=YYYY-MM), this month without one; BudgetInvalid if bad."""
    budget = caps.budget_for(membership.workspace)
    return caps.month_of(budget, key=request.GET.get("month", "")), budget


@login_required
@require_safe
def usage_page(request, slug: str) -> HttpResponse:
    """A month's spend per day (stacked by model), per member, per model and status."""
    membership = access.get_membership(request.user, slug)
    try:
        month, budget = _month(request, membership)
    except BudgetInvalid as error:
        month, budget = caps.month_of(caps.budget_for(membership.workspace)), None
        messages.error(request, str(error))
        status = 400
    else:
        status = 200
    context = {
        "workspace": membership.workspace,
        "report": usage.report(membership.workspace, month),
        "before": caps.month_before(month, budget),
        "after": caps.month_after(month, budget),
    }
    if context["after"].start > caps.month_of(budget).start:
        context["after"] = None  # no link into months that haven't begun
    return render(request, "teams/usage.html", context, status=status)


@login_required
@require_safe
def usage_csv(request, slug: str) -> HttpResponse:
    membership = access.get_membership(request.user, slug)
    try:
        month, _ = _month(request, membership)
    except BudgetInvalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    report = usage.report(membership.workspace, month)
    response = HttpResponse(usage.csv_text(report), content_type="text/csv")
    name = f"slate-{membership.workspace.slug}-usage-{month.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
