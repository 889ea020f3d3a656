"""JSON in, with a bound on nesting.

Python's decoder recurses once per level: a body of a hundred thousand ``[``
raises ``RecursionError`` (not ``ValueError``), which DRF does not expect, and
a body a few hundred levels deep parses but makes everything after it that
walks the value recursively (validation, error flattening, the idempotency
fingerprint) fail instead. No request of this API is more than a few levels
deep, so anything deeper than ``MAX_DEPTH`` is refused as a parse error."""
import json

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

MAX_DEPTH = 32


class TooDeep(ValueError):
    pass


def _check_depth(value) -> None:
    # Iterative: a check that recursed would fail the way it guards against.
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def loads(text, *, parse_constant=None):
    """``json.loads`` that raises ``ValueError`` (``TooDeep``) for nesting past ``MAX_DEPTH``."""
    try:
        value = json.loads(text, parse_constant=parse_constant)
    except RecursionError:
        raise TooDeep("nested too deeply") from None
    _check_depth(value)
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            return loads(stream.read().decode(encoding),
                         parse_constant=drf_json.strict_constant if self.strict else None)
        except TooDeep:
            raise ParseError(_("The JSON body is nested too deeply (at most %(depth)d levels).")
                             % {"depth": MAX_DEPTH}) from None
        except UnicodeDecodeError:
            raise ParseError(_("The body is not valid %(encoding)s text.") % {"encoding": encoding}) from None
        except json.JSONDecodeError as exc:
            # Where, not the decoder's English words: the message follows Accept-Language.
            raise ParseError(_("The body is not valid JSON (line %(line)d, column %(column)d).")
                             % {"line": exc.lineno, "column": exc.colno}) from None
        except ValueError:
            raise ParseError(_("The body is not valid JSON.")) from None
