"""A submission's syntax, checked in the web process before it is sent to a grader.

`compile()` only parses and translates the text to bytecode; nothing of it runs, so this is safe on the
platform side (the sandbox is for running code). It answers a syntax error in milliseconds, with its line
and column, instead of a sandbox round trip that would end in a runtime-exception verdict. The text is
already capped in size by `validate_code`; a parser that gives up on pathological nesting (RecursionError,
MemoryError) is told as such, since the sandbox's Python, the same version, would give up the same way.
"""

import warnings

from django.utils.translation import gettext as _

from huashen.errors import DomainError

SOLUTION_FILE = "solution.py"


class SyntaxProblem(DomainError):
    """A 400 `syntax_error` whose error body also carries `line` and `column` (1-based, or null)."""

    def __init__(self, message: str, *, line: int | None, column: int | None) -> None:
        super().__init__("syntax_error", message, "code", status=400)
        self.line = line
        self.column = column

    def as_body(self) -> dict[str, object]:
        body = super().as_body()
        body["error"].update({"line": self.line, "column": self.column})
        return body


def _problem(error: SyntaxError) -> SyntaxProblem:
    line = error.lineno if isinstance(error.lineno, int) and error.lineno > 0 else None
    column = error.offset if isinstance(error.offset, int) and error.offset > 0 else None
    reason = error.msg or type(error).__name__
    if line is None:
        message = _("语法错误：%(reason)s") % {"reason": reason}
    else:
        message = _("第 %(line)d 行第 %(column)d 列有语法错误：%(reason)s") % {
            "line": line,
            "column": column or 1,
            "reason": reason,
        }
    return SyntaxProblem(message, line=line, column=column)


def check_syntax(code: str) -> None:
    """Raise SyntaxProblem when `code` (already size-checked text) is not valid Python."""
    try:
        with warnings.catch_warnings():
            # SyntaxWarnings ("is" with a literal, invalid escapes) are the student's business, and the
            # run shows them; here they would only go to the web server's log.
            warnings.simplefilter("ignore")
            compile(code, SOLUTION_FILE, "exec", dont_inherit=True)
    except SyntaxError as error:  # IndentationError and TabError too
        raise _problem(error) from None
    except (RecursionError, MemoryError):
        raise SyntaxProblem(_("代码嵌套太深，Python 无法编译它。"), line=None, column=None) from None
    except ValueError as error:  # e.g. source holding NUL bytes: validate_code refuses those first
        raise SyntaxProblem(
            _("语法错误：%(reason)s") % {"reason": str(error)}, line=None, column=None
        ) from None
