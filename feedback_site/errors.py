"""Domain errors: a use-case refused by a rule of the product.

Services raise them; each carries a stable, machine-readable ``code``, a
sentence for people (its text), and the HTTP status the API answers with. The
API translates them in one place (feedback_site.api.errors.exception_handler),
the learner pages in one place too (submissions.views.shows_refusals). Bad
input field by field stays Django's ValidationError (400, ``invalid``).
"""


class DomainError(Exception):
    code = "conflict"
    http_status = 409  # the object's state does not allow this

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
