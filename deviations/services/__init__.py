"""Writes: every way a report and what hangs on it can change, one module per topic (Zulip's
``zerver/actions/``). Keyword-only arguments, one transaction per use case; refusals are
``config.errors`` (``NotAllowed``, ``Invalid``, ``Conflict``). Import from the topic module:

- ``reporting``: the reporter's journey: the rules a new report meets, submit and confirm.
- ``transitions``: the state machine applied (``apply_transition``), its side effects and the event log.
- ``assignment``: who handles a report.
- ``notes``: internal notes and notes the reporter sees.
- ``responses``: response requests to counterpart organisations, their answers and reminders.
- ``systemic``: systemic issues, their decided actions and linked reports.
- ``routing``: which council a report goes to, and its reference number.
- ``retention``: erasing reporters' contact details and purging unconfirmed reports.
- ``access``: the access log of detail pages.

Reads live in ``deviations.selectors``.
"""
