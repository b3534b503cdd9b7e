"""A person's own account: their email address (the password views are Django's own)."""

from django.db import transaction


@transaction.atomic
def change_email(user, email: str) -> None:
    """Set the address password resets go to (the form has checked their password)."""
    user.email = email
    user.save(update_fields=["email"])
