"""Email notifications from the outbox: recipients, wording, senders (SMTP or GOV.UK Notify)."""
