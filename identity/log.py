"""pysaml2 and djangosaml2 log what they handle: the NameID and unknown attributes (with their
values) at INFO, the whole assertion when its signature fails, djangosaml2 the session info with
every attribute. A NameID or an attribute can be a personnummer. The console handler
(``config.settings.LOGGING``) passes their records through ``SamlLibraryFilter``."""

import logging

LIBRARIES = frozenset({"saml2", "djangosaml2"})


class SamlLibraryFilter(logging.Filter):
    """For the SAML libraries' records: nothing below WARNING, and of the rest only the message
    template (``"Failed to verify signature on '%s'"``) and the exception's class, never the values
    or the exception's text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] not in LIBRARIES:
            return True
        if record.levelno < logging.WARNING:
            return False
        if record.args:
            record.msg, record.args = f"{record.msg} [values withheld]", ()
        if record.exc_info:
            kind = record.exc_info[0].__name__ if record.exc_info[0] else "exception"
            record.msg, record.exc_info, record.exc_text = f"{record.msg} ({kind})", None, None
        return True
