"""How a take ends when its provider can't help: the words shown, and one path to failure.

Every step catches the same family: ``ProviderError`` (calls.client turns an
endpoint that can't be used into one). Retryable and OutcomeUnknown are caught
first where a step can wait; whatever is left ends the take through ``fail``.
"""

from studio.models import Status
from studio.providers.base import ProviderError
from studio.takes import end

REFUSED_MESSAGE = (
    "The provider's moderation refused this shot ({detail}). Common reasons: real people, "
    "copyrighted characters, violence. Rephrase it and try again; nothing was charged."
)
FAILED_MESSAGE = "The provider couldn't render this take ({detail}). Nothing was charged."
EXPIRED_MESSAGE = (
    "The provider deleted the video before Slate could copy it. Nothing was charged; "
    "generate it again."
)
UNKNOWABLE_MESSAGE = (
    "The provider never answered the request to start this take, and it can't be asked "
    "whether the job began. So that it isn't paid for twice, Slate did not send it again: "
    "check the provider's dashboard, and generate it again if nothing is there. Nothing "
    "was charged here."
)


def fail(
    take_id: int,
    owner: str | None,
    error: ProviderError,
    *,
    message: str = FAILED_MESSAGE,
    code: str = "",
) -> bool:
    """End the take as failed with the provider's words in ``message`` ({detail})."""
    return end(
        take_id,
        Status.FAILED,
        message.format(detail=error.message),
        code or error.code,
        owner=owner,
    )


def refuse(take_id: int, owner: str | None, detail: str, code: str) -> bool:
    return end(take_id, Status.REFUSED, REFUSED_MESSAGE.format(detail=detail), code, owner=owner)


def expire(take_id: int, owner: str | None) -> bool:
    return end(take_id, Status.EXPIRED, EXPIRED_MESSAGE, "expired", owner=owner)
